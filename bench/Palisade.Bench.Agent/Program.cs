using System.Diagnostics;
using System.Globalization;
using System.Text;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Policies;
using Palisade.TestKit.Processes;
using Palisade.Domain.Ecs;

// Enforcement on a real kernel, in namespaces this program makes and removes (addresses in
// 198.18.0.0/15, every probe inside a namespace):
//   sudo dotnet run -c Release --project bench/Palisade.Bench.Agent -- [--runs 40] [--rounds 5] [--only apply|packet|converge|dispatch|prefixlist|sampler|rerender|sampler-kernel]
//   apply     full ruleset apply (nft -f, one transaction) for 1,000 and 10,000 ECS rules, ours and a naive linear list
//   packet    per-connection cost (client CPU and wall time) through our ruleset with the rule counters on and
//             off (issue 20, --rounds alternations), and the naive linear list of the same policy
//   converge  API call answered -> kernel enforcing, measured by a probe: one rule change, and a
//             membership change touching 1, 10 and 100 NICs of the host
//   prefixlist issue 16 item 6: a prefix-list edit of 100 entries (100 blocks out, 100 in) on a host
//             of 100 NICs / 10,000 rules whose every NIC's group names the list, to the kernel as a
//             set-element update: the agent's own ConvergeAsync (re-render, libnftables in process),
//             the path before it (full render, nft command) and a full re-apply (the baseline), in one run
//   rerender  issue 16, in process: the agent's re-render of a prefix-list entry edit against a full render
//   dispatch  issue 18: the port-dispatched ruleset (pinned MAC, conntrack zones, per-port layer-2
//             checks) against the address-dispatched one it replaced, at 100 NICs / 10,000 rules:
//             full apply and per-connection cost, in one run
//   sampler   issue 20: the flow sampler's CPU per event, in process
//   sampler-kernel (only when named) issue 20: ~10,000 new connections a second on a real kernel, the agent's
//             readers in one run — its own netlink socket and conntrack -E + the block reader, each with
//             FlowSampler — CPU (its own and conntrack's), events seen and lost, memory
//             [--rate N --seconds S --coalesce-ms M --rounds R]
var runs = Arg("--runs", 40);
var only = ArgText("--only");
if (only is not "fetch-text" && TestTopology.Missing() is { } missing)
{
    Console.Error.WriteLine($"bench needs root, iproute2, nftables, conntrack and python3: {missing}");
    return 2;
}
var report = new StringBuilder();
void Say(string line)
{
    Console.WriteLine(line);
    report.AppendLine(line);
}
Say($"# Palisade agent benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs{(only is "fetch-text" ? "" : ", nft " + TestTopology.Run("nft", "--version").Trim())}");
if (only is null or "apply")
    Apply();
if (only is null or "packet")
    Packet();
if (only is null or "converge")
    await Converge();
if (only is null or "dispatch")
    Dispatch();
if (only is null or "prefixlist")
    PrefixListEdit();
if (only is null or "sampler")
    Sampler();
if (only is null or "rerender")
    RerenderCost();
if (only is "sampler-kernel")
    await SamplerOnKernel();
if (only is null or "fetch-text")
    FetchTextCost();
return 0;

// Issue 17, in process (no kernel): what an agent does with its state text after each fetch, at the
// fleet bench's size (a host of 10 NICs in an account of 100 hosts: ~190 instances, ~400 KB of
// state). (1) The renderer's check for a prefix-list-only change: the first look where the texts
// differ against both texts read whole (the path before). (2) The fleet bench's 100 agents of one
// account after a change in "common": each assembling its pod's state and finding it shared by
// content (before), against finding it by what it is assembled from (SharedContent.Assembled).
// CPU per call and bytes allocated per call, each against its baseline in this run.
void FetchTextCost()
{
    Say("\n## The agent's state text after a fetch (issue 17), in process: a host's ~190 instances");
    var shared = new Palisade.Agent.Following.SharedContent();
    string Resource(string key, string id, int version) => shared.Text(
        $$"""{"{{key}}":"{{id}}","RegionId":"cn-hangzhou","VpcId":"vpc-fleet","Description":"v{{version}}","Tags":{"Tag":[{"Key":"team","Value":"fleet"}]},"Permissions":{"Permission":[{"IpProtocol":"tcp","PortRange":"{{version}}/{{version}}","SourceCidrIp":"10.0.0.0/8","Policy":"Accept","Priority":"1","Direction":"ingress","CreateTime":"2026-12-04T00:00:00Z"}]},"PrivateIpAddress":{"IpAddress":["10.0.{{id.Length}}.{{version}}"]},"SecurityGroupIds":{"SecurityGroupId":["sg-common","sg-pod"]},"Padding":"{{new string('x', 1400)}}"}""");
    List<string>[] Union(int commonVersion) =>
    [
        [Resource("SecurityGroupId", "sg-common", commonVersion), .. Enumerable.Range(0, 11).Select(g => Resource("SecurityGroupId", $"sg-{g}", 1))],
        [.. Enumerable.Range(0, 191).Select(i => Resource("InstanceId", $"i-{i:D5}", 1))],
        [.. Enumerable.Range(0, 10).Select(i => Resource("NetworkInterfaceId", $"eni-{i:D5}", 1))],
        [], [],
    ];
    var (before, after) = (Union(1), Union(2));
    var (beforeText, afterText) = (Palisade.Agent.Following.StateParts.Write("cn-hangzhou", before), Palisade.Agent.Following.StateParts.Write("cn-hangzhou", after));
    Say($"state text {afterText.Length:N0} chars");
    (double Ms, double Bytes) Cost(Action call)
    {
        call();
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
            call();
        return (clock.Elapsed.TotalMilliseconds / runs, (GC.GetAllocatedBytesForCurrentThread() - bytes) / (double)runs);
    }
    var slow = Cost(() =>
    {
        if (StateSources.SameButPrefixListsSlow(beforeText, afterText))
            throw new InvalidOperationException("a rule change read as prefix lists only");
    });
    var fast = Cost(() =>
    {
        if (StateSources.SameButPrefixLists(beforeText, afterText))
            throw new InvalidOperationException("a rule change read as prefix lists only");
    });
    Say(string.Create(CultureInfo.InvariantCulture, $"prefix-list-only check: both read whole {slow.Ms:F3} ms, {slow.Bytes / 1024:F0} KiB allocated; first look {fast.Ms:F3} ms, {fast.Bytes / 1024:F0} KiB; ratio {slow.Ms / fast.Ms:F0}x"));
    // Held by "the other agents" while measured, as in the fleet.
    var held = shared.State(Palisade.Agent.Following.StateParts.Write("cn-hangzhou", after), _ => new NetworkState("cn-hangzhou", [], []));
    string[] From(List<string>[] union) => ["cn-hangzhou", .. union.SelectMany((items, l) => items.Prepend(Palisade.Agent.Following.StateParts.Lists[l].List))];
    var own = Cost(() =>
    {
        if (!ReferenceEquals(shared.State(Palisade.Agent.Following.StateParts.Write("cn-hangzhou", after), _ => throw new InvalidOperationException("parsed again")).Text, held.Text))
            throw new InvalidOperationException("not found shared");
    });
    shared.Assembled(From(after), () => held.Text, _ => throw new InvalidOperationException("parsed again"));
    var byInputs = Cost(() =>
    {
        if (!ReferenceEquals(shared.Assembled(From(after), () => throw new InvalidOperationException("assembled again"), _ => throw new InvalidOperationException("parsed again")).Text, held.Text))
            throw new InvalidOperationException("not found shared");
    });
    Say(string.Create(CultureInfo.InvariantCulture, $"a pod's shared state, per agent: assembled and found by content {own.Ms:F3} ms, {own.Bytes / 1024:F0} KiB allocated; found by its inputs {byInputs.Ms:F3} ms, {byInputs.Bytes / 1024:F0} KiB; ratio {own.Ms / byInputs.Ms:F0}x"));
    GC.KeepAlive(before);
}

