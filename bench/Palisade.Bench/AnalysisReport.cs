using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Palisade.Analysis.Audit;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.TestKit;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;

namespace Palisade.Bench;

/// <summary>
/// `--analysis [instances groups rules]…`: on generated states (seeded, so runs compare) times the
/// full reachability matrix, the audit, what-ifs from the matrix (revokes, authorizes, joins and
/// leaves, many of each, with the median and the maximum), the
/// pair-by-pair path it replaced, and the brute-force oracle's time for one question (one source,
/// one target, every port of TCP and UDP and each other protocol). The state: one VPC; groups with
/// rules whose peers are private blocks, group references and 0.0.0.0/0, some drops; instances in
/// roles, each role a set of 1–3 groups (as many roles as groups), 20 % of instances with a public address.
/// </summary>
public static class AnalysisReport
{
    private static readonly (int Instances, int Groups, int Rules)[] Sizes =
        [(1_000, 100, 2_000), (1_000, 100, 20_000), (10_000, 1_000, 20_000)];

    public static int Run(TextWriter output, string[] args)
    {
        var sizes = Sizes;
        var numbers = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
        if (numbers.Length >= 3)
            sizes = [.. numbers.Chunk(3).Where(c => c.Length == 3).Select(c => (c[0], c[1], c[2]))];
        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine("Each time is wall clock / CPU time of the process (the machine is shared: CPU time is the steadier figure).");
        output.WriteLine();
        output.WriteLine("| instances | groups | rules | policies / instance classes | matrix | heap with matrix | group picture: all (edges) / around one group | audit (findings) | pair-by-pair what-if (revoke) | Reach.To one target | oracle, one pair | SMT oracle (z3), one pair |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var whatIfRows = new List<string>();
        foreach (var (instances, groups, rules) in sizes)
        {
            var state = Generate(instances, groups, rules, seed: 7);
            GC.Collect();
            var baseline = GC.GetTotalMemory(true);

            var sw = Clock.Start();
            var matrix = ReachMatrix.Build(state);
            var build = sw.Lap();
            var heap = (GC.GetTotalMemory(true) - baseline) / 1_048_576.0;

            // What DescribeReachability answers (the console's picture): the group matrix from the instance one.
            sw.Restart();
            var edges = matrix.ByGroup().Count;
            var picture = sw.Lap();
            sw.Restart();
            matrix.ByGroup(state.Groups[0].Id);
            var around = sw.Lap();

            sw.Restart();
            var findings = Auditor.Run(state);
            var audit = sw.Lap();

            // Revokes of inbound accepts from a group, in groups with members (one per group); authorizing
            // an inbound accept from another group in such groups; instances joining a group they are not
            // in; instances leaving the last of their groups. The first of each kind runs cold (JIT); the
            // others are different changes, so each compiles its own policies, on a warm process.
            var withMembers = state.Groups.Where(g => state.MembersOf(g.Id).Length > 0).ToList();
            var revokes = withMembers
                .Select(g => g.Rules.FirstOrDefault(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept && r.Peer is RulePeer.Group))
                .OfType<SecurityGroupRule>().Take(WhatIfRuns).Select(r => (Change)new Change.Revoke(r.Id)).ToList();
            var authorizes = withMembers.Take(WhatIfRuns).Select((g, k) => (Change)new Change.Authorize(g.Id, new SecurityGroupRule(
                SecurityGroupRuleId.Parse($"sgr-whatif{k}"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(8443), Verdict.Accept, Priority.Create(1 + (k % 100)),
                NicType.Intranet, new RulePeer.Group(withMembers[(k * 7 + 3) % withMembers.Count].Id)))).ToList();
            var joins = state.Instances.Skip(1).Take(WhatIfRuns)
                .Select(i => (Change)new Change.Join(i.Id, state.Groups.First(g => !i.SecurityGroupIds.Contains(g.Id)).Id)).ToList();
            var leaves = state.Instances.Where(i => i.SecurityGroupIds.Length > 1).Take(WhatIfRuns)
                .Select(i => (Change)new Change.Leave(i.Id, i.SecurityGroupIds[^1])).ToList();
            var revoke = revokes[0];
            Impact? revokeImpact = null;
            foreach (var (kind, changes) in new[] { ("revoke", revokes), ("authorize", authorizes), ("join", joins), ("leave", leaves) })
            {
                var (first, impact, warm) = TimeWhatIfs(matrix, changes);
                revokeImpact ??= impact;
                whatIfRows.Add(string.Create(invariant, $"| {instances:N0} | {groups:N0} | {rules:N0} | {kind} | {first.Milliseconds} ({impact.Lost.Count + impact.Gained.Count:N0}) | {warm} |"));
            }

            // The pair-by-pair path only where it finishes in reasonable time.
            var slow = "not run";
            if (instances <= 1_000)
            {
                sw.Restart();
                var old = ImpactAnalysis.Of(state, revoke);
                slow = sw.Lap().Seconds;
                if (old.Lost.Count != revokeImpact!.Lost.Count || old.Gained.Count != revokeImpact.Gained.Count)
                    throw new InvalidOperationException("the fast and the pair-by-pair what-if disagree");
            }
            sw.Restart();
            var reach = Reach.To(state, state.Instances[0]);
            var oneTarget = sw.Lap();

            sw.Restart();
            var allowed = Oracle(state, state.Instances[2], state.Instances[0]);
            var oracle = sw.Lap();
            var fromMatrix = matrix.Between(state.Instances[2], state.Instances[0]);
            if (allowed != Count(fromMatrix))
                throw new InvalidOperationException($"oracle {allowed} ports, matrix {fromMatrix}");
            // The SMT oracle (z3, where installed) on the same pair: a proof over every protocol and port.
            var smt = "no z3";
            if (Z3.Installed)
            {
                sw.Restart();
                var question = $"(not (= {new SmtEncoding(state).Allowed(state.Instances[2], state.Instances[0], v6: false)} " +
                    $"{SmtEncoding.Reported(fromMatrix.ToAccesses().Select(a => (a.Protocol, a.Ports.AsEnumerable())))}))";
                if (Z3.Check([question])[0].Satisfiable)
                    throw new InvalidOperationException("z3 found a flow where the semantics and the matrix disagree");
                smt = sw.Lap().Milliseconds;
            }

            output.WriteLine(string.Create(invariant,
                $"| {instances:N0} | {groups:N0} | {rules:N0} | {matrix.PolicyCount:N0} / {matrix.Classes.Count:N0} | {build.Seconds} | {heap:F0} MB | {picture.Seconds} ({edges:N0}) / {around.Milliseconds} | " +
                $"{audit.Seconds} ({findings.Count:N0}) | {slow} | {oneTarget.Milliseconds} ({reach.Count:N0} sources) | {oracle.Milliseconds} | {smt} |"));
            GC.KeepAlive(matrix);
        }
        output.WriteLine();
        output.WriteLine($"What-if from the matrix, one change at a time: the first of each kind cold (wall / CPU, and the flow deltas it reports), then {WhatIfRuns - 1} further different changes of the kind on the warm process.");
        output.WriteLine();
        output.WriteLine("| instances | groups | rules | change | first, cold (deltas) | next: wall median / p99 / max | CPU median / p99 / max |");
        output.WriteLine("|---:|---:|---:|---|---:|---:|---:|");
        foreach (var row in whatIfRows)
            output.WriteLine(row);
        output.WriteLine();
        output.WriteLine(string.Create(invariant, $"Peak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576.0:F0} MB"));
        return 0;
    }

    private const int WhatIfRuns = 41;

    /// <summary>The first change's time and impact, and the median, 99th percentile and maximum wall and CPU time of the others.</summary>
    private static (Lap First, Impact Impact, string Warm) TimeWhatIfs(ReachMatrix matrix, List<Change> changes)
    {
        var clock = Clock.Start();
        var impact = ImpactAnalysis.Of(matrix, changes[0]);
        var first = clock.Lap();
        var wall = new List<double>();
        var cpu = new List<double>();
        foreach (var change in changes.Skip(1))
        {
            clock.Restart();
            ImpactAnalysis.Of(matrix, change);
            var lap = clock.Lap();
            wall.Add(lap.Wall.TotalMilliseconds);
            cpu.Add(lap.Cpu.TotalMilliseconds);
        }
        static string Spread(List<double> times)
        {
            if (times.Count == 0)
                return "-";
            times.Sort();
            // The nearest-rank percentile: with fewer than 100 samples the 99th is the maximum.
            var p99 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(0.99 * times.Count) - 1)];
            return string.Create(CultureInfo.InvariantCulture, $"{times[times.Count / 2]:F0} / {p99:F0} / {times[^1]:F0} ms");
        }
        return (first, impact, $"{Spread(wall)} | {Spread(cpu)}");
    }

