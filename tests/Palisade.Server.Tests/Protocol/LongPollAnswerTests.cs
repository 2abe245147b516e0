using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Server.Actions;
using Palisade.Server.Actions.Changes;
using Palisade.Server.Actions.Hosts;
using Palisade.Server.Responses;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// What a long poll leaves behind (issue 17, twenty-fourth session): a poll's task is made when it parks and is in
/// the collector's oldest generation when a change wakes it, so whatever its answer object references lived through
/// the join's collections after the poll had ended. The endpoint empties the object once the answer is rendered,
/// for an action that answers an object of its own (<see cref="IAsyncEcsAction.AnswersAnObjectOfItsOwn"/>), and
/// only then: the answer on the wire is unchanged.
/// </summary>
public sealed class LongPollAnswerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AWokenPollsAnswerObject_IsEmptiedOnceRendered_OnlyWhenItsActionOwnsIt(bool owns)
    {
        Keeping? keeping = null;
        await using var plane = await TestControlPlane.StartAsync(services: s =>
        {
            var catalog = ActionCatalog.FromAssembly();
            keeping = new Keeping((DescribeChanges)catalog.All.Single(a => a is DescribeChanges), owns);
            s.AddSingleton(new ActionCatalog(catalog.All.Select(a => a is DescribeChanges ? keeping : a)));
        });
        var tenant = new Scenario(plane.Client(plane.NewAccount("kept")));
        var vpc = await tenant.VpcAsync();
        var vsw = await tenant.VSwitchAsync(vpc);
        var group = await tenant.GroupAsync(vpc, "kept");
        plane.Bind((await tenant.RunAsync(group, vsw)).Single(), "kept-a", "vnet0");
        var credential = plane.Hosts.CreateCredential("kept-a");
        var client = new EcsClient(plane.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        var current = plane.Store.CurrentRevision().ToString(CultureInfo.InvariantCulture);
        var parked = plane.Store.Commits.ParkedCount;
        var waiting = client.CallAsync("DescribeChanges", new Dictionary<string, string>
        {
            ["AfterRevision"] = current, ["WaitSeconds"] = "10", ["IncludeHostPolicy"] = "true", ["RegionId"] = Region, ["PerNic"] = "true", ["SharedParts"] = "true",
        });
        for (var i = 0; i < 400 && plane.Store.Commits.ParkedCount <= parked; i++)
            await Task.Delay(5);
        await tenant.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        var answer = await waiting;
        Assert.True(answer.TryGetProperty("HostPolicy", out _));
        Assert.NotEmpty(answer.GetProperty("Changes").GetProperty("Change").EnumerateArray());
        var kept = Assert.Single(keeping!.Answers);
        if (owns)
            Assert.Empty(kept);
        else
            Assert.Contains(kept, f => f.Key == "HostPolicy");
    }

    /// <summary><see cref="DescribeChanges"/> as it is, keeping each object it answers (and saying whether it owns them as told).</summary>
    private sealed class Keeping(DescribeChanges inner, bool owns) : IAsyncEcsAction, IHostAgentAction
    {
        public ConcurrentQueue<EcsObject> Answers { get; } = new();

        public string Name => inner.Name;

        public string Version => inner.Version;

        public bool Mutates => inner.Mutates;

        public bool Cacheable => inner.Cacheable;

        public bool HostOnly => inner.HostOnly;

        public bool ReadsItsCredential => inner.ReadsItsCredential;

        public bool AnswersAnObjectOfItsOwn => owns;

        public EcsObject Execute(ActionContext context) => throw new NotSupportedException("a long poll is asynchronous");

        public async Task<EcsObject> ExecuteAsync(ActionContext context, CancellationToken cancel)
        {
            var answer = await inner.ExecuteAsync(context, cancel);
            // Only the woken poll's (the first one of the test's credential answers at once, with no change).
            if (answer.Any(f => f.Key == "HostPolicy"))
                Answers.Enqueue(answer);
            return answer;
        }
    }
}