// Issue 20: flow sampling on a real kernel. New TCP connections at --rate a second (default 10,000)
// for --seconds (15) from a client namespace to a sampled NIC through the host's bridge, first with
// nothing reading conntrack's events, then with each of the agent's readers in the host namespace —
// its own netlink socket, and conntrack -E -e NEW parsed by the block reader — taken by FlowSampler
// with the default caps: the reader's CPU (this process), conntrack -E's CPU (its own process), the
// memory it holds, and the events it saw (and, on netlink, lost) against the connections made.
async Task SamplerOnKernel()
{
    var rate = Arg("--rate", 10_000);
    var seconds = Arg("--seconds", 15);
    Say($"\n## Flow sampling on a real kernel (issue 20): about {rate:N0} new connections a second for {seconds} s to one sampled NIC");
    var (state, bindings) = PacketPolicy();
    var ruleset = PolicyRenderer.Render(state, bindings, 1);
    using var topology = new TestTopology();
    var client = topology.AddInstance("c", "198.18.2.2");
    var server = topology.AddInstance("s", "198.18.2.3", MacAddress.ForInstance(InstanceId.Parse("i-s")).ToString());
    // Connections close in a blink here: short conntrack timeouts in this host namespace only (the
    // benchmark's own), so that hundreds of thousands of them never fill its table.
    foreach (var state_ in new[] { "time_wait", "close", "close_wait", "fin_wait", "last_ack" })
        topology.InHost("sysctl", "-qw", $"net.netfilter.nf_conntrack_tcp_timeout_{state_}=1");
    var acceptor = topology.Start(server, "python3", TestTopology.Script("accept_loop.py"), "198.18.2.3", "9000");
    if (acceptor.StandardOutput.ReadLine() != "listening")
        throw new InvalidOperationException(acceptor.StandardError.ReadToEnd());
    topology.InHost("nft", "-f", WriteTemp(NftText.FullApply(ruleset)));
    (long Made, long Failed, double Seconds) Load()
    {
        // Two paced clients: one python loop alone does not keep up on a busy machine.
        var clients = Enumerable.Range(0, 2).Select(_ => topology.Start(client, "python3", TestTopology.Script("connect_rate.py"), "198.18.2.3", "9000",
            (rate / 2.0).ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture))).ToList();
        var lines = clients.Select(c => (c.StandardOutput.ReadLine() ?? throw new InvalidOperationException(c.StandardError.ReadToEnd())).Split(' ')).ToList();
        return (lines.Sum(l => long.Parse(l[0], CultureInfo.InvariantCulture)), lines.Sum(l => long.Parse(l[1], CultureInfo.InvariantCulture)),
            lines.Max(l => double.Parse(l[2], CultureInfo.InvariantCulture)));
    }
    var self = Process.GetCurrentProcess();
    TimeSpan Cpu()
    {
        self.Refresh();
        return self.TotalProcessorTime;
    }
    // The CPU seconds of our child conntrack (ip netns exec execs it: same PID, our child).
    static double ChildCpu(string name)
    {
        var mine = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.GetDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var comm = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (comm == name && fields[1] == mine)
                    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
            }
        }
        return double.NaN;
    }

    var before = Cpu();
    var alone = Load();
    var aloneCpu = (Cpu() - before).TotalSeconds;

    var coalescing = TimeSpan.FromMilliseconds(Arg("--coalesce-ms", (int)Palisade.Agent.Kernel.ConntrackEventReader.DefaultCoalescing.TotalMilliseconds));
    var rounds = Arg("--rounds", 1);
    Say($"readers: each on its own thread, {coalescing.TotalMilliseconds:F0} ms wait after a short read; {rounds} round(s) of both, alternating; load average before {LoadAverage()}");
    string Rate((long Made, long Failed, double Seconds) l) => string.Create(CultureInfo.InvariantCulture, $"{l.Made / l.Seconds:N0}/s ({l.Made:N0} made, {l.Failed:N0} failed)");
    Say("| phase | new connections | this process's CPU (share of one core) | conntrack -E's CPU | total | events the sampler saw | lost / malformed (netlink) | memory | load average after |");
    Say("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    Say(string.Create(CultureInfo.InvariantCulture, $"| load alone, nothing reading | {Rate(alone)} | {aloneCpu / alone.Seconds * 100:F1} % | – | {aloneCpu / alone.Seconds * 100:F1} % | – | – | – | {LoadAverage()} |"));
    for (var round = 0; round < rounds; round++)
    {
        foreach (var source in round % 2 == 0
            ? new[] { Palisade.Agent.Kernel.ConntrackEventSource.Netlink, Palisade.Agent.Kernel.ConntrackEventSource.Command }
            : [Palisade.Agent.Kernel.ConntrackEventSource.Command, Palisade.Agent.Kernel.ConntrackEventSource.Netlink])
            await Phase(source);
    }

    async Task Phase(Palisade.Agent.Kernel.ConntrackEventSource source)
    {
        var sampler = new Palisade.Agent.Following.FlowSampler(() => ruleset, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        using var kernel = new Palisade.Agent.Kernel.NftCommand(topology.HostNamespace)
        {
            EventCoalescing = coalescing, EventSource = source, EventLog = line => Console.WriteLine($"  ({line})"),
        };
        GC.Collect();
        self.Refresh();
        var (rssBefore, heapBefore) = (self.WorkingSet64, GC.GetTotalMemory(true));
        // The agent's path: the events read on their own thread, batches to the sampler.
        var reading = Task.Run(() => sampler.RunAsync(kernel.WatchNewConnectionBatchesAsync(stop.Token), stop.Token));
        await Task.Delay(1500); // subscribed
        var conntrackBefore = source == Palisade.Agent.Kernel.ConntrackEventSource.Command ? ChildCpu("conntrack") : 0;
        var start = Cpu();
        var sampled = Load();
        var readerCpu = (Cpu() - start).TotalSeconds;
        await Task.Delay(1500); // the last events read
        var conntrackCpu = source == Palisade.Agent.Kernel.ConntrackEventSource.Command ? ChildCpu("conntrack") - conntrackBefore : 0;
        self.Refresh();
        var (rssAfter, heapAfter) = (self.WorkingSet64, GC.GetTotalMemory(false));
        var counts = kernel.NetlinkCounts;
        await stop.CancelAsync();
        try
        {
            await reading;
        }
        catch (OperationCanceledException)
        {
        }
        var name = source == Palisade.Agent.Kernel.ConntrackEventSource.Netlink ? "netlink socket + sampler" : "conntrack -E + block reader + sampler";
        Say(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Rate(sampled)} | {readerCpu / sampled.Seconds * 100:F1} % | {(counts is null ? $"{conntrackCpu / sampled.Seconds * 100:F1} %" : "–")} | {(readerCpu + conntrackCpu) / sampled.Seconds * 100:F1} % | "
            + $"{sampler.Seen:N0} ({(double)sampler.Seen / Math.Max(1, sampled.Made) * 100:F1} % of the connections) | {(counts is null ? "–" : $"{counts.Lost:N0} lost in {counts.Overruns:N0} overruns / {counts.Malformed:N0}")} | "
            + $"heap +{(heapAfter - heapBefore) / (1024.0 * 1024):F1} MiB, working set {rssAfter / (1024.0 * 1024):F0} MiB (was {rssBefore / (1024.0 * 1024):F0}) | {LoadAverage()} |"));
        if (counts is null && source == Palisade.Agent.Kernel.ConntrackEventSource.Netlink)
            Say("(the netlink socket could not be opened: the phase above read conntrack -E)");
    }
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);

