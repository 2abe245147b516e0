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

using Clock = Palisade.Bench.AnalysisReport.Clock;
using Lap = Palisade.Bench.AnalysisReport.Lap;

namespace Palisade.Bench;

/// <summary>
/// `--analysis-enis [--what-if-only | --audit-only | --list-edit-only] [instances groups rules lists]…` (issue 16): the analysis of
/// <see cref="AnalysisReport"/> on a state where every instance has two ENIs — its primary one and a
/// secondary ENI with its own address and its own groups (another role's), one in ten with an EIP —
/// and rules name prefix lists (one rule in ten that named a private block names one of the lists
/// instead; every list is named). The baseline is the same state with one NIC per instance and no
/// lists, measured in the same process just before: each figure is given with its ratio to it.
/// A prefix-list edit is a what-if from the matrix (<see cref="Change.ModifyPrefixList"/>: a private
/// /20 holding instances added, a public /24 added, an entry removed, the list emptied, in turn over the lists),
/// and the dry run's <see cref="ImpactAnalysis.Between(NetworkState, NetworkState)"/> of one edit (one
/// matrix and the edit); `--list-edit-only` measures those alone, with the two-matrix answer the dry
/// run gave before (<see cref="ImpactAnalysis.BetweenTwoMatrices"/>, minutes of CPU) and checks that
/// the three answers are the same.
/// </summary>
public static class EniAnalysisReport
{
    private static readonly (int Instances, int Groups, int Rules, int Lists)[] Sizes = [(10_000, 1_000, 20_000, 100)];

    private const int WhatIfRuns = 41;

