using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 19: the "before" side of an impact (the account's state and its matrix) is kept per account
/// revision (<see cref="ImpactBefores"/>). Kept and loaded afresh (a server that caches no reads, its
/// slow twin) answer every impact alike; a write of the account is seen by the next impact; one
/// account's before is never another's.
/// </summary>
public sealed class ImpactBeforesTests
{
    /// <summary>An impact's flows with the instance IDs replaced by their place in creation order, sorted.</summary>
    private static string Flows(JsonElement answer, List<string> instances)
    {
        string Name(string id) => instances.IndexOf(id) is var k and >= 0 ? $"i{k}" : id;
        var impact = answer.GetProperty("Impact");
        IEnumerable<string> Of(string list) => impact.Items(list, "Flow").Select(f =>
            $"{list} {Name(f.Str("Source"))}->{Name(f.Str("Target"))} {f.Str("IpProtocol")} {string.Join(",", f.Items("PortRanges", "PortRange").Select(p => p.GetString()))}");
        return string.Join("\n", Of("Gained").Concat(Of("Lost")).Order(StringComparer.Ordinal));
    }

    private sealed class Tenant(Scenario api)
    {
        public Scenario Api { get; } = api;
        public string Vpc { get; set; } = "";
        public string VSwitch { get; set; } = "";
        public string Web { get; set; } = "";
        public string Db { get; set; } = "";
        public List<string> Instances { get; } = [];

        public static async Task<Tenant> StartAsync(TestControlPlane plane, string name)
        {
            var t = new Tenant(new Scenario(plane.Client(plane.NewAccount(name))));
            t.Vpc = await t.Api.VpcAsync();
            t.VSwitch = await t.Api.VSwitchAsync(t.Vpc);
            t.Web = await t.Api.GroupAsync(t.Vpc, "web");
            t.Db = await t.Api.GroupAsync(t.Vpc, "db");
            t.Instances.AddRange(await t.Api.RunAsync(t.Web, t.VSwitch, amount: 2));
            t.Instances.AddRange(await t.Api.RunAsync(t.Db, t.VSwitch));
            return t;
        }

        public Task<JsonElement> ImpactAsync(object question) => Api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(question));

        public Task<JsonElement> OpenAsync(string group, int port) =>
            Api.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "0.0.0.0/0" });
    }

    private static object Opening(string group, int port) =>
        new { RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = group, IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "0.0.0.0/0" };

    [Fact]
    public async Task KeptAndLoadedAfresh_AnswerEveryImpactAlike_OverRandomWritesAndQuestions()
    {
        // Kept, compared in the analysis process; against loaded afresh and compared in this process.
        await using var kept = await TestControlPlane.StartAsync(options: new ServerOptions { Throttling = new Throttling { AnalysisInChild = true } });
        await using var afresh = await TestControlPlane.StartAsync(options: new ServerOptions { CacheReads = false, Throttling = new Throttling { AnalysisInChild = true } });
        var tenants = new[] { await Tenant.StartAsync(kept, "same"), await Tenant.StartAsync(afresh, "same") };

        // Writes (open a port, let db reach web, run an instance, close a port) between questions
        // (open a port, join or leave a group): several questions at one revision share one before.
        var steps = Gen.Select(Gen.Int[0, 7], Gen.Int[1, 6]).Array[30].Single();
        foreach (var (step, n) in steps)
        {
            var answers = new List<string>();
            foreach (var t in tenants)
            {
                var group = n % 2 == 0 ? t.Web : t.Db;
                switch (step)
                {
                    case 0:
                        await t.OpenAsync(group, 8000 + n);
                        break;
                    case 1:
                        await t.Api.AuthorizeAsync(t.Web, new { IpProtocol = "tcp", PortRange = $"{9000 + n}/{9000 + n}", SourceGroupId = t.Db });
                        break;
                    case 2:
                        t.Instances.AddRange(await t.Api.RunAsync(group, t.VSwitch));
                        break;
                    case 3:
                        await t.Api.Api.SendAsync("RevokeSecurityGroup", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = group, IpProtocol = "tcp", PortRange = $"{8000 + n}/{8000 + n}", SourceCidrIp = "0.0.0.0/0" }));
                        break;
                    case 4:
                        var instance = t.Instances[n % t.Instances.Count];
                        var joined = await t.Api.Api.SendAsync("DescribeChangeImpact", EcsClient.Flatten(new { RegionId = Region, ChangeAction = "JoinSecurityGroup", InstanceId = instance, SecurityGroupId = t.Db }));
                        answers.Add(joined.Status == 200 ? Flows(JsonDocument.Parse(joined.Body).RootElement, t.Instances) : $"{joined.Status}");
                        break;
                    default:
                        foreach (var port in new[] { 7000 + n, 8000 + n, 9000 + n })
                            answers.Add(Flows(await t.ImpactAsync(Opening(group, port)), t.Instances));
                        break;
                }
            }
            Assert.Equal(answers.Take(answers.Count / 2), answers.Skip(answers.Count / 2));
        }
        // The kept befores went to the child; without them (reads not cached) nothing did.
        Assert.Equal(1, kept.Services.GetRequiredService<Server.Protocol.AnalysisProcess>().Started);
        Assert.Equal(0, afresh.Services.GetRequiredService<Server.Protocol.AnalysisProcess>().Started);
    }

    [Fact]
    public async Task AWriteOfTheAccount_IsSeenByTheNextImpact()
    {
        await using var plane = await TestControlPlane.StartAsync();
        var a = await Tenant.StartAsync(plane, "a");
        var befores = ImpactBefores.Of(plane.Store);

        var first = Flows(await a.ImpactAsync(Opening(a.Web, 22)), a.Instances);
        Assert.Equal(2, first.Split('\n').Length);
        // Another question at the same revision: the same before, not loaded again.
        var loads = befores.Loads;
        Assert.Equal(2, Flows(await a.ImpactAsync(Opening(a.Web, 23)), a.Instances).Split('\n').Length);
        Assert.Equal(loads, befores.Loads);

        // Port 22 opened for real: opening it again gains nothing.
        await a.OpenAsync(a.Web, 22);
        Assert.Equal("", Flows(await a.ImpactAsync(Opening(a.Web, 22)), a.Instances));
        // A third instance in web: opening port 24 reaches it too.
        a.Instances.AddRange(await a.Api.RunAsync(a.Web, a.VSwitch));
        Assert.Equal(3, Flows(await a.ImpactAsync(Opening(a.Web, 24)), a.Instances).Split('\n').Length);

        // Another account, asking the same of its own group at its own revision, sees its own instances only.
        var b = await Tenant.StartAsync(plane, "b");
        var theirs = Flows(await b.ImpactAsync(Opening(b.Web, 24)), b.Instances);
        Assert.Equal(["Gained i2->i0 TCP 24/24", "Gained i2->i1 TCP 24/24"], theirs.Split('\n'));
    }
}