// Issue 20: the flow sampler's own cost per confirmed connection, in process: 600,000 conntrack event
// lines (one minute at 10,000 new connections a second) to 100 NICs from 20,000 sources on 5 ports,
// read as the agent reads them (ConntrackLine.ParseEvent, FlowSampler.Record) with the default caps,
// against the baseline of parsing the lines alone. The kernel's side (conntrack's event delivery) is not in it.
void Sampler()
{
    Say("\n## Flow sampler (issue 20): CPU and memory per confirmed connection, in process");
    var (state, bindings) = Generated(nics: 100, rulesPerNic: 10, seed: 20);
    var ruleset = PolicyRenderer.Render(state, bindings, 1);
    var random = new Random(20);
    var lines = new string[600_000];
    for (var i = 0; i < lines.Length; i++)
    {
        var nic = ruleset.Nics[random.Next(ruleset.Nics.Length)];
        var source = $"198.19.{random.Next(80)}.{random.Next(250)}";
        var port = new[] { 22, 80, 443, 5432, 6379 }[random.Next(5)];
        lines[i] = $"    [NEW] tcp      6 120 SYN_SENT src={source} dst={nic.Addresses[0]} sport={random.Next(32768, 60999)} dport={port} [UNREPLIED] src={nic.Addresses[0]} dst={source} sport={port} dport=40000 zone={nic.Zone}";
    }
    var process = Process.GetCurrentProcess();
    for (var round = 0; round < 3; round++)
    {
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var parsed = 0;
        foreach (var line in lines)
        {
            if (Palisade.Agent.Kernel.ConntrackLine.ParseEvent(line) is not null)
                parsed++;
        }
        process.Refresh();
        var parseCpu = process.TotalProcessorTime - cpu;
        var sampler = new Palisade.Agent.Following.FlowSampler(() => ruleset, TimeProvider.System);
        cpu = process.TotalProcessorTime;
        foreach (var line in lines)
        {
            if (Palisade.Agent.Kernel.ConntrackLine.ParseEvent(line) is { } connection)
                sampler.Record(connection);
        }
        process.Refresh();
        var sampleCpu = process.TotalProcessorTime - cpu;
        var held = GC.GetTotalMemory(false) - before;
        var report = sampler.Take(int.MaxValue);
        Say(string.Create(CultureInfo.InvariantCulture,
            $"round {round + 1}: {lines.Length:N0} events; parse alone {parseCpu.TotalMilliseconds / lines.Length * 1000:F2} µs CPU each; parse + sample {sampleCpu.TotalMilliseconds / lines.Length * 1000:F2} µs each "
            + $"({sampleCpu.TotalSeconds / 60 * 100:F1} % of one core at 10,000/s); {sampler.Seen:N0} seen, {report.Flows.Count:N0} aggregates kept, {report.Drops.Sum(d => d.Connections):N0} dropped over the cap; "
            + $"~{held / (1024 * 1024):N0} MiB held by the aggregates"));
    }
    // The same minute of events as conntrack -E writes them, read from memory the two ways: line by
    // line (StreamReader.ReadLine, a string per line, ParseEvent, Record: the reader before, less its
    // thread-pool round trip per line, which only a real pipe shows) and in blocks (ConntrackEventReader:
    // lines parsed from the bytes, RecordBatch per block). Same process, same events, CPU per event.
    var output = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
    Say("| reader (in memory, no pipe) | CPU per event | seen | ratio to line by line |");
    Say("|---|---:|---:|---:|");
    for (var round = 0; round < 3; round++)
    {
        var byLine = new Palisade.Agent.Following.FlowSampler(() => ruleset, TimeProvider.System);
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        using (var reader = new StreamReader(new MemoryStream(output), Encoding.UTF8))
        {
            while (reader.ReadLine() is { } line)
            {
                if (Palisade.Agent.Kernel.ConntrackLine.ParseEvent(line) is { } connection)
                    byLine.Record(connection);
            }
        }
        process.Refresh();
        var lineCpu = process.TotalProcessorTime - cpu;
        var inBlocks = new Palisade.Agent.Following.FlowSampler(() => ruleset, TimeProvider.System);
        var batch = new List<Palisade.Agent.Kernel.TrackedConnection>(4096);
        cpu = process.TotalProcessorTime;
        var at = 0;
        while (at < output.Length)
        {
            var block = output.AsSpan(at, Math.Min(Palisade.Agent.Kernel.ConntrackEventReader.BlockSize, output.Length - at));
            at += Palisade.Agent.Kernel.ConntrackEventReader.ParseBlock(block, batch, final: at + block.Length == output.Length);
            inBlocks.RecordBatch(batch.ToArray());
            batch.Clear();
        }
        process.Refresh();
        var blockCpu = process.TotalProcessorTime - cpu;
        if (byLine.Seen != inBlocks.Seen)
            throw new InvalidOperationException($"the readers disagree: {byLine.Seen} and {inBlocks.Seen} seen");
        Say(string.Create(CultureInfo.InvariantCulture, $"| round {round + 1}: line by line | {lineCpu.TotalMilliseconds / lines.Length * 1000:F2} µs | {byLine.Seen:N0} | 1 |"));
        Say(string.Create(CultureInfo.InvariantCulture, $"| round {round + 1}: in blocks (the agent's) | {blockCpu.TotalMilliseconds / lines.Length * 1000:F2} µs | {inBlocks.Seen:N0} | {blockCpu / lineCpu:F2} |"));
    }
}

// Issue 16, in process (no kernel): what the agent's re-render of a prefix-list entry edit costs
// against rendering the whole host, on the prefixlist bench's host (100 NICs, 10,100 ECS rules, state text as fetched).
void RerenderCost()
{
    Say("\n## Re-render after a prefix-list entry edit vs full render, in process (100 NICs, 10,100 ECS rules)");
    var (parts, _, _, _) = PrefixListHost();
    var applied = PolicyRenderer.Render([parts[0]], 1);
    var (re, full) = (new List<double>(), new List<double>());
    for (var i = 0; i < runs; i++)
    {
        var (before, after) = (parts[i % 2], parts[(i + 1) % 2]);
        var clock = Stopwatch.StartNew();
        var next = PolicyRenderer.Rerender(applied, [before], [after], i + 2);
        re.Add(clock.Elapsed.TotalMilliseconds);
        clock.Restart();
        var whole = PolicyRenderer.Render([after], i + 2);
        full.Add(clock.Elapsed.TotalMilliseconds);
        if (NftText.FullApply(next) != NftText.FullApply(whole) || ReferenceEquals(next.Nics[0], whole.Nics[0]) || !ReferenceEquals(next.Nics[0], applied.Nics[0]))
            throw new InvalidOperationException("the re-render is not the full render, or was not taken");
        applied = next;
    }
    Say($"{runs} edits, load average {Load()}; state text {parts[0].Source!.Length / 1024:N0} KiB");
    Say("| step | p50 | p99 |");
    Say("|---|---:|---:|");
    Say($"| re-render (the agent's path) | {P(re, 50):F1} ms | {P(re, 99):F1} ms |");
    Say($"| full render (before) | {P(full, 50):F1} ms | {P(full, 99):F1} ms |");
    Say($"ratio re-render/full: p50 {P(re, 50) / P(full, 50):F3}, p99 {P(re, 99) / P(full, 99):F3}");
}