    /// <summary>The brute-force oracle for one question: every port of TCP and UDP and each other protocol, decided one flow at a time.</summary>
    private static int Oracle(NetworkState state, Instance source, Instance target)
    {
        var evaluator = new FlowEvaluator(state);
        var src = source.PrivateAddresses[0];
        var dst = target.PrivateAddresses[0];
        var allowed = 0;
        foreach (var protocol in new[] { IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All })
        {
            for (var port = protocol.HasPorts() ? PortRange.MinPort : 0; port <= (protocol.HasPorts() ? PortRange.MaxPort : 0); port++)
            {
                if (evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed)
                    allowed++;
            }
        }
        return allowed;
    }

    private static int Count(AccessSet access) =>
        access.ToAccesses().Sum(a => a.Protocol.HasPorts() ? a.Ports.Sum(p => p.High - p.Low + 1) : 1);

    public static NetworkState Generate(int instanceCount, int groupCount, int ruleCount, int seed)
    {
        var random = new Random(seed);
        var vpc = VpcId.Parse("vpc-gen");
        var protocols = new[] { IpProtocol.Tcp, IpProtocol.Tcp, IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.All };
        var groups = new List<SecurityGroup>();
        var perGroup = Math.Max(1, ruleCount / groupCount);
        var ruleNumber = 0;
        for (var g = 0; g < groupCount; g++)
        {
            var rules = new List<SecurityGroupRule>();
            for (var r = 0; r < perGroup; r++)
            {
                var protocol = protocols[random.Next(protocols.Length)];
                var port = new[] { 22, 80, 443, 3306, 5432, 6379, 8080, 9200 }[random.Next(8)];
                var ports = !protocol.HasPorts() ? PortRange.Any : random.Next(10) == 0 ? PortRange.Create(1, 65535) : random.Next(4) == 0 ? PortRange.Create(port, port + random.Next(100)) : PortRange.Single(port);
                RulePeer peer = random.Next(10) switch
                {
                    0 => new RulePeer.CidrBlock(Cidr.Parse("0.0.0.0/0")),
                    < 4 => new RulePeer.Group(SecurityGroupId.Parse($"sg-gen{random.Next(groupCount)}")),
                    _ => new RulePeer.CidrBlock(Cidr.Create(IpAddress.V4((uint)(10 << 24 | random.Next(1 << 16) << 8)), random.Next(16, 29))),
                };
                rules.Add(new SecurityGroupRule(SecurityGroupRuleId.Parse($"sgr-gen{ruleNumber++}"), random.Next(5) == 0 ? Direction.Egress : Direction.Ingress,
                    protocol, ports, random.Next(6) == 0 ? Verdict.Drop : Verdict.Accept, Priority.Create(random.Next(1, 101)), NicType.Intranet, peer));
            }
            groups.Add(new SecurityGroup(SecurityGroupId.Parse($"sg-gen{g}"), $"tier-{g}", "generated", SecurityGroupType.Normal, vpc,
                random.Next(2) == 0 ? InnerAccessPolicy.Accept : InnerAccessPolicy.Drop, [.. rules], []));
        }
        // Roles: role r's own group r, plus up to two groups shared by many roles (ops, monitoring: the first tenth).
        var shared = Math.Max(1, groupCount / 10);
        var roles = Enumerable.Range(0, groupCount)
            .Select(r => new[] { groups[r].Id }.Concat(Enumerable.Range(0, random.Next(0, 3)).Select(_ => groups[random.Next(shared)].Id)).Distinct().ToImmutableArray())
            .ToArray();
        var instances = new List<Instance>();
        for (var i = 0; i < instanceCount; i++)
        {
            var memberOf = roles[random.Next(roles.Length)];
            var address = IpAddress.V4((uint)(10 << 24 | (i + 256)));
            ImmutableArray<IpAddress> publicAddresses = random.Next(5) == 0 ? [IpAddress.V4((uint)(47 << 24 | i))] : [];
            instances.Add(new Instance(InstanceId.Parse($"i-gen{i}"), $"node-{i}", NetworkType.Vpc, vpc, null, [address], publicAddresses, memberOf));
        }
        return new NetworkState("cn-hangzhou", groups, instances);
    }

    /// <summary>Wall time and the process's CPU time since the last lap.</summary>
    internal sealed class Clock
    {
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;

        public static Clock Start() => new();

        public void Restart()
        {
            _wall.Restart();
            _cpu = Process.GetCurrentProcess().TotalProcessorTime;
        }

        public Lap Lap()
        {
            var lap = new Lap(_wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - _cpu);
            Restart();
            return lap;
        }
    }

    internal readonly record struct Lap(TimeSpan Wall, TimeSpan Cpu)
    {
        public string Seconds => string.Create(CultureInfo.InvariantCulture, $"{Wall.TotalSeconds:F2} / {Cpu.TotalSeconds:F2} s");

        public string Milliseconds => string.Create(CultureInfo.InvariantCulture, $"{Wall.TotalMilliseconds:F0} / {Cpu.TotalMilliseconds:F0} ms");
    }
}
