using System.Threading.Channels;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Agent.Tests.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// Observed flows in the agent (issue 20 item 5), with the kernel and the control plane replaced by
/// fakes: confirmed connections are credited to the NIC they go to (zone and address), added up per
/// source, protocol, port and minute, capped per minute (the rest counted as dropped, per NIC), kept
/// across a failed report, and sampled only while the control plane asks for it.
/// </summary>
public sealed class FlowSamplerTests
{
    private static readonly HostRuleset Ruleset = PolicyRenderer.Render(Scenario.State(true), Scenario.Bindings, 1);
    private static readonly NftNic Web1 = Ruleset.Nics.Single(n => n.InstanceId.Value == "i-web1");
    private static readonly NftNic Redis1 = Ruleset.Nics.Single(n => n.InstanceId.Value == "i-redis1");

    private sealed class StepClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }

    private static TrackedConnection To(NftNic nic, string source, int port, IpProtocol protocol = IpProtocol.Tcp, int? zone = null) =>
        new(new Flow(IpAddress.Parse(source), nic.Addresses[0], protocol, port, 40000), zone ?? nic.Zone);

    private static List<string> Lines(FlowReport report) =>
        [.. report.Flows.Select(f => $"{f.InstanceId} {f.Source} {f.Protocol.ToWire()} {f.Port} {f.Minute:HH:mm} {f.Connections}")];

    [Fact]
    public void Connections_AreCreditedToTheDestinationNic_AddedUpPerSourceProtocolPortAndMinute()
    {
        var clock = new StepClock(new DateTimeOffset(2026, 12, 3, 9, 0, 10, TimeSpan.Zero));
        var sampler = new FlowSampler(() => Ruleset, clock);
        sampler.Record(To(Web1, "198.18.9.9", 80));
        sampler.Record(To(Web1, "198.18.9.9", 80));
        sampler.Record(To(Redis1, "198.18.9.9", 6379));
        sampler.Record(To(Web1, "198.18.9.9", 0, IpProtocol.Icmp));
        // Another network's zone holds no NIC at that address; an address of no NIC is not ours.
        sampler.Record(To(Web1, "198.18.9.9", 80, zone: Web1.Zone % 65535 + 1));
        sampler.Record(new TrackedConnection(new Flow(IpAddress.Parse("198.18.9.9"), IpAddress.Parse("203.0.113.1"), IpProtocol.Tcp, 443), Web1.Zone));
        clock.Advance(TimeSpan.FromMinutes(1));
        sampler.Record(To(Web1, "198.18.9.9", 80));
        Assert.Equal((5L, 2L), (sampler.Seen, sampler.Ignored));
        var report = sampler.Take(10);
        Assert.Equal(
        [
            "i-redis1 198.18.9.9 TCP 6379 09:00 1",
            "i-web1 198.18.9.9 TCP 80 09:00 2",
            "i-web1 198.18.9.9 ICMP 0 09:00 1",
            "i-web1 198.18.9.9 TCP 80 09:01 1",
        ], Lines(report));
        Assert.Empty(report.Drops);
        Assert.Equal(0, sampler.PendingCount);
    }

    [Fact]
    public void OverTheCapPerMinute_ConnectionsAreCountedAsDroppedPerNic_AndAFailedReportIsPutBack()
    {
        var clock = new StepClock(new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));
        var sampler = new FlowSampler(() => Ruleset, clock, perMinuteCap: 3, maxPending: 2);
        foreach (var source in new[] { "198.18.9.1", "198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.9.4" })
            sampler.Record(To(Web1, source, 22));
        // Three kept (two aggregates, the memory cap), then one over the memory cap, one over the rate cap.
        var report = sampler.Take(1);
        Assert.Equal(["i-web1 198.18.9.1 TCP 22 09:00 2"], Lines(report));
        Assert.Equal([("i-web1", 2L)], report.Drops.Select(d => (d.InstanceId.Value, d.Connections)));
        sampler.PutBack(report);
        var again = sampler.Take(10);
        Assert.Equal(["i-web1 198.18.9.1 TCP 22 09:00 2", "i-web1 198.18.9.2 TCP 22 09:00 1"], Lines(again));
        Assert.Equal([("i-web1", 2L)], again.Drops.Select(d => (d.InstanceId.Value, d.Connections)));
        // A new minute, a new allowance.
        clock.Advance(TimeSpan.FromMinutes(1));
        sampler.Record(To(Web1, "198.18.9.5", 22));
        Assert.Single(sampler.Take(10).Flows);
    }

    [Fact]
    public void TheConntrackEventLine_IsReadAsTheConnectionAndItsZone()
    {
        var line = "    [NEW] tcp      6 120 SYN_SENT src=198.18.30.11 dst=198.18.30.12 sport=41234 dport=22 [UNREPLIED] src=198.18.30.12 dst=198.18.30.11 sport=22 dport=41234 zone=54895";
        var connection = ConntrackLine.ParseEvent(line);
        Assert.Equal(new TrackedConnection(new Flow(IpAddress.Parse("198.18.30.11"), IpAddress.Parse("198.18.30.12"), IpProtocol.Tcp, 22, 41234), 54895), connection);
        Assert.Null(ConntrackLine.ParseEvent(" [DESTROY] tcp      6 src=198.18.30.11 dst=198.18.30.12 sport=41234 dport=22"));
        Assert.Null(ConntrackLine.ParseEvent("conntrack v1.4.7 (conntrack-tools): 1 flow events have been shown."));
    }

    /// <summary>A kernel that confirms the connections a test writes, until the watch is cancelled.</summary>
    private sealed class EventKernel : INetfilter
    {
        public Channel<TrackedConnection> Events { get; } = Channel.CreateUnbounded<TrackedConnection>();
        public int Watches { get; private set; }
        public int WatchesEnded { get; private set; }
        public HostRuleset? Applied { get; set; }

        /// <summary>What the kernel does as a watch is asked for, before it answers (NftCommand subscribes its netlink socket there).</summary>
        public Action? Opening { get; init; }

        public IAsyncEnumerable<IReadOnlyList<TrackedConnection>> WatchNewConnectionBatchesAsync(CancellationToken cancel)
        {
            Opening?.Invoke();
            return OneByOne(cancel);
        }

        private async IAsyncEnumerable<IReadOnlyList<TrackedConnection>> OneByOne([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
        {
            await foreach (var connection in WatchNewConnectionsAsync(cancel).WithCancellation(cancel))
                yield return [connection];
        }

        public async IAsyncEnumerable<TrackedConnection> WatchNewConnectionsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
        {
            Watches++;
            try
            {
                while (true)
                {
                    TrackedConnection next;
                    try
                    {
                        next = await Events.Reader.ReadAsync(cancel);
                    }
                    catch (OperationCanceledException)
                    {
                        yield break;
                    }
                    yield return next;
                }
            }
            finally
            {
                WatchesEnded++;
            }
        }

        public Task ApplyAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;

        public Task CheckAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;

        public Task<KernelShape?> ReadBackAsync(CancellationToken cancel) => Task.FromResult(Applied is null ? null : ExpectedShape.Of(Applied));

        public Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<TrackedConnection>>([]);

        public Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel) => Task.CompletedTask;

        public Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<string>>([]);
    }

    /// <summary>A control plane that asks for flows while <see cref="Sampling"/> says so and keeps what it is sent.</summary>
    private sealed class FlowControlPlane : IControlPlane
    {
        public bool Sampling { get; set; } = true;
        public int FailReports { get; set; }
        public List<FlowReport?> Reports { get; } = [];

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => Task.FromResult(new HostPolicy(7, Scenario.Bindings, Scenario.State(true)));

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            await Task.Delay(wait, cancel);
            return false;
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) => Task.CompletedTask;

        public Task<bool> ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, FlowReport? flows, CancellationToken cancel)
        {
            lock (Reports)
            {
                if (FailReports > 0)
                {
                    FailReports--;
                    throw new ControlPlaneUnavailableException("report lost");
                }
                Reports.Add(flows);
            }
            return Task.FromResult(Sampling);
        }

        public List<ObservedFlow> Flows()
        {
            lock (Reports)
                return [.. Reports.OfType<FlowReport>().SelectMany(r => r.Flows)];
        }
    }

    [Fact]
    public async Task FlowSamplingOn_IsSaid_OnlyOnceTheWatchIsOpen()
    {
        // A connection made right after the agent says sampling is on must be seen: the kernel's watch is
        // open by then (CI once missed one made right after the line, when the watch was opened in the task).
        var log = new List<string>();
        var kernel = new EventKernel
        {
            Opening = () =>
            {
                Thread.Sleep(300); // a slow subscription: the line must still wait for it
                lock (log)
                    log.Add("the watch opened");
            },
        };
        var options = new AgentOptions("host-1") { PollWait = TimeSpan.FromMilliseconds(10), RetryDelay = TimeSpan.FromMilliseconds(10), UsageInterval = TimeSpan.FromMilliseconds(20) };
        var agent = new EnforcementAgent(new FlowControlPlane(), kernel, options, l => { lock (log) log.Add(l); });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = agent.RunAsync(stop.Token);
        int On() { lock (log) return log.FindIndex(l => l.StartsWith("flow sampling on", StringComparison.Ordinal)); }
        while (On() < 0)
        {
            Assert.False(stop.IsCancellationRequested, "sampling never started");
            await Task.Delay(5);
        }
        lock (log)
            Assert.True(log.IndexOf("the watch opened") is >= 0 and var opened && opened < On(), string.Join("\n", log));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task TheAgent_SamplesWhileTheControlPlaneAsks_ReportsWithTheUsage_KeepsAFailedReportsFlows_AndStopsWhenTold()
    {
        var kernel = new EventKernel();
        var plane = new FlowControlPlane();
        var options = new AgentOptions("host-1") { PollWait = TimeSpan.FromMilliseconds(10), RetryDelay = TimeSpan.FromMilliseconds(10), UsageInterval = TimeSpan.FromMilliseconds(20) };
        var log = new List<string>();
        var agent = new EnforcementAgent(plane, kernel, options, l => { lock (log) log.Add(l); });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = agent.RunAsync(stop.Token);
        async Task Until(Func<bool> condition, string what)
        {
            while (!condition())
            {
                Assert.False(stop.IsCancellationRequested, $"not in time: {what}; log:\n{string.Join("\n", log)}");
                await Task.Delay(5);
            }
        }
        // No report asked for flows before the first answer: the first one says the agent does not sample yet.
        await Until(() => kernel.Watches == 1, "the watch started");
        Assert.Null(plane.Reports[0]);
        kernel.Applied = agent.Applied;
        var web1 = agent.Applied!.Nics.Single(n => n.InstanceId.Value == "i-web1");
        plane.FailReports = 1;
        await kernel.Events.Writer.WriteAsync(To(web1, "198.18.9.9", 80));
        await kernel.Events.Writer.WriteAsync(To(web1, "198.18.9.9", 80));
        await Until(() => plane.Flows().Sum(f => f.Connections) == 2, "the flows reported (one report lost on the way)");
        Assert.All(plane.Flows(), f => Assert.Equal(("i-web1", 80), (f.InstanceId.Value, f.Port)));

        plane.Sampling = false;
        await Until(() => kernel.WatchesEnded == 1 && agent.Sampler is null, "sampling stopped");
        Assert.Contains(log, l => l.Contains("flow sampling off", StringComparison.Ordinal));
        var reports = plane.Reports.Count;
        await Until(() => plane.Reports.Count > reports + 2, "more reports");
        Assert.Null(plane.Reports[^1]); // no longer says it samples
        await stop.CancelAsync();
        await run;
    }
}