// The prefix-list benches' host: 100 generated NICs of 100 rules, every NIC's group also naming the
// list; two versions of the list (200 entries, 100 differ), each as the state text the agent fetches.
(HostPart[] Parts, NetworkState[] Versions, List<HostBinding> Bindings, List<SecurityGroup> Groups) PrefixListHost()
{
    var (generated, bindings) = Generated(nics: 100, rulesPerNic: 100, seed: 16);
    var list = PrefixListId.Parse("pl-bench");
    // Every NIC's group also lets the list in on 443: the list's named set is shared by 100 chains.
    var groups = generated.Groups.Select((g, n) => g with
    {
        Rules = g.Rules.Add(new SecurityGroupRule(SecurityGroupRuleId.Parse($"sgr-pl{n}"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(443), Verdict.Accept,
            Priority.Create(1), NicType.Intranet, new RulePeer.PrefixList(list))),
    }).ToList();
    // Two versions of the list's 200 entries that differ in 100: an edit removes 100 blocks and adds 100 others.
    NetworkState Version(int v)
    {
        var kept = Enumerable.Range(0, 100).Select(i => Cidr.Create(IpAddress.V4((172u << 24) | (16u << 16) | ((uint)i << 8)), 24));
        var edited = Enumerable.Range(0, 100).Select(i => Cidr.Create(IpAddress.V4((172u << 24) | ((uint)(20 + v) << 16) | ((uint)i << 8)), 24));
        return new NetworkState("cn-hangzhou", groups, generated.Instances, [new PrefixList(list, "bench", IsV6: false, [.. kept, .. edited], MaxEntries: 200)]);
    }
    NetworkState[] versions = [Version(0), Version(1)];
    // The agent reads its policy as state file text: so does this bench, and the agent's path below is its own ConvergeAsync.
    string[] sources = [StateText(versions[0]), StateText(versions[1])];
    HostPart[] parts = [.. sources.Select(t => new HostPart(StateFileReader.Read(t), bindings) { Source = t })];
    return (parts, versions, bindings, groups);
}

void PrefixListEdit()
{
    Say("\n## Prefix-list edit of 100 entries to the kernel: set-element update vs full re-apply (100 NICs, 10,100 ECS rules, one run)");
    var (parts, versions, bindings, groups) = PrefixListHost();
    using var topology = new TestTopology();
    var file = Path.GetTempFileName();
    try
    {
        double Apply(string text)
        {
            File.WriteAllText(file, text);
            var clock = Stopwatch.StartNew();
            topology.InHost("nft", "-f", file);
            return clock.Elapsed.TotalMilliseconds;
        }
        var revision = 1L;
        var current = 0;
        var applied = PolicyRenderer.Render(versions[current], bindings, revision);
        Apply(NftText.FullApply(applied));
        using var library = new Palisade.Agent.Kernel.NftCommand(topology.HostNamespace);
        if (!library.Mode.Contains("libnftables", StringComparison.Ordinal))
            throw new InvalidOperationException(library.Mode);
        // Per path, the whole of what the agent does for the edit, and its steps: render, diff (the update's text), kernel.
        var paths = new[] { "agent (EnforcementAgent.ConvergeAsync: re-render of the changed sets, libnftables in process)", "before: full render, nft command", "baseline: full render, full re-apply (nft command)" };
        var follower = new Palisade.Agent.Following.EnforcementAgent(new NoControlPlane(), library, new Palisade.Agent.Following.AgentOptions("bench"), _ => { });
        follower.ConvergeAsync(new Palisade.Agent.Following.HostPolicy(revision, [parts[current]]), CancellationToken.None).GetAwaiter().GetResult();
        var total = paths.ToDictionary(p => p, _ => new List<double>());
        var render = paths.ToDictionary(p => p, _ => new List<double>());
        var diff = paths.ToDictionary(p => p, _ => new List<double>());
        var kernel = paths.ToDictionary(p => p, _ => new List<double>());
        var elements = 0;
        for (var i = 0; i < runs; i++)
        {
            // Interleaved, so that a change of load hits every path alike; each is the same edit (the
            // list goes to its other version).
            foreach (var path in paths)
            {
                current ^= 1;
                if (path.StartsWith("agent", StringComparison.Ordinal))
                {
                    // The agent's whole step for the fetched policy; its log says what it sent (set elements only).
                    var updatesBefore = follower.SetUpdates;
                    var whole = Stopwatch.StartNew();
                    follower.ConvergeAsync(new Palisade.Agent.Following.HostPolicy(++revision, [parts[current]]), CancellationToken.None).GetAwaiter().GetResult();
                    total[path].Add(whole.Elapsed.TotalMilliseconds);
                    if (follower.SetUpdates != updatesBefore + 1)
                        throw new InvalidOperationException("the agent did not apply the edit as a set-element update");
                    applied = follower.Applied!;
                    continue;
                }
                var clock = Stopwatch.StartNew();
                var next = PolicyRenderer.Render(versions[current], bindings, ++revision);
                render[path].Add(clock.Elapsed.TotalMilliseconds);
                var step = Stopwatch.StartNew();
                string text;
                if (path.StartsWith("baseline", StringComparison.Ordinal))
                    text = NftText.FullApply(next);
                else
                {
                    if (!next.SameShapeAs(applied))
                        throw new InvalidOperationException("a prefix-list edit changed the ruleset's shape");
                    text = NftText.SetUpdate(applied, next);
                    elements = text.Split('\n').Where(l => l.Contains(" element ", StringComparison.Ordinal)).Sum(l => l.Count(c => c == ',') + 1);
                    if (elements != 200)
                        throw new InvalidOperationException($"the edit is {elements} set elements, not 200:\n{text}");
                }
                diff[path].Add(step.Elapsed.TotalMilliseconds);
                File.WriteAllText(file, text);
                step.Restart();
                topology.InHost("nft", "-f", file);
                kernel[path].Add(step.Elapsed.TotalMilliseconds);
                total[path].Add(clock.Elapsed.TotalMilliseconds);
                applied = next;
            }
        }
        var check = topology.InHost("nft", "list", "set", "inet", "palisade", "pl4_pl-bench");
        if (!applied.Equals(PolicyRenderer.Render(versions[current], bindings, applied.Revision)) && !(applied.SameShapeAs(PolicyRenderer.Render(versions[current], bindings, applied.Revision))
            && applied.Sets.SequenceEqual(PolicyRenderer.Render(versions[current], bindings, applied.Revision).Sets)))
            throw new InvalidOperationException("the re-rendered ruleset is not the full render's");
        var expected = applied.Sets.Single(s => s.Name == "pl4_pl-bench").Elements.Select(e => e.ToString()).ToHashSet(StringComparer.Ordinal);
        var listed = System.Text.RegularExpressions.Regex.Matches(check, @"\d+\.\d+\.\d+\.\d+/\d+").Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        if (!listed.SetEquals(expected))
            throw new InvalidOperationException("the list's set in the kernel is not the last version's:\n" + check);
        Say($"{applied.Nics.Length} NICs, {groups.Sum(g => g.Rules.Length):N0} ECS rules; each edit {elements} set elements (100 deleted, 100 added); {runs} of each path, interleaved; load average before {Load()}.");
        Say("| path | kernel transaction | total p50 | p99 | max | render p50 / p99 | diff p50 | kernel p50 / p99 |");
        Say("|---|---|---:|---:|---:|---:|---:|---:|");
        // The agent's own steps, timed apart once per run after the interleaved rounds: the re-render, the diff, libnftables.
        for (var i = 0; i < runs; i++)
        {
            var path = paths[0];
            current ^= 1;
            var clock = Stopwatch.StartNew();
            var next = PolicyRenderer.Rerender(applied, [parts[current ^ 1]], [parts[current]], ++revision);
            render[path].Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            var text = NftText.SetUpdate(applied, next);
            diff[path].Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            library.ApplyAsync(text, CancellationToken.None).GetAwaiter().GetResult();
            kernel[path].Add(clock.Elapsed.TotalMilliseconds);
            applied = next;
        }
        foreach (var path in paths)
        {
            Say($"| {path} | {(path.StartsWith("baseline", StringComparison.Ordinal) ? "both tables replaced" : "delete/add element of one set")} | {P(total[path], 50):F1} ms | {P(total[path], 99):F1} ms | {total[path].Max():F1} ms "
                + $"| {P(render[path], 50):F1} / {P(render[path], 99):F1} ms | {P(diff[path], 50):F2} ms | {P(kernel[path], 50):F1} / {P(kernel[path], 99):F1} ms |");
        }
        var (agent, before, baseline) = (total[paths[0]], total[paths[1]], total[paths[2]]);
        Say($"ratio agent/full re-apply: p50 {P(agent, 50) / P(baseline, 50):F3}, p99 {P(agent, 99) / P(baseline, 99):F3}; agent/before: p99 {P(agent, 99) / P(before, 99):F3}; load average after {Load()}; target p99 <= 200 ms: {(P(agent, 99) <= 200 ? "met" : "NOT met")}");
    }
    finally
    {
        File.Delete(file);
    }
}

void Dispatch()
{
    Say("\n## Port-dispatched vs address-dispatched ruleset (100 NICs, 10,000 ECS rules on one host)");
    var (generated, generatedBindings) = Generated(nics: 99, rulesPerNic: 91, seed: 18);
    var (packet, packetBindings) = PacketPolicy();
    var state = new NetworkState("cn-hangzhou", generated.Groups.Concat(packet.Groups), generated.Instances.Concat(packet.Instances));
    var ruleset = PolicyRenderer.Render(state, [.. generatedBindings, .. packetBindings], 1);
    var ecsRules = state.Groups.Sum(g => g.Rules.Length);
    var byPort = NftText.FullApply(ruleset);
    var byAddress = AddressDispatched(ruleset, byPort);
    using var topology = new TestTopology();
    var client = topology.AddInstance("c", "198.18.2.2");
    var server = topology.AddInstance("s", "198.18.2.3", MacAddress.ForInstance(InstanceId.Parse("i-s")).ToString());
    var acceptor = topology.Start(server, "python3", Path.Combine(AppContext.BaseDirectory, "Processes", "accept_loop.py"), "198.18.2.3", "9000");
    if (acceptor.StandardOutput.ReadLine() != "listening")
        throw new InvalidOperationException(acceptor.StandardError.ReadToEnd());
    double Connect()
    {
        var values = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var p = topology.Start(client, "python3", Path.Combine(AppContext.BaseDirectory, "Processes", "connect_loop.py"), "198.18.2.3", "9000", "2000");
            var line = p.StandardOutput.ReadLine() ?? throw new InvalidOperationException(p.StandardError.ReadToEnd());
            values.Add(double.Parse(line, CultureInfo.InvariantCulture));
        }
        return values.Min();
    }
    var none = Connect();
    // Interleaved, so that a change of load hits both alike.
    var applyPort = TimeApply(topology, byPort);
    var portUs = Connect();
    var applyAddress = TimeApply(topology, byAddress);
    var addressUs = Connect();
    var applyPort2 = TimeApply(topology, byPort);
    var portUs2 = Connect();
    Say($"{ruleset.Nics.Length} NICs, {ecsRules:N0} ECS rules; client outside the host -> the server NIC, whose allowing rule is its last of 1,000.");
    Say("| ruleset | full apply (mean of 5) | µs per connection (best of 3 x 2,000) | over no ruleset |");
    Say("|---|---:|---:|---:|");
    Say($"| none (bridge only) | – | {none:F1} | – |");
    Say($"| address-dispatched (before issue 18) | {applyAddress:F1} ms | {addressUs:F1} | +{addressUs - none:F1} |");
    Say($"| port-dispatched (issue 18), first | {applyPort:F1} ms | {portUs:F1} | +{portUs - none:F1} |");
    Say($"| port-dispatched (issue 18), again | {applyPort2:F1} ms | {portUs2:F1} | +{portUs2 - none:F1} |");
    // The cost over the bare bridge is within the noise of the first measurement (it can come out
    // negative), so the ratio of the whole per-connection times is reported beside it.
    Say($"ratio port/address: full apply {(applyPort + applyPort2) / 2 / applyAddress:F2}, per connection {(portUs + portUs2) / 2 / addressUs:F2}, per-connection cost over the bare bridge {((portUs + portUs2) / 2 - none) / (addressUs - none):F2}");
}

