using System.Diagnostics;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Engine.Flows;
using Palisade.Server.Tests.Support;
using Palisade.Storage;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The agent keeps its guarantees on the watcher-driven feed (issue 17, item 5): a real agent
/// (real long polls over the API, a kernel that records what it is told) follows one node while the
/// change is made on the other, and that node drops every commit signal on purpose (a lost NOTIFY,
/// a lost in-process wake-up): the agent still converges, within the watcher's safety look.
/// </summary>
public sealed class FeedGuaranteeTests : IAsyncLifetime
{
    private TestControlPlane _first = null!;
    private TestControlPlane _second = null!;

    public async Task InitializeAsync()
    {
        _first = await TestControlPlane.StartAsync();
        _second = await TestControlPlane.StartAsync(sameStoreAs: _first);
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    [Fact]
    public async Task ADroppedNotification_StillConverges_WithinTheSafetyLook()
    {
        var key = _first.NewAccount("feed-guarantee");
        var writer = new Scenario(_first.Client(key));
        var vpc = await writer.VpcAsync();
        var group = await writer.GroupAsync(vpc);
        var instance = (await writer.RunAsync(group, await writer.VSwitchAsync(vpc))).Single();
        _first.Bind(instance, "node-1", "vnet0");

        // The agent follows the second node, whose watcher ignores every signal from now on.
        var watcher = _second.Store.Commits;
        watcher.DropSignals = true;
        var kernel = new RecordingKernel();
        // No resync during the test: only the feed can bring the change.
        var options = new AgentOptions("node-1") { PollWait = TimeSpan.FromSeconds(30), RetryDelay = TimeSpan.FromMilliseconds(100), ResyncInterval = TimeSpan.FromHours(1) };
        var agent = new EnforcementAgent(new EcsControlPlane(_second.HostClient("node-1"), Region), kernel, options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShapeOf(agent);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = agent.RunAsync(stop.Token);
        try
        {
            while (agent.Applied is null && !stop.IsCancellationRequested)
                await Task.Delay(20);
            var first = agent.AppliedRevision;
            // Parked on the second node's watcher before the change is made on the first.
            while (watcher.ParkedCount == 0 && !stop.IsCancellationRequested)
                await Task.Delay(20);

            await writer.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "198.18.0.0/24" });
            var answered = Stopwatch.StartNew();
            while (agent.AppliedRevision == first && !stop.IsCancellationRequested)
                await Task.Delay(20);

            Assert.True(agent.AppliedRevision > first, "the agent never applied the change");
            // Found by the safety look, not by a signal (all dropped) and not by the agent's own 30 s wait or resync.
            Assert.True(answered.Elapsed <= CommitWatcher.DefaultSafetyInterval + TimeSpan.FromSeconds(3), $"applied {answered.Elapsed} after the answer");
            Assert.Equal(2, agent.Fetches);
            // The host's revision is the store's global one.
            Assert.Equal(_first.Store.CurrentRevision(), agent.AppliedRevision);
            Assert.Equal(3, kernel.Transactions.Count); // closed, the first policy, the change
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    private static KernelShape ExpectedShapeOf(EnforcementAgent agent) => Agent.Rendering.ExpectedShape.Of(agent.Applied!);
}
