using System.Diagnostics;
using System.Globalization;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Bench;

/// <summary>
/// The <c>--memory</c> mode: per rule count, the bytes one compiled NIC keeps (the engine's own
/// estimate and the heap actually retained), a Stopwatch cross-check of the compile time, and a
/// check that the engine and the reference agree on every flow of the benchmark batch, both
/// directions. Returns 1 when any decision differs.
/// </summary>
public static class MemoryReport
{
    private static readonly int[] RuleCounts = [10, 100, 1000];

    /// <summary>Policies compiled and kept together per measurement, to average out the GC's granularity.</summary>
    private const int Kept = 32;

    private const int CompileSamples = 41;

    public static int Run(TextWriter output)
    {
        var invariant = CultureInfo.InvariantCulture;
        // The very first compile of the process pays for JIT: what a service sees at start-up.
        var largest = BenchUniverse.Create(RuleCounts[^1]);
        var coldStart = Stopwatch.GetTimestamp();
        _ = NicPolicy.Compile(largest.State, largest.Nic);
        var cold = Stopwatch.GetElapsedTime(coldStart).TotalMilliseconds;

        // Then warm up long enough for tiered compilation to reach its optimised code, so that the
        // Stopwatch column below is comparable with BenchmarkDotNet's.
        var warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < warmUntil)
        {
            foreach (var n in RuleCounts)
                _ = NicPolicy.Compile(BenchUniverse.Create(n).State, BenchUniverse.Create(n).Nic);
        }
        Thread.Sleep(500);

        output.WriteLine("## Memory per compiled NIC");
        output.WriteLine();
        output.WriteLine(string.Create(invariant, $"First compile in the process ({RuleCounts[^1]} rules, includes JIT): {cold:F1} ms"));
        output.WriteLine();
        output.WriteLine("| Rules (ingress/egress) | EstimatedBytes | Retained heap per policy | Compile, warm Stopwatch median |");
        output.WriteLine("|---:|---:|---:|---:|");
        foreach (var n in RuleCounts)
        {
            var universe = BenchUniverse.Create(n);
            var kept = new NicPolicy[Kept];
            var before = GC.GetTotalMemory(forceFullCollection: true);
            for (var i = 0; i < kept.Length; i++)
                kept[i] = NicPolicy.Compile(universe.State, universe.Nic);
            var after = GC.GetTotalMemory(forceFullCollection: true);
            var retained = (after - before) / (double)Kept;
            var policy = kept[0];
            GC.KeepAlive(kept);

            var times = new double[CompileSamples];
            for (var i = 0; i < times.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                _ = NicPolicy.Compile(universe.State, universe.Nic);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Array.Sort(times);

            output.WriteLine(string.Create(invariant,
                $"| {n} ({policy.RuleCount(Direction.Ingress)}/{policy.RuleCount(Direction.Egress)}) | {policy.EstimatedBytes:N0} B | {retained:N0} B | {times[times.Length / 2]:F3} ms |"));
        }
        output.WriteLine();

        output.WriteLine("## Engine against reference on the benchmark batch");
        output.WriteLine();
        output.WriteLine("| Rules | Flows x directions | Mismatches | Ingress by rule | by inner access | by default | Ingress with any matching rule | Matching rules per ingress flow, mean |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        var totalMismatches = 0;
        foreach (var n in RuleCounts)
        {
            var universe = BenchUniverse.Create(n);
            var policy = NicPolicy.Compile(universe.State, universe.Nic);
            int mismatches = 0, byRule = 0, byInner = 0, byDefault = 0, anyMatch = 0, checkedCount = 0, matching = 0;
            foreach (var flow in universe.Flows)
            {
                // Ingress as benchmarked; egress with the ends swapped, so the NIC is the source.
                var swapped = flow with { Source = flow.Destination, Destination = flow.Source, DestinationPort = flow.SourcePort, SourcePort = flow.DestinationPort };
                foreach (var (direction, f) in new[] { (Direction.Ingress, flow), (Direction.Egress, swapped) })
                {
                    var fast = policy.Decide(direction, f);
                    var slow = ReferenceEvaluator.Decide(universe.State, universe.Nic, NicType.Intranet, direction, f);
                    checkedCount++;
                    if (!Same(fast, slow))
                    {
                        mismatches++;
                        if (mismatches <= 5)
                            output.WriteLine($"MISMATCH rules={n} {direction} {f}: engine {fast}, reference {slow}");
                    }
                    if (direction != Direction.Ingress)
                        continue;
                    switch (fast.Reason)
                    {
                        case DecisionReason.Rule: byRule++; break;
                        case DecisionReason.InnerAccess: byInner++; break;
                        default: byDefault++; break;
                    }
                    if (fast.DecidingRule is not null || !fast.Beaten.IsEmpty)
                        anyMatch++;
                    matching += fast.Beaten.Length + (fast.DecidingRule is null ? 0 : 1);
                }
            }
            totalMismatches += mismatches;
            output.WriteLine(string.Create(invariant,
                $"| {n} | {checkedCount} | {mismatches} | {byRule} | {byInner} | {byDefault} | {anyMatch} ({100.0 * anyMatch / universe.Flows.Length:F0} %) | {(double)matching / universe.Flows.Length:F1} |"));
        }
        output.WriteLine();
        output.WriteLine(totalMismatches == 0 ? "Engine and reference agree on every decision." : $"{totalMismatches} decisions differ.");
        return totalMismatches == 0 ? 0 : 1;
    }

    private static bool Same(Decision a, Decision b) =>
        a.Verdict == b.Verdict
        && a.Reason == b.Reason
        && a.InnerAccessGroup == b.InnerAccessGroup
        && Equals(a.DecidingRule, b.DecidingRule)
        && a.Beaten.SequenceEqual(b.Beaten);
}