void Apply()
{
    Say("\n## Full apply (one nft -f transaction, replacing a populated table; mean of 5 after 1 warm-up)");
    Say("| ECS rules | NICs | kernel rules (ours) | ours: render (warm) + apply | naive linear: kernel rules | naive: apply |");
    Say("|---|---|---|---|---|---|");
    foreach (var total in new[] { 1_000, 10_000 })
    {
        var (state, bindings) = Generated(nics: 10, rulesPerNic: total / 10, seed: total);
        using var topology = new TestTopology();
        HostRuleset ruleset = null!;
        var ours = "";
        var renderMs = double.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            var render = Stopwatch.StartNew();
            ruleset = PolicyRenderer.Render(state, bindings, 1);
            ours = NftText.FullApply(ruleset);
            renderMs = Math.Min(renderMs, render.Elapsed.TotalMilliseconds);
        }
        var naive = NaiveLinear(state, bindings);
        var oursMs = TimeApply(topology, ours);
        var naiveMs = TimeApply(topology, naive);
        var oursRules = ruleset.Nics.Sum(n => n.Ingress.Rules.Length + n.Egress.Rules.Length + 2);
        var naiveRules = naive.Split('\n').Count(l => l.StartsWith("\t\t", StringComparison.Ordinal) && !l.Contains("type filter", StringComparison.Ordinal));
        Say($"| {total:N0} | 10 | {oursRules:N0} | {renderMs:F0} ms + {oursMs:F1} ms | {naiveRules:N0} | {naiveMs:F1} ms |");
    }
}

double TimeApply(TestTopology topology, string text)
{
    var file = Path.GetTempFileName();
    try
    {
        File.WriteAllText(file, text);
        var times = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var clock = Stopwatch.StartNew();
            topology.InHost("nft", "-f", file);
            if (i > 0)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times.Average();
    }
    finally
    {
        File.Delete(file);
    }
}

void Packet()
{
    Say("\n## Per-connection cost (2,000 sequential TCP connects client -> server through the host's bridge; server NIC with 1,000 ECS accept rules, the client's allowed by the last one)");
    using var topology = new TestTopology();
    var client = topology.AddInstance("c", "198.18.2.2");
    var server = topology.AddInstance("s", "198.18.2.3", MacAddress.ForInstance(InstanceId.Parse("i-s")).ToString());
    var acceptor = topology.Start(server, "python3", Path.Combine(AppContext.BaseDirectory, "Processes", "accept_loop.py"), "198.18.2.3", "9000");
    if (acceptor.StandardOutput.ReadLine() != "listening")
        throw new InvalidOperationException(acceptor.StandardError.ReadToEnd());
    var (state, bindings) = PacketPolicy();
    var rendered = PolicyRenderer.Render(state, bindings, 1);
    var ours = NftText.FullApply(rendered);
    // Issue 20 item 6: the same ruleset without the rule counters (palisade agent --no-rule-counters).
    var uncounted = NftText.FullApply(rendered with { Counters = false });
    var naive = NaiveLinear(state, bindings);
    // Wall and CPU microseconds per connection, each the best of 3 runs of 2,000: on a loaded machine
    // wall time is mostly waiting for a core; the client's CPU time (the first packet's trip through
    // the host's hooks runs in its softirq) is what the ruleset costs.
    (double Wall, double Cpu) Measure()
    {
        var values = new List<(double, double)>();
        for (var i = 0; i < 3; i++)
        {
            var p = topology.Start(client, "python3", Path.Combine(AppContext.BaseDirectory, "Processes", "connect_cpu.py"), "198.18.2.3", "9000", "2000");
            var line = p.StandardOutput.ReadLine() ?? throw new InvalidOperationException(p.StandardError.ReadToEnd());
            var fields = line.Split(' ');
            values.Add((double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture)));
        }
        return (values.Min(v => v.Item1), values.Min(v => v.Item2));
    }
    var loadBefore = Load();
    var none = Measure();
    // Counters on and off alternate (--rounds times each, default 5), so that a change of load hits both alike.
    var on = new List<(double Wall, double Cpu)>();
    var off = new List<(double Wall, double Cpu)>();
    for (var round = 0; round < Arg("--rounds", 5); round++)
    {
        topology.InHost("nft", "-f", WriteTemp(ours));
        on.Add(Measure());
        // The counters count: the client's rule (the last of 1,000, inside the merged run) saw every connection.
        var clientCounter = topology.InHost("nft", "list", "counter", "inet", "palisade", NftText.CounterName(rendered.Nics[0].Ingress.Name, "sgr-client"));
        if (System.Text.RegularExpressions.Regex.Match(clientCounter, @"packets (\d+)") is not { Success: true } m || long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) < 6_000)
            throw new InvalidOperationException("the client's rule counted less than its 6,000 connections:\n" + clientCounter);
        topology.InHost("nft", "-f", WriteTemp(uncounted));
        off.Add(Measure());
    }
    var counted = topology.InHost("nft", "list", "counters", "table", "inet", "palisade");
    // The naive list has no bridge table: ours would drop what the naive inet table never marks as judged.
    topology.InHost("nft", "-f", WriteTemp("table bridge palisade\ndelete table bridge palisade\n" + naive));
    var naiveUs = Measure();
    topology.InHost("nft", "-f", WriteTemp("table bridge palisade\ndelete table bridge palisade\ntable inet palisade\ndelete table inet palisade\n"));
    var noneAfter = Measure();
    string Rounds(List<(double Wall, double Cpu)> r, bool cpu) => string.Join(", ", r.Select(v => (cpu ? v.Cpu : v.Wall).ToString("F1", CultureInfo.InvariantCulture)));
    var (onCpu, offCpu, onWall, offWall) = (on.Min(v => v.Cpu), off.Min(v => v.Cpu), on.Min(v => v.Wall), off.Min(v => v.Wall));
    var noneCpu = Math.Min(none.Cpu, noneAfter.Cpu);
    Say($"load average before {loadBefore}, after {Load()}; counters off left no counter in the kernel: {!counted.Contains("counter c_", StringComparison.Ordinal)}");
    Say("| ruleset | client CPU µs per connection (best of 3 x 2,000 per round) | over no ruleset | wall µs per connection | rounds (CPU) |");
    Say("|---|---:|---:|---:|---|");
    Say($"| none (bridge only), before / after | {none.Cpu:F1} / {noneAfter.Cpu:F1} | – | {none.Wall:F1} / {noneAfter.Wall:F1} | |");
    Say($"| Palisade, rule counters on (the default; runs are maps to counters) | {onCpu:F1} | +{onCpu - noneCpu:F1} | {onWall:F1} | {Rounds(on, true)} |");
    Say($"| Palisade, rule counters off (--no-rule-counters; runs are plain sets) | {offCpu:F1} | +{offCpu - noneCpu:F1} | {offWall:F1} | {Rounds(off, true)} |");
    Say($"| naive linear (one rule per ECS rule) | {naiveUs.Cpu:F1} | +{naiveUs.Cpu - noneCpu:F1} | {naiveUs.Wall:F1} | |");
    var paired = on.Zip(off, (a, b) => a.Cpu / b.Cpu).ToList();
    Say($"counters on/off, client CPU per connection: best {onCpu / offCpu:F3} ({(onCpu / offCpu - 1) * 100:+0.0;-0.0} %), median of the {paired.Count} paired rounds {P(paired, 50):F3}; "
        + $"wall best {onWall / offWall:F3}; target <= +10 %: {(onCpu / offCpu <= 1.10 ? "met" : "NOT met")} (CPU, best of each)");
}

