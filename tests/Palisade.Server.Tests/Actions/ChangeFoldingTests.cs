using Palisade.Agent.Following;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Changes that commit while an agent applies cost it one request and one apply, not one each (issue 17):
/// the poll after the apply is answered at once with the host's policy as it is then, every change in
/// it. A burst spaced wider than an apply costs a request a change — the twentieth session's trade for
/// latency (docs/benchmarks.md, "the report without the wait").
/// </summary>
public sealed class ChangeFoldingTests : IAsyncLifetime
{
    private TestControlPlane _node = null!;

    public async Task InitializeAsync() => _node = await TestControlPlane.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task ChangesCommittedWhileTheAgentApplies_ComeInOneAnswerAndOneApply()
    {
        var key = _node.NewAccount("change-folding");
        var writer = new Scenario(_node.Client(key));
        var vpc = await writer.VpcAsync();
        var group = await writer.GroupAsync(vpc);
        var instance = (await writer.RunAsync(group, await writer.VSwitchAsync(vpc))).Single();
        _node.Bind(instance, "node-1", "vnet0");

        var holding = 0;
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var kernel = new RecordingKernel
        {
            // The first apply after the test says so waits until the later changes have committed.
            Applying = () =>
            {
                if (Interlocked.Exchange(ref holding, 0) == 1)
                {
                    held.Set();
                    release.Wait(TimeSpan.FromSeconds(30));
                }
            },
        };
        var options = new AgentOptions("node-1") { PollWait = TimeSpan.FromSeconds(30), RetryDelay = TimeSpan.FromMilliseconds(100), ResyncInterval = TimeSpan.FromHours(1) };
        var agent = new EnforcementAgent(new EcsControlPlane(_node.HostClient("node-1"), Region), kernel, options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : Agent.Rendering.ExpectedShape.Of(agent.Applied);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = agent.RunAsync(stop.Token);
        try
        {
            while (agent.Applied is null && !stop.IsCancellationRequested)
                await Task.Delay(20);
            while (_node.Store.Commits.ParkedCount == 0 && !stop.IsCancellationRequested)
                await Task.Delay(20);
            var (fetches, applies) = (agent.Fetches, kernel.Applies);

            Volatile.Write(ref holding, 1);
            await writer.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "198.18.0.0/24" });
            var firstChange = _node.Store.CurrentRevision();
            Assert.True(held.Wait(TimeSpan.FromSeconds(20)), "the agent never applied the first change");
            foreach (var port in new[] { 80, 443, 8080 })
                await writer.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "198.18.0.0/24" });
            var last = _node.Store.CurrentRevision();
            release.Set();
            while (agent.AppliedRevision < last && !stop.IsCancellationRequested)
                await Task.Delay(20);

            Assert.Equal(last, agent.AppliedRevision);
            // The first change, then the three that came while it was applied, together.
            Assert.Equal(fetches + 2, agent.Fetches);
            Assert.Equal(applies + 2, kernel.Applies);
            // The one apply after the held one brought all three.
            Assert.StartsWith($"# palisade: revision {firstChange} -> {last}, ", kernel.Transactions[^1], StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
            await stop.CancelAsync();
            await run;
        }
    }
}
