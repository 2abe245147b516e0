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
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;

namespace Palisade.Bench;

/// <summary>
/// `--analysis [instances groups rules]…`: on generated states (seeded, so runs compare) times the
/// full reachability matrix, the audit, what-ifs from the matrix (revokes and joins), the
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
        output.WriteLine("| instances | groups | rules | policies / instance classes | matrix | heap with matrix | audit (findings) | what-if revoke: first (changed pairs); next 5, median / max CPU | what-if join: likewise | pair-by-pair what-if (revoke) | Reach.To one target | oracle, one pair |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (instances, groups, rules) in sizes)
        {
            var state = Generate(instances, groups, rules, seed: 7);
            GC.Collect();
            var baseline = GC.GetTotalMemory(true);

            var sw = Clock.Start();
            var matrix = ReachMatrix.Build(state);
            var build = sw.Lap();
            var heap = (GC.GetTotalMemory(true) - baseline) / 1_048_576.0;

            sw.Restart();
            var findings = Auditor.Run(state);
            var audit = sw.Lap();

            // Revokes of inbound accepts from a group, in groups with members (one per group); instances
            // joining a group they are not in. The first of each kind runs cold (JIT); the others are
            // different changes, so each compiles its own policies, on a warm process.
            var revokes = state.Groups.Where(g => state.MembersOf(g.Id).Length > 0)
                .Select(g => g.Rules.FirstOrDefault(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept && r.Peer is RulePeer.Group))
                .OfType<SecurityGroupRule>().Take(WhatIfRuns).Select(r => (Change)new Change.Revoke(r.Id)).ToList();
            var joins = state.Instances.Skip(1).Take(WhatIfRuns)
                .Select(i => (Change)new Change.Join(i.Id, state.Groups.First(g => !i.SecurityGroupIds.Contains(g.Id)).Id)).ToList();
            var revoke = revokes[0];
            var (revokeTime, revokeImpact, revokeWarm) = TimeWhatIfs(matrix, revokes);
            var (joinTime, joined, joinWarm) = TimeWhatIfs(matrix, joins);

            // The pair-by-pair path only where it finishes in reasonable time.
            var slow = "not run";
            if (instances <= 1_000)
            {
                sw.Restart();
                var old = ImpactAnalysis.Of(state, revoke);
                slow = sw.Lap().Seconds;
                if (old.Lost.Count != revokeImpact.Lost.Count || old.Gained.Count != revokeImpact.Gained.Count)
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

            output.WriteLine(string.Create(invariant,
                $"| {instances:N0} | {groups:N0} | {rules:N0} | {matrix.PolicyCount:N0} / {matrix.Classes.Count:N0} | {build.Seconds} | {heap:F0} MB | " +
                $"{audit.Seconds} ({findings.Count:N0}) | {revokeTime.Milliseconds} ({revokeImpact.Lost.Count + revokeImpact.Gained.Count:N0}); {revokeWarm} | " +
                $"{joinTime.Milliseconds} ({joined.Lost.Count + joined.Gained.Count:N0}); {joinWarm} | {slow} | {oneTarget.Milliseconds} ({reach.Count:N0} sources) | {oracle.Milliseconds} |"));
            GC.KeepAlive(matrix);
        }
        output.WriteLine();
        output.WriteLine(string.Create(invariant, $"Peak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576.0:F0} MB"));
        return 0;
    }

    private const int WhatIfRuns = 6;

    /// <summary>The first change's time and impact, and the median and maximum CPU time of the others.</summary>
    private static (Lap First, Impact Impact, string Warm) TimeWhatIfs(ReachMatrix matrix, List<Change> changes)
    {
        var clock = Clock.Start();
        var impact = ImpactAnalysis.Of(matrix, changes[0]);
        var first = clock.Lap();
        var warm = new List<double>();
        foreach (var change in changes.Skip(1))
        {
            clock.Restart();
            ImpactAnalysis.Of(matrix, change);
            warm.Add(clock.Lap().Cpu.TotalMilliseconds);
        }
        warm.Sort();
        var text = warm.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{warm[warm.Count / 2]:F0} / {warm[^1]:F0} ms");
        return (first, impact, text);
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
    private sealed class Clock
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

    private readonly record struct Lap(TimeSpan Wall, TimeSpan Cpu)
    {
        public string Seconds => string.Create(CultureInfo.InvariantCulture, $"{Wall.TotalSeconds:F2} / {Cpu.TotalSeconds:F2} s");

        public string Milliseconds => string.Create(CultureInfo.InvariantCulture, $"{Wall.TotalMilliseconds:F0} / {Cpu.TotalMilliseconds:F0} ms");
    }
}