string WriteTemp(string text)
{
    var file = Path.Combine(Path.GetTempPath(), "palisade-bench-" + Guid.NewGuid().ToString("N") + ".nft");
    File.WriteAllText(file, text);
    return file;
}

async Task Converge()
{
    Say($"\n## Convergence (API answer -> a new TCP connection behaves accordingly, probed every <= 10 ms from a namespace; {runs} runs each)");
    var data = Path.Combine(Path.GetTempPath(), "palisade-bench-agent-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(data);
    using var topology = new TestTopology();
    // The server's request log (each call's line written as it is answered) splits a change's time at the
    // agent's wake (its long poll answered) and its fetch (DescribeHostPolicy answered).
    using var server = await ServerProcess.StartAsync(data, null, serveArguments: ["--log-requests"], keepOutput: true);
    AgentProcess? agent = null;
    try
    {
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(60) };
        var api = server.Client(http);
        const string region = "cn-hangzhou";
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.1.0/24" }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
        async Task<string> Group(string name) => (await api.CallAsync("CreateSecurityGroup", new { RegionId = region, VpcId = vpc, SecurityGroupName = name })).GetProperty("SecurityGroupId").GetString()!;
        var sizes = new[] { 1, 10, 100 };
        var serverGroup = await Group("server");
        var targets = new Dictionary<int, string>();
        var sources = new Dictionary<int, string>();
        foreach (var k in sizes)
        {
            targets[k] = await Group($"target{k}");
            sources[k] = await Group($"source{k}");
            // The k NICs of target{k} let members of source{k} in on port 7000+k.
            await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = region, SecurityGroupId = targets[k], IpProtocol = "TCP", PortRange = $"{7000 + k}/{7000 + k}", SourceGroupId = sources[k] });
        }
        async Task<string> Run(string name, string? ip, params string[] groups)
        {
            var p = new List<KeyValuePair<string, string>> { new("RegionId", region), new("ImageId", "ubuntu"), new("InstanceType", "ecs.g7.large"), new("VSwitchId", vsw), new("InstanceName", name) };
            if (ip is not null)
                p.Add(new("PrivateIpAddress", ip));
            for (var i = 0; i < groups.Length; i++)
                p.Add(new($"SecurityGroupIds.{i + 1}", groups[i]));
            return (await api.CallAsync("RunInstances", p)).GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
        }
        // S (bound here) is in every target group; 99 more NICs bound here (interfaces that need not
        // exist) fill target10 and target100. C is an instance of another host: not bound here.
        var s = await Run("s", "198.18.1.3", serverGroup, targets[1], targets[10], targets[100]);
        // C has a group of its own: sharing one with S would let it in by inner access whatever the rules.
        var c = await Run("c", "198.18.1.2", await Group("client"));
        var fakes = new List<string>();
        for (var i = 0; i < 99; i++)
            fakes.Add(await Run($"n{i}", null, i < 9 ? [targets[10], targets[100]] : [targets[100]]));
        // The agent runs with the host credential the operator makes (issue 18); the operator binds.
        var credentials = server.HostCredential("bench", "vh-* vf*", "198.18.0.0/15");
        var clientNs = topology.AddInstance("c", "198.18.1.2");
        var serverNs = topology.AddInstance("s", "198.18.1.3", MacAddress.ForInstance(InstanceId.Parse(s)).ToString());
        topology.Listen(serverNs, "198.18.1.3", [7000, 7001, 7010, 7100], []);
        server.Bind(s, "bench", TestTopology.HostInterfaceOf("s"));
        for (var i = 0; i < fakes.Count; i++)
            server.Bind(fakes[i], "bench", $"vf{i}");
        // --agent-args "--no-flow-sampling --no-rule-counters": the same run with the agent's optional work off, to tell its cost.
        agent = AgentProcess.Start(server.Url, credentials, "bench", topology.HostNamespace,
            ArgText("--agent-args")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []);
        Say($"agent started with: {ArgText("--agent-args") ?? "(defaults)"}; load average {Load()}");
        await agent.WaitForLogAsync("applied 100 NICs", TimeSpan.FromSeconds(60));

        var watcher = topology.Start(clientNs, "python3", "-u", Path.Combine(AppContext.BaseDirectory, "Processes", "watch.py"));
        // Where each change's time goes: API answer -> the agent's log line of that apply (its own clock,
        // UTC ms; the line is written once the kernel took the transaction) -> the probe saw it.
        var toApplied = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        var appliedToProbe = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        var ownTime = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        // Per kind of change: API answer -> agent woken -> policy fetched -> applied -> probe saw it (ms).
        var phases = new Dictionary<string, (List<double> Wake, List<double> Fetched, List<double> Applied, List<double> Probe, List<double> FetchTook)>();
        static double ServedIn(string line) => double.TryParse(line.Split(' ') is var words && Array.IndexOf(words, "ms") is var i and > 0 ? words[i - 1] : "", CultureInfo.InvariantCulture, out var ms) ? ms : double.NaN;
        static DateTimeOffset? LineTime(string line) =>
            DateTimeOffset.TryParse(line[..Math.Max(0, line.IndexOf(' '))], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
        async Task<double> Until(Func<Task> change, bool open, int port, string kind = "")
        {
            var linesBefore = agent!.Log.Count;
            var serverLinesBefore = server.Output.Count;
            await change();
            var answeredAt = DateTimeOffset.UtcNow;
            await watcher.StandardInput.WriteLineAsync($"{(open ? "open" : "closed")} 198.18.1.3 {port}");
            await watcher.StandardInput.FlushAsync();
            var read = watcher.StandardOutput.ReadLineAsync();
            if (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))) != read)
                throw new TimeoutException($"the change never reached the kernel (agent {(agent.HasExited ? "exited" : "running")}):\n" + string.Join("\n", agent.Log.TakeLast(30)));
            var line = await read;
            if (line is null || !line.StartsWith("done ", StringComparison.Ordinal))
                throw new InvalidOperationException("watcher: " + line + watcher.StandardError.ReadToEnd());
            var probed = double.Parse(line[5..], CultureInfo.InvariantCulture);
            // The agent's first apply line after the change (a line may lag the probe by a few ms: wait for it).
            var applyWait = Stopwatch.StartNew();
            string? applied = null;
            while (applied is null && applyWait.Elapsed < TimeSpan.FromSeconds(5))
            {
                applied = agent.Log.Skip(linesBefore).FirstOrDefault(l => l.EndsWith(" ms", StringComparison.Ordinal) && (l.Contains("chains replaced", StringComparison.Ordinal) || l.Contains("address sets", StringComparison.Ordinal) || l.Contains(": applied ", StringComparison.Ordinal)));
                if (applied is null)
                    await Task.Delay(5);
            }
            if (applied is not null && DateTimeOffset.TryParse(applied[..applied.IndexOf(' ')], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var appliedAt))
            {
                var agentMs = (appliedAt - answeredAt).TotalMilliseconds;
                toApplied[open].Add(agentMs);
                appliedToProbe[open].Add(probed - agentMs);
                ownTime[open].Add(double.Parse(applied[(applied.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..^3], CultureInfo.InvariantCulture));
                var served = server.Output.Skip(serverLinesBefore).Select(l => (Line: l, At: LineTime(l))).Where(l => l.At is not null).ToList();
                // The wake: the agent's long poll answered after the change; the fetch: its next policy read.
                var wake = served.FirstOrDefault(l => l.Line.Contains(" DescribeChanges 200 ", StringComparison.Ordinal) && l.At >= answeredAt.AddMilliseconds(-2));
                var fetched = wake.Line is null ? default : served.FirstOrDefault(l => l.Line.Contains(" DescribeHostPolicy 200 ", StringComparison.Ordinal) && l.At >= wake.At);
                if (kind.Length > 0 && wake.Line is not null && fetched.Line is not null)
                {
                    if (!phases.TryGetValue(kind, out var lists))
                        phases[kind] = lists = ([], [], [], [], []);
                    lists.Wake.Add((wake.At!.Value - answeredAt).TotalMilliseconds);
                    lists.Fetched.Add((fetched.At!.Value - answeredAt).TotalMilliseconds);
                    lists.Applied.Add(agentMs);
                    lists.Probe.Add(probed);
                    lists.FetchTook.Add(ServedIn(fetched.Line));
                }
            }
            return probed;
        }

        Say("| change | NICs whose policy it touches | kernel transaction | p50 | p99 | max |");
        Say("|---|---|---|---|---|---|");
        var opened = new List<double>();
        var closed = new List<double>();
        // --pause-before-close MS: wait that long after an open is seen before closing again (the agent's
        // status report of the open is then long written), to tell what a change right after one costs.
        var pause = Arg("--pause-before-close", 0);
        for (var i = 0; i < runs; i++)
        {
            opened.Add(await Until(() => api.CallAsync("AuthorizeSecurityGroup", new { RegionId = region, SecurityGroupId = serverGroup, IpProtocol = "TCP", PortRange = "7000/7000", SourceCidrIp = "198.18.1.2/32" }), true, 7000, "authorize"));
            await Task.Delay(pause);
            closed.Add(await Until(() => api.CallAsync("RevokeSecurityGroup", new { RegionId = region, SecurityGroupId = serverGroup, IpProtocol = "TCP", PortRange = "7000/7000", SourceCidrIp = "198.18.1.2/32" }), false, 7000, "revoke"));
        }
        Say($"| authorize one rule (opens) | 1 | its chains only (100 NICs on the host) | {P(opened, 50):F0} ms | {P(opened, 99):F0} ms | {opened.Max():F0} ms |");
        Say($"| revoke it (closes) | 1 | its chains only | {P(closed, 50):F0} ms | {P(closed, 99):F0} ms | {closed.Max():F0} ms |");
        foreach (var k in sizes)
        {
            var joins = new List<double>();
            var leaves = new List<double>();
            var setUpdatesBefore = agent.Log.Count(l => l.Contains("address sets", StringComparison.Ordinal));
            var port = k switch { 1 => 7001, 10 => 7010, _ => 7100 };
            for (var i = 0; i < runs; i++)
            {
                joins.Add(await Until(() => api.CallAsync("JoinSecurityGroup", new { RegionId = region, InstanceId = c, SecurityGroupId = sources[k] }), true, port, "join"));
                await Task.Delay(pause);
                leaves.Add(await Until(() => api.CallAsync("LeaveSecurityGroup", new { RegionId = region, InstanceId = c, SecurityGroupId = sources[k] }), false, port, "leave"));
            }
            var setUpdates = agent.Log.Count(l => l.Contains("address sets", StringComparison.Ordinal)) - setUpdatesBefore;
            Say($"| join of an instance elsewhere (opens) | {k} | set elements only ({setUpdates} of {2 * runs} changes) | {P(joins, 50):F0} ms | {P(joins, 99):F0} ms | {joins.Max():F0} ms |");
            Say($"| leave (closes) | {k} | set elements only | {P(leaves, 50):F0} ms | {P(leaves, 99):F0} ms | {leaves.Max():F0} ms |");
        }
        List<double> Took(string kind) => [.. agent.Log.Where(l => l.Contains(kind, StringComparison.Ordinal) && l.EndsWith(" ms", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..^3], CultureInfo.InvariantCulture))];
        foreach (var open in new[] { true, false })
        {
            Say(string.Create(CultureInfo.InvariantCulture,
                $"\n{(open ? "opening" : "closing")} changes ({toApplied[open].Count} timed): API answer -> agent's apply line p50 {P(toApplied[open], 50):F1} / p99 {P(toApplied[open], 99):F1} ms " +
                $"(of which its own render + nft p50 {P(ownTime[open], 50):F1} / p99 {P(ownTime[open], 99):F1} ms); apply line -> probe saw it p50 {P(appliedToProbe[open], 50):F1} / p99 {P(appliedToProbe[open], 99):F1} ms"));
        }
        Say("\nWhere each kind of change spends its time, from the API answer (server's request log, ms resolution; p50 / p99 ms):\n");
        Say("| change | timed | agent woken | policy fetched (the fetch's own time) | agent applied | probe saw it |");
        Say("|---|---:|---:|---:|---:|---:|");
        foreach (var (kind, lists) in phases)
            Say(string.Create(CultureInfo.InvariantCulture,
                $"| {kind} | {lists.Wake.Count} | {P(lists.Wake, 50):F1} / {P(lists.Wake, 99):F1} | {P(lists.Fetched, 50):F1} / {P(lists.Fetched, 99):F1} ({P(lists.FetchTook, 50):F1} / {P(lists.FetchTook, 99):F1}) | {P(lists.Applied, 50):F1} / {P(lists.Applied, 99):F1} | {P(lists.Probe, 50):F1} / {P(lists.Probe, 99):F1} |"));
        if (ArgText("--server-log") is { } serverLog)
            File.WriteAllLines(serverLog, server.Output);
        if (ArgText("--agent-log") is { } agentLog)
            File.WriteAllLines(agentLog, agent.Log);
        Say($"load average at the end {Load()}");
        Say($"\nagent's own time per change (render + nft, fetch excluded), p50: whole tables {P(Took("applied"), 50):F1} ms, chains {P(Took("chains replaced"), 50):F1} ms, set elements {P(Took("address sets"), 50):F1} ms");
        await watcher.StandardInput.WriteLineAsync("quit");
    }
    finally
    {
        agent?.Dispose();
        server.Dispose();
        Directory.Delete(data, recursive: true);
    }
}

