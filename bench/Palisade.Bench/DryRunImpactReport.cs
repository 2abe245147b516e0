using System.Diagnostics;
using System.Globalization;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Bench;

/// <summary>
/// `--dry-run-impact [instances groups rules]…`: the impact a dry run or <c>DescribeChangeImpact</c>
/// computes from the states before and after a change (<see cref="ImpactAnalysis.Between"/>, which
/// compares the flows of the instances <see cref="StateDifference.Affected"/> names) against the
/// every-pair comparison it replaced (<see cref="ImpactAnalysis.BetweenEveryPair"/>), on the same
/// states in the same process: CPU time and bytes allocated per change (what a noisy tenant's
/// analyses cost the server's collector), and the answers checked equal. The states are
/// <see cref="AnalysisReport.Generate"/>'s; the changes a revoke, an authorize and a join per group.
/// </summary>
public static class DryRunImpactReport
{
    private static readonly (int Instances, int Groups, int Rules)[] Sizes = [(100, 10, 200), (500, 50, 1_000)];

    public static int Run(TextWriter output, string[] args)
    {
        var sizes = Sizes;
        var numbers = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
        if (numbers.Length >= 3)
            sizes = [.. numbers.Chunk(3).Where(c => c.Length == 3).Select(c => (c[0], c[1], c[2]))];
        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine("Per change, median over the changes (CPU time of the thread; bytes allocated by the thread). Every answer of the two paths is checked equal.");
        output.WriteLine();
        output.WriteLine("| instances | groups | rules | changes | every pair: CPU / allocated | affected only: CPU / allocated | affected instances (median) | CPU ratio | allocation ratio |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (instances, groups, rules) in sizes)
        {
            var state = AnalysisReport.Generate(instances, groups, rules, seed: 7);
            var changes = Changes(state).ToList();
            // Warm both paths once (JIT), then measure.
            ImpactAnalysis.Between(state, changes[0].ApplyTo(state));
            ImpactAnalysis.BetweenEveryPair(state, changes[0].ApplyTo(state));
            var (slowCpu, slowBytes, fastCpu, fastBytes, affected) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
            foreach (var change in changes)
            {
                var after = change.ApplyTo(state);
                var (slow, cpu, bytes) = Measure(() => ImpactAnalysis.BetweenEveryPair(state, after));
                slowCpu.Add(cpu);
                slowBytes.Add(bytes);
                var (fast, cpu2, bytes2) = Measure(() => ImpactAnalysis.Between(state, after));
                fastCpu.Add(cpu2);
                fastBytes.Add(bytes2);
                affected.Add(StateDifference.Affected(state, after).Count);
                if (Show(slow) != Show(fast))
                    throw new InvalidOperationException($"{change.Describe()}: the two paths disagree");
            }
            var (sc, sb, fc, fb) = (Median(slowCpu), Median(slowBytes), Median(fastCpu), Median(fastBytes));
            output.WriteLine(string.Create(invariant,
                $"| {instances:N0} | {groups:N0} | {rules:N0} | {changes.Count} | {sc:F1} ms / {sb / 1_048_576:F1} MB | {fc:F1} ms / {fb / 1_048_576:F2} MB | {Median(affected):F0} | {sc / Math.Max(fc, 0.001):F1}× | {sb / Math.Max(fb, 1):F1}× |"));
        }
        return 0;
    }

    private static IEnumerable<Change> Changes(NetworkState state)
    {
        // Ten groups' changes at 100 instances; four at 500, where one every-pair comparison takes seconds.
        var withMembers = state.Groups.Where(g => state.MembersOf(g.Id).Length > 0).Take(state.Instances.Length > 200 ? 4 : 10).ToList();
        foreach (var (g, k) in withMembers.Select((g, k) => (g, k)))
        {
            if (g.Rules.FirstOrDefault(r => r.Direction == Direction.Ingress) is { } rule)
                yield return new Change.Revoke(rule.Id);
            yield return new Change.Authorize(g.Id, new SecurityGroupRule(SecurityGroupRuleId.Parse($"sgr-dryrun{k}"), Direction.Ingress, IpProtocol.Tcp,
                PortRange.Single(8443), Verdict.Accept, Priority.Create(1), NicType.Intranet, new RulePeer.CidrBlock(Cidr.Parse("10.0.0.0/8"))));
            if (state.Instances.FirstOrDefault(i => !i.SecurityGroupIds.Contains(g.Id) && i.SecurityGroupIds.Length < 5 && i.VpcId == g.VpcId) is { } joiner)
                yield return new Change.Join(joiner.Id, g.Id);
        }
    }

    private static ((IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) Result, double CpuMs, double Bytes) Measure(Func<(IReadOnlyList<FlowDelta>, IReadOnlyList<FlowDelta>)> work)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var result = work();
        var spent = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        return (result, spent, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static string Show((IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) impact) =>
        string.Join(";", impact.Gained.Concat(impact.Lost).Select(d => $"{d.Source}>{d.Target} {d.Protocol} {string.Join(",", d.Ports)}"));

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
