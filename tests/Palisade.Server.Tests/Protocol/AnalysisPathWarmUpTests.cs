using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Issue 19, fifteenth session: the analysis process was warm at start, but the server's own side of
/// a question (admission, rehearsal, the state after, decoding and rendering the flows) compiled in
/// the first noisy phase (~1,000 methods, ~0.9 s of CPU), slowing the quiet tenant. The server now
/// asks itself synthetic questions at start, through the request's own stages, over a store of its
/// own: nothing of it may reach the store or any tenant.
/// </summary>
public sealed class AnalysisPathWarmUpTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    private static string Answer(JsonElement e) => string.Join('\n', e.EnumerateObject().Where(p => p.Name != "RequestId").Select(p => p.Name + "=" + p.Value.GetRawText()));

    [Fact]
    public async Task TheServersWarmUp_AnswersItsQuestions_AndLeavesTheStoreAndEveryTenantsAnswersAsTheyWere()
    {
        // Given a server started with its warm-up (impacts compared in-process: the child's own warm-up is AnalysisWarmUpTests'),
        // and a tenant with a state, asked before the warm-up ends
        await using var plane = await TestControlPlane.StartAsync(options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisInChild = false, ThrottledAnswerDelay = TimeSpan.Zero },
        }, analysisWarmUp: true);
        var warmUp = plane.Services.GetRequiredService<AnalysisPathWarmUp>();
        var key = plane.NewAccount("tenant");
        var api = new Scenario(plane.Client(key));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 3);
        async Task<string[]> Answers() =>
        [
            Answer(await api.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region })),
            Answer(await api.Api.CallAsync("DescribeInstances", new { RegionId = Region })),
            Answer(await api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
            {
                RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "3000/3000", SourceCidrIp = "10.0.0.0/8",
            }))),
        ];
        var before = await Answers();
        var revision = plane.Store.CurrentRevision();
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();
        var spent = budget.Spent(key.AccountId);
        Assert.False(warmUp.Done.IsCompleted, "the warm-up ended before the tenant's questions: this test saw nothing beside it");
        Assert.Equal("not ready: warming up\n", await (await plane.Http.GetAsync("/readyz")).Content.ReadAsStringAsync());

        // When the warm-up ends
        await warmUp.Done.WaitAsync(Patience);

        // Then it answered every one of its analyses (new questions, a cached one, reachability, an audit each round)
        Assert.Equal(AnalysisPathWarmUp.Rounds * (AnalysisPathWarmUp.QuestionsPerRound + 3), warmUp.Answered);
        // And the store is as it was: no revision, no account of its own, nothing charged to anyone
        Assert.Equal(revision, plane.Store.CurrentRevision());
        Assert.Null(plane.Accounts.FindAccount("warm-up"));
        Assert.Equal(spent, budget.Spent(key.AccountId));
        Assert.Equal(TimeSpan.Zero, budget.Spent(AnalysisWarmUp.AccountId));
        Assert.Equal(TimeSpan.Zero, budget.Spent(1));
        // And the tenant is answered as before, and the node says it is ready
        Assert.Equal(before, await Answers());
        Assert.Equal("ready\n", await plane.Http.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task AServerWhoseAnalysisProcessCannotStart_WarmsItsInProcessPath_AndSaysSoOnce()
    {
        // Given a server whose analysis process cannot be started (no palisade program beside it: the fleet bench's nodes)
        var logs = new CapturedLogs();
        await using var plane = await TestControlPlane.StartAsync(options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisInChild = true, ThrottledAnswerDelay = TimeSpan.Zero },
        }, analysisWarmUp: true, logs: logs, services: s => s.AddSingleton(sp => new AnalysisProcess(sp.GetService<Microsoft.Extensions.Logging.ILogger<AnalysisProcess>>()) { WarmsUp = true, ChildProgram = () => null }));
        var warmUp = plane.Services.GetRequiredService<AnalysisPathWarmUp>();

        // When its warm-up ends
        await warmUp.Done.WaitAsync(Patience);

        // Then the in-process path was warmed (it was skipped: "not warmed up"), and the failed start is logged where it
        // failed, not again by the start with the server that tried it (it said so twice); each retry after 30 s says so once
        Assert.Equal(AnalysisPathWarmUp.Rounds * (AnalysisPathWarmUp.QuestionsPerRound + 3), warmUp.Answered);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("not warmed up", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("was not started with the server", StringComparison.Ordinal));
        var failed = logs.Lines.Where(l => l.Contains("could not be started", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, l => Assert.StartsWith($"Warning {typeof(AnalysisProcess).FullName}: ", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheWarmUpsEntryPoint_AnswersAsTheRequestPathDoes()
    {
        // Given a tenant's state (reads not cached: each question below is computed, none served from another's answer)
        await using var plane = await TestControlPlane.StartAsync(options: new ServerOptions
        {
            CacheReads = false,
            Throttling = new Throttling { AnalysisInChild = false, ThrottledAnswerDelay = TimeSpan.Zero },
        });
        var key = plane.NewAccount("tenant");
        var api = new Scenario(plane.Client(key));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 3);
        (string, string)[] question = [("RegionId", Region), ("ChangeAction", "AuthorizeSecurityGroup"), ("SecurityGroupId", sg), ("IpProtocol", "tcp"), ("PortRange", "3002/3002"), ("SourceCidrIp", "0.0.0.0/0")];

        // When a question is asked through the warm-up's entry point, and over HTTP (authenticated, throttled, recorded)
        var endpoint = plane.Services.GetRequiredService<RpcEndpoint>();
        endpoint.ForWarmUp = true;
        var caller = new Caller(key.AccountId, key.AccessKeyId, ReadOnly: false);
        async Task<string> Warm((string, string)[] parameters)
        {
            List<KeyValuePair<string, string>> query = [new("Action", "DescribeChangeImpact"), new("Version", ApiVersions.Ecs), new("Format", "JSON"), .. parameters.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2))];
            var call = await endpoint.ExecuteForWarmUpAsync(new RpcRequest("POST", "warm-up", query, [], new Dictionary<string, string>(), []), caller, CancellationToken.None);
            Assert.Null(call.Failure);
            var body = call.Answer is { } answer ? answer.Pieces.SelectMany(p => p).ToArray() : throw new InvalidOperationException("answered from the cache, not rendered");
            return Answer(JsonDocument.Parse(body).RootElement);
        }
        var warm = await Warm(question);
        var overHttp = Answer(await api.Api.CallAsync("DescribeChangeImpact", question.ToDictionary(p => p.Item1, p => p.Item2)));

        // Then it answers what the request path answers, byte for byte but the RequestId: flows computed
        Assert.Equal(overHttp, warm);
        Assert.Contains("\"Computed\":true", warm.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"Gained\"", warm, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATenantsEndpoint_RefusesRequestsWithoutAuthentication()
    {
        await using var plane = await TestControlPlane.StartAsync();
        var endpoint = plane.Services.GetRequiredService<RpcEndpoint>();
        await Assert.ThrowsAsync<InvalidOperationException>(() => endpoint.ExecuteForWarmUpAsync(
            new RpcRequest("POST", "x", [new("Action", "DescribeRegions"), new("Version", ApiVersions.Ecs)], [], new Dictionary<string, string>(), []), new Caller(1, "k", false), CancellationToken.None));
    }

    [Fact]
    public async Task AServerWithoutTheWarmUp_StopsAtOnce_NotAfterTheHostsShutdownTimeout()
    {
        // Given a server started without the warm-up (as --analysis-warm-up off, and every test's server)
        await using var plane = await TestControlPlane.StartAsync();
        var warmUp = plane.Services.GetRequiredService<AnalysisPathWarmUp>();
        Assert.False(warmUp.Enabled);

        // When the host stops it with no deadline of its own
        var stop = warmUp.StopAsync(CancellationToken.None);

        // Then its stop does not wait for a warm-up that never ran (it waited for the host's 30 s shutdown timeout)
        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20))));
    }
}