// A state file of a generated state, as the agent receives one (the fields of DescribeSecurityGroupAttribute and DescribeInstances).
static string StateText(NetworkState state)
{
    var root = new System.Text.Json.Nodes.JsonObject
    {
        ["RegionId"] = state.RegionId,
        ["SecurityGroups"] = new System.Text.Json.Nodes.JsonArray([.. state.Groups.Select(g => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["SecurityGroupId"] = g.Id.Value, ["SecurityGroupName"] = g.Name, ["VpcId"] = g.VpcId?.Value, ["InnerAccessPolicy"] = g.InnerAccessPolicy == InnerAccessPolicy.Accept ? "Accept" : "Drop",
            ["Permissions"] = new System.Text.Json.Nodes.JsonObject
            {
                ["Permission"] = new System.Text.Json.Nodes.JsonArray([.. g.Rules.Select(r =>
                {
                    var o = new System.Text.Json.Nodes.JsonObject { ["SecurityGroupRuleId"] = r.Id.ToString(), ["Direction"] = r.Direction == Direction.Ingress ? "ingress" : "egress" };
                    foreach (var (name, value) in PermissionFields.Of(r).Pairs())
                        o[name] = value;
                    return (System.Text.Json.Nodes.JsonNode)o;
                })]),
            },
        })]),
        ["Instances"] = new System.Text.Json.Nodes.JsonArray([.. state.Instances.Select(i => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["InstanceId"] = i.Id.Value, ["InstanceNetworkType"] = "vpc",
            ["VpcAttributes"] = new System.Text.Json.Nodes.JsonObject
            {
                ["VpcId"] = i.VpcId?.Value,
                ["PrivateIpAddress"] = new System.Text.Json.Nodes.JsonObject { ["IpAddress"] = new System.Text.Json.Nodes.JsonArray([.. i.PrivateAddresses.Select(a => (System.Text.Json.Nodes.JsonNode)a.ToString())]) },
            },
            ["SecurityGroupIds"] = new System.Text.Json.Nodes.JsonObject { ["SecurityGroupId"] = new System.Text.Json.Nodes.JsonArray([.. i.SecurityGroupIds.Select(g => (System.Text.Json.Nodes.JsonNode)g.Value)]) },
        })]),
        ["PrefixLists"] = new System.Text.Json.Nodes.JsonArray([.. state.PrefixLists.Select(l => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["PrefixListId"] = l.Id.Value, ["PrefixListName"] = l.Name, ["AddressFamily"] = l.IsV6 ? "IPv6" : "IPv4", ["MaxEntries"] = l.MaxEntries,
            ["Entries"] = new System.Text.Json.Nodes.JsonObject { ["Entry"] = new System.Text.Json.Nodes.JsonArray([.. l.Entries.Select(e => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["Cidr"] = e.ToString() })]) },
        })]),
    };
    return root.ToJsonString();
}

static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0..3] is var l ? string.Join(' ', l) : "";