    public static int Run(TextWriter output, string[] args)
    {
        var sizes = Sizes;
        var numbers = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
        if (numbers.Length >= 4)
            sizes = [.. numbers.Chunk(4).Where(c => c.Length == 4).Select(c => (c[0], c[1], c[2], c[3]))];
        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine("Each time is wall clock / CPU time of the process; ratios are of CPU time, ENI state over its one-NIC baseline.");
        output.WriteLine();
        output.WriteLine("| state | instances / ENIs | groups | rules (naming a list) | prefix lists | policies / instance classes | matrix | heap with matrix | audit (findings) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var whatIfRows = new List<string>();
        var stepRows = new List<(string State, List<(string Step, Lap Lap)> Steps)>();
        foreach (var (instances, groups, rules, lists) in sizes)
        {
            var baseline = AnalysisReport.Generate(instances, groups, rules, seed: 7);
            var withEnis = WithEnisAndPrefixLists(baseline, lists, seed: 11);
            var measured = new List<Measurement>();
            foreach (var (label, state) in new[] { ("one NIC (baseline)", baseline), ("two ENIs + prefix lists", withEnis) })
            {
                var m = Measure(state, whatIfOnly: args.Contains("--what-if-only"), auditOnly: args.Contains("--audit-only"), listEditOnly: args.Contains("--list-edit-only"));
                measured.Add(m);
                stepRows.Add((label, m.AuditSteps));
                var enis = state.Instances.Sum(i => i.Interfaces.Length);
                var naming = state.Groups.Sum(g => g.Rules.Count(r => r.Peer is RulePeer.PrefixList));
                output.WriteLine(string.Create(invariant,
                    $"| {label} | {instances:N0} / {enis:N0} | {groups:N0} | {rules:N0} ({naming:N0}) | {state.PrefixLists.Length} | {m.Policies:N0} / {m.Classes:N0} | {m.Matrix.Seconds} | {m.Heap:F0} MB | {m.Audit.Seconds} ({m.Findings:N0}) |"));
                foreach (var (kind, first, deltas, wall, cpu) in m.WhatIfs)
                    whatIfRows.Add(string.Create(invariant, $"| {label} | {kind} | {first.Milliseconds} ({deltas:N0}) | {Spread(wall)} | {Spread(cpu)} |"));
                foreach (var (kind, lap, deltas) in m.ListEdits)
                    whatIfRows.Add(string.Create(invariant, $"| {label} | {kind} | {lap.Milliseconds} ({deltas:N0}) | - | - |"));
            }
            var (b, e) = (measured[0], measured[1]);
            output.WriteLine(string.Create(invariant,
                $"| ratio (CPU) | | | | | | {Ratio(e.Matrix, b.Matrix)} | {e.Heap / Math.Max(1, b.Heap):F1}× | {Ratio(e.Audit, b.Audit)} |"));
        }
        if (stepRows.Any(r => r.Steps.Count > 0))
        {
            output.WriteLine();
            output.WriteLine("The audit step by step (wall / CPU; a step's time includes the policies it compiled first, shared with later steps):");
            output.WriteLine();
            output.WriteLine($"| step | {string.Join(" | ", stepRows.Select(r => r.State))} |");
            output.WriteLine($"|---|{string.Concat(stepRows.Select(_ => "---:|"))}");
            foreach (var step in stepRows.SelectMany(r => r.Steps.Select(s => s.Step)).Distinct())
                output.WriteLine($"| {step} | {string.Join(" | ", stepRows.Select(r => r.Steps.Where(s => s.Step == step).Select(s => s.Lap.Seconds).FirstOrDefault() ?? "-"))} |");
        }
        output.WriteLine();
        output.WriteLine($"What-if from the matrix: the first of each kind cold (its flow deltas), then {WhatIfRuns - 1} further different changes of the kind on the warm process (median / p99 / max; with 40 samples p99 is the max).");
        output.WriteLine();
        output.WriteLine("| state | change | first, cold (deltas) | next: wall median / p99 / max | CPU median / p99 / max |");
        output.WriteLine("|---|---|---:|---:|---:|");
        foreach (var row in whatIfRows)
            output.WriteLine(row);
        output.WriteLine();
        output.WriteLine(string.Create(invariant, $"Peak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576.0:F0} MB"));
        return 0;
    }

    private sealed record Measurement(int Policies, int Classes, Lap Matrix, double Heap, Lap Audit, int Findings, List<(string Step, Lap Lap)> AuditSteps,
        List<(string Kind, Lap First, int Deltas, List<double> Wall, List<double> Cpu)> WhatIfs, List<(string Kind, Lap Lap, int Deltas)> ListEdits);

    /// <param name="whatIfOnly">Skips the audit and the prefix-list edit's dry runs (`--what-if-only`).</param>
    /// <param name="auditOnly">Skips the what-ifs and the prefix-list edit (`--audit-only`), for the audit's steps alone.</param>
    /// <param name="listEditOnly">Skips the audit and the other what-ifs (`--list-edit-only`), and adds the
    /// dry run's old answer from two matrices.</param>
    private static Measurement Measure(NetworkState state, bool whatIfOnly, bool auditOnly, bool listEditOnly)
    {
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        var clock = Clock.Start();
        var matrix = ReachMatrix.Build(state);
        var build = clock.Lap();
        var heap = (GC.GetTotalMemory(true) - before) / 1_048_576.0;
        clock.Restart();
        var steps = new List<(string, Lap)>();
        var stepClock = Clock.Start();
        var findings = whatIfOnly || listEditOnly ? [] : Auditor.Run(state, stepDone: step => steps.Add((step, stepClock.Lap())));
        var audit = clock.Lap();

        var whatIfs = new List<(string, Lap, int, List<double>, List<double>)>();
        foreach (var (kind, changes) in auditOnly ? [] : listEditOnly ? ListEdits(state) : [.. Changes(state), .. ListEdits(state)])
        {
            if (changes.Count == 0)
                continue;
            clock.Restart();
            var impact = ImpactAnalysis.Of(matrix, changes[0]);
            var first = clock.Lap();
            var (wall, cpu) = (new List<double>(), new List<double>());
            foreach (var change in changes.Skip(1))
            {
                clock.Restart();
                ImpactAnalysis.Of(matrix, change);
                var lap = clock.Lap();
                wall.Add(lap.Wall.TotalMilliseconds);
                cpu.Add(lap.Cpu.TotalMilliseconds);
            }
            whatIfs.Add((kind, first, impact.Lost.Count + impact.Gained.Count, wall, cpu));
        }

        // A prefix-list edit known by its result (ModifyPrefixList's dry run): the impact of two states,
        // as the server computes it (Between: the state before's matrix and the edit), and with
        // --list-edit-only as it did before (two whole matrices). The answers must be the same.
        var listEdits = new List<(string, Lap, int)>();
        if (state.PrefixLists.Length > 0 && !whatIfOnly && !auditOnly)
        {
            var edit = ListEdits(state)[0].Changes[0];
            var edited = edit.ApplyTo(state);
            var fromMatrix = ImpactAnalysis.Of(matrix, edit);
            clock.Restart();
            var dryRun = ImpactAnalysis.Between(state, edited);
            listEdits.Add(("prefix-list edit as a dry run (Between: one matrix, then the edit)", clock.Lap(), dryRun.Gained.Count + dryRun.Lost.Count));
            Same("Between", dryRun, (fromMatrix.Gained, fromMatrix.Lost));
            if (listEditOnly)
            {
                clock.Restart();
                var twoMatrices = ImpactAnalysis.BetweenTwoMatrices(state, edited);
                listEdits.Add(("prefix-list edit as a dry run before (two matrices)", clock.Lap(), twoMatrices.Gained.Count + twoMatrices.Lost.Count));
                Same("BetweenTwoMatrices", twoMatrices, (fromMatrix.Gained, fromMatrix.Lost));
            }
        }
        GC.KeepAlive(matrix);
        return new Measurement(matrix.PolicyCount, matrix.Classes.Count, build, heap, audit, findings.Count, steps, whatIfs, listEdits);
    }

    private static void Same(string what, (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) answer, (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) fromMatrix)
    {
        static string Show(IEnumerable<FlowDelta> deltas) => string.Join('\n', deltas.Select(d => $"{d.Source} {d.Target} {d.Protocol} {string.Join(',', d.Ports)}"));
        if (Show(answer.Gained) != Show(fromMatrix.Gained) || Show(answer.Lost) != Show(fromMatrix.Lost))
            throw new InvalidOperationException($"{what} answers the prefix-list edit otherwise than the what-if from the matrix");
    }

    /// <summary>
    /// Prefix-list edits as ModifyPrefixList makes them, one list after another: a private /24 holding
    /// about 250 instances' addresses added, a public /24 added, its first entry removed, the list
    /// emptied; and, as a kind of its own (its answer runs to hundreds of thousands of flows), a /20
    /// holding about 4,000 instances' addresses added.
    /// </summary>
    private static List<(string Kind, List<Change> Changes)> ListEdits(NetworkState state)
    {
        var (edits, wide) = (new List<Change>(), new List<Change>());
        Change Add(PrefixList list, Cidr block) => new Change.ModifyPrefixList(list.Id, list.Entries.Contains(block) ? [] : [block], []);
        for (var k = 0; k < WhatIfRuns && state.PrefixLists.Length > 0; k++)
        {
            var list = state.PrefixLists[k % state.PrefixLists.Length];
            edits.Add((k % 4) switch
            {
                0 => Add(list, Cidr.Create(IpAddress.V4((uint)(10 << 24 | (1 + (k % 39)) << 8)), 24)),
                1 => Add(list, Cidr.Create(IpAddress.V4((uint)(203 << 24 | k << 8)), 24)),
                2 when list.Entries.Length > 0 => new Change.ModifyPrefixList(list.Id, [], [list.Entries[0]]),
                _ => new Change.ModifyPrefixList(list.Id, [], [.. list.Entries.Distinct()]),
            });
            if (k < 11)
                wide.Add(Add(list, Cidr.Create(IpAddress.V4((uint)(10 << 24 | (16 * (k % 3)) << 8)), 20)));
        }
        return [("prefix-list edit", edits), ("prefix-list edit: a /20 of ~4,000 instances added", wide)];
    }

    /// <summary>The bench's four kinds of change (as <see cref="AnalysisReport"/>), and an ENI's own join and leave where the state has ENIs.</summary>
    private static List<(string Kind, List<Change> Changes)> Changes(NetworkState state)
    {
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
        var eniJoins = state.Instances.Where(i => i.SecondaryInterfaces.Length > 0).Skip(1).Take(WhatIfRuns)
            .Select(i => (Change)new Change.Join(i.Id, state.Groups.First(g => !i.SecondaryInterfaces[0].SecurityGroupIds.Contains(g.Id)).Id, i.SecondaryInterfaces[0].Id)).ToList();
        var eniLeaves = state.Instances.Where(i => i.SecondaryInterfaces.Length > 0 && i.SecondaryInterfaces[0].SecurityGroupIds.Length > 1).Take(WhatIfRuns)
            .Select(i => (Change)new Change.Leave(i.Id, i.SecondaryInterfaces[0].SecurityGroupIds[^1], i.SecondaryInterfaces[0].Id)).ToList();
        return [("revoke", revokes), ("authorize", authorizes), ("join", joins), ("leave", leaves), ("ENI join", eniJoins), ("ENI leave", eniLeaves)];
    }

    /// <summary>
    /// <paramref name="state"/> with a secondary ENI on every instance (its own address in 10.128.0.0/9,
    /// another instance's groups, one in ten with an EIP) and <paramref name="lists"/> prefix lists of
    /// 1–20 private blocks (one in ten also a public /24), each named by at least one rule: one rule in
    /// ten that named a private block names a list instead.
    /// </summary>
    public static NetworkState WithEnisAndPrefixLists(NetworkState state, int lists, int seed)
    {
        var random = new Random(seed);
        var prefixLists = Enumerable.Range(0, lists).Select(k =>
        {
            var entries = Enumerable.Range(0, random.Next(1, 21))
                .Select(_ => Cidr.Create(IpAddress.V4((uint)(10 << 24 | random.Next(1 << 16) << 8)), random.Next(16, 29)))
                .Concat(random.Next(10) == 0 ? [Cidr.Create(IpAddress.V4((uint)(198 << 24 | 51 << 16 | random.Next(256) << 8)), 24)] : [])
                .Distinct().ToImmutableArray();
            return new PrefixList(PrefixListId.Parse($"pl-gen{k}"), $"list-{k}", false, entries, MaxEntries: 20);
        }).ToList();
        var named = 0;
        var groups = state.Groups.Select(g => g with
        {
            Rules = [.. g.Rules.Select(r => r.Peer is RulePeer.CidrBlock { Cidr.PrefixLength: > 0 } && (named < lists || random.Next(10) == 0)
                ? r with { Peer = new RulePeer.PrefixList(prefixLists[named++ % lists].Id) }
                : r)],
        }).ToList();
        var instances = state.Instances.Select((instance, i) => instance with
        {
            SecondaryInterfaces =
            [
                new NetworkInterface(NetworkInterfaceId.Parse($"eni-gen{i}"), [IpAddress.V4((uint)(10 << 24 | 1 << 23 | (i + 256)))],
                    random.Next(10) == 0 ? [IpAddress.V4((uint)(48 << 24 | i))] : [],
                    state.Instances[random.Next(state.Instances.Length)].SecurityGroupIds),
            ],
        }).ToList();
        return new NetworkState(state.RegionId, groups, instances, prefixLists);
    }

    private static string Ratio(Lap eni, Lap baseline) =>
        string.Create(CultureInfo.InvariantCulture, $"{eni.Cpu.TotalSeconds / Math.Max(1e-9, baseline.Cpu.TotalSeconds):F2}×");

    private static string Spread(List<double> times)
    {
        if (times.Count == 0)
            return "-";
        times.Sort();
        var p99 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(0.99 * times.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"{times[times.Count / 2]:F0} / {p99:F0} / {times[^1]:F0} ms");
    }
}