static double P(List<double> values, int percentile)
{
    if (values.Count == 0)
        return double.NaN;
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

// 10 NICs in one VPC, each in its own group of rulesPerNic ingress rules: accept runs and drop runs
// of 20 rules, each rule a distinct /24 peer on one of 40 common ports, priorities rising.
static (NetworkState, List<HostBinding>) Generated(int nics, int rulesPerNic, int seed)
{
    var random = new Random(seed);
    int[] ports = [.. Enumerable.Range(0, 40).Select(i => 1000 + (i * 37))];
    var groups = new List<SecurityGroup>();
    var instances = new List<Instance>();
    var bindings = new List<HostBinding>();
    var vpc = VpcId.Parse("vpc-bench");
    for (var n = 0; n < nics; n++)
    {
        var rules = Enumerable.Range(0, rulesPerNic).Select(r => new SecurityGroupRule(
            SecurityGroupRuleId.Parse($"sgr-n{n}r{r}"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(ports[random.Next(ports.Length)]),
            r / 20 % 2 == 0 ? Verdict.Accept : Verdict.Drop, Priority.Create(1 + (r * 100 / rulesPerNic)), NicType.Intranet,
            new RulePeer.CidrBlock(Cidr.Create(IpAddress.V4((uint)((10u << 24) | ((uint)random.Next(1 << 16) << 8))), 24)))).ToList();
        var groupId = SecurityGroupId.Parse($"sg-n{n}");
        groups.Add(new SecurityGroup(groupId, $"g{n}", "", SecurityGroupType.Normal, vpc, InnerAccessPolicy.Accept, [.. rules], []));
        var id = InstanceId.Parse($"i-n{n}");
        instances.Add(new Instance(id, $"n{n}", NetworkType.Vpc, vpc, null, [IpAddress.V4((198u << 24) | (18u << 16) | (3u << 8) | (uint)(n + 1))], [], [groupId]));
        bindings.Add(new HostBinding(id, $"vb{n}"));
    }
    return (new NetworkState("cn-hangzhou", groups, instances), bindings);
}

// The server NIC of the packet test: 1,000 accept rules from /32s that are not the client, the
// client's own rule last, all on port 9000.
static (NetworkState, List<HostBinding>) PacketPolicy()
{
    var vpc = VpcId.Parse("vpc-bench");
    var rules = Enumerable.Range(0, 999).Select(r => new SecurityGroupRule(SecurityGroupRuleId.Parse($"sgr-p{r}"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(9000),
            Verdict.Accept, Priority.Create(1 + (r / 10)), NicType.Intranet, new RulePeer.CidrBlock(Cidr.Host(IpAddress.V4((10u << 24) | (uint)r + 1)))))
        .Append(new SecurityGroupRule(SecurityGroupRuleId.Parse("sgr-client"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(9000), Verdict.Accept, Priority.Create(100),
            NicType.Intranet, new RulePeer.CidrBlock(Cidr.Host(IpAddress.Parse("198.18.2.2")))))
        .ToList();
    var group = new SecurityGroup(SecurityGroupId.Parse("sg-packet"), "packet", "", SecurityGroupType.Normal, vpc, InnerAccessPolicy.Drop, [.. rules], []);
    var server = new Instance(InstanceId.Parse("i-s"), "s", NetworkType.Vpc, vpc, null, [IpAddress.Parse("198.18.2.3")], [], [group.Id]);
    return (new NetworkState("cn-hangzhou", [group], [server]), [new HostBinding(server.Id, TestTopology.HostInterfaceOf("s"))]);
}

// The ruleset before issue 18, for the dispatch comparison: the same per-NIC chains and sets, NICs
// told apart by address (ip saddr/daddr verdict maps) and each bridge port held to its addresses.
static string AddressDispatched(HostRuleset r, string byPort)
{
    var bridgeAt = byPort.IndexOf("table bridge palisade\n", StringComparison.Ordinal);
    var inet = byPort[..bridgeAt];
    foreach (var block in new[] { "set macs", "map zones", "map egress", "map ingress", "chain prerouting", "chain forward" })
    {
        var start = inet.IndexOf("\t" + block + " {", StringComparison.Ordinal);
        var end = inet.IndexOf("\n\t}\n", start, StringComparison.Ordinal) + 4;
        inet = inet[..start] + inet[end..];
    }
    var addresses = r.Nics.SelectMany(n => n.Addresses.Where(a => !a.IsV6).Select(a => (Address: a, Nic: n))).OrderBy(x => x.Address).ToList();
    string Elements(IEnumerable<string> e) => e.Any() ? $"\t\telements = {{ {string.Join(", ", e)} }}\n" : "";
    var dispatch = new StringBuilder();
    dispatch.Append("\tset nics4 {\n\t\ttype ipv4_addr\n").Append(Elements(addresses.Select(x => x.Address.ToString()))).Append("\t}\n\n");
    dispatch.Append("\tmap egress4 {\n\t\ttype ipv4_addr : verdict\n").Append(Elements(addresses.Select(x => $"{x.Address} : jump {x.Nic.Egress.Name}"))).Append("\t}\n\n");
    dispatch.Append("\tmap ingress4 {\n\t\ttype ipv4_addr : verdict\n").Append(Elements(addresses.Select(x => $"{x.Address} : jump {x.Nic.Ingress.Name}"))).Append("\t}\n\n");
    dispatch.Append("\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tct state established,related accept\n\t\tct state invalid drop\n"
        + "\t\tip saddr vmap @egress4\n\t\tip daddr vmap @ingress4\n\t\tip saddr @nics4 accept\n\t}\n\n");
    var open = inet.IndexOf("table inet palisade {\n", StringComparison.Ordinal) + "table inet palisade {\n".Length;
    inet = inet[..open] + dispatch + inet[open..];
    var bridge = new StringBuilder("table bridge palisade\ndelete table bridge palisade\ntable bridge palisade {\n");
    bridge.Append("\tset ports {\n\t\ttype ifname\n").Append(Elements(r.Nics.Select(n => $"\"{n.InterfaceName}\""))).Append("\t}\n\n");
    bridge.Append("\tset owned4 {\n\t\ttype ipv4_addr . ifname\n").Append(Elements(addresses.Select(x => $"{x.Address} . \"{x.Nic.InterfaceName}\""))).Append("\t}\n\n");
    bridge.Append("\tset nics4 {\n\t\ttype ipv4_addr\n").Append(Elements(addresses.Select(x => x.Address.ToString()))).Append("\t}\n\n");
    bridge.Append("\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;\n"
        + "\t\tiifname @ports ip saddr . iifname != @owned4 drop\n\t\tip saddr @nics4 ip saddr . iifname != @owned4 drop\n\t}\n}\n");
    return inet + bridge;
}

// The baseline: the same policy as one kernel rule per ECS rule and peer block, in the engine's
// order, in one chain per NIC, no sets, no merging.
static string NaiveLinear(NetworkState state, List<HostBinding> bindings)
{
    var w = new StringBuilder("table inet palisade\ndelete table inet palisade\ntable inet palisade {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tct state established,related accept\n");
    var chains = new StringBuilder();
    foreach (var b in bindings)
    {
        var instance = state.FindInstance(b.InstanceId)!;
        var policy = NicPolicy.Compile(state, instance);
        var resolver = new RuleResolver(state, instance);
        foreach (var a in instance.PrivateAddresses)
        {
            w.Append(CultureInfo.InvariantCulture, $"\t\tip daddr {a} jump in_{instance.Id}\n");
            w.Append(CultureInfo.InvariantCulture, $"\t\tip saddr {a} accept\n");
        }
        chains.Append(CultureInfo.InvariantCulture, $"\tchain in_{instance.Id} {{\n");
        foreach (var rule in policy.RulesInOrder(Direction.Ingress))
        {
            foreach (var block in resolver.PeerBlocks(rule))
            {
                chains.Append(CultureInfo.InvariantCulture,
                    $"\t\tip saddr {block} tcp dport {rule.Rule.Ports.Low}-{rule.Rule.Ports.High} {(rule.Rule.Policy == Verdict.Accept ? "accept" : "drop")}\n");
            }
        }
        chains.Append("\t\tdrop\n\t}\n");
    }
    w.Append("\t}\n").Append(chains).Append("}\n");
    return w.ToString();
}

static int Arg(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static string? ArgText(string name)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

// ConvergeAsync needs no control plane: the bench hands it the fetched policy itself.
sealed class NoControlPlane : Palisade.Agent.Following.IControlPlane
{
    public Task<Palisade.Agent.Following.HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => throw new NotSupportedException();

    public Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) => throw new NotSupportedException();

    public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<Palisade.Agent.Rendering.NicRef> nics, CancellationToken cancel) => throw new NotSupportedException();
}
