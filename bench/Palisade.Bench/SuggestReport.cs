using System.Diagnostics;
using System.Globalization;
using Palisade.Analysis.Suggestions;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Flows;

namespace Palisade.Bench;

/// <summary>
/// `--suggest [records]`: <see cref="RuleSuggester.Suggest"/> on a group with that many observed flow
/// records (1,000,000 by default; each a distinct NIC, source, protocol and port, as the server's
/// summary gives them), against the baseline of deciding each record once with the engine (the least
/// any suggestion must do), in the same process. The state: one VPC, the group of 50 members with a
/// broad rule (TCP 1-65535 from 0.0.0.0/0) and a UDP rule, 20 other groups of 10 members. Records: 50
/// NICs × 10,000 sources × 2 ports (sources half in aligned runs, so blocks merge; half scattered),
/// with the members of two groups among the sources (so group peers are found). Seeded.
/// </summary>
public static class SuggestReport
{
    public static int Run(TextWriter output, string[] args)
    {
        var records = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).DefaultIfEmpty(1_000_000).First();
        var invariant = CultureInfo.InvariantCulture;
        var groups = new List<string>();
        var instances = new List<string>();
        string Instance(string id, string address, string group) =>
            $$$"""{"InstanceId":"{{{id}}}","VpcAttributes":{"VpcId":"vpc-b","PrivateIpAddress":{"IpAddress":["{{{address}}}"]}},"SecurityGroupIds":{"SecurityGroupId":["{{{group}}}"]}}""";
        groups.Add("""{"SecurityGroupId":"sg-web","SecurityGroupName":"web","VpcId":"vpc-b","Permissions":{"Permission":[""" +
            """{"SecurityGroupRuleId":"sgr-broad","Direction":"ingress","IpProtocol":"TCP","PortRange":"1/65535","SourceCidrIp":"0.0.0.0/0","Policy":"Accept","Priority":"1"},""" +
            """{"SecurityGroupRuleId":"sgr-dns","Direction":"ingress","IpProtocol":"UDP","PortRange":"53/53","SourceCidrIp":"0.0.0.0/0","Policy":"Accept","Priority":"2"}]}}""");
        for (var m = 0; m < 50; m++)
            instances.Add(Instance($"i-web{m}", $"10.0.0.{m + 10}", "sg-web"));
        for (var g = 0; g < 20; g++)
        {
            groups.Add($$$"""{"SecurityGroupId":"sg-tier{{{g}}}","SecurityGroupName":"tier{{{g}}}","VpcId":"vpc-b"}""");
            for (var m = 0; m < 10; m++)
                instances.Add(Instance($"i-t{g}m{m}", $"10.1.{g}.{m + 1}", $"sg-tier{g}"));
        }
        var state = StateFileReader.Read($$$"""{"RegionId":"cn-bench","SecurityGroups":[{{{string.Join(",", groups)}}}],"Instances":[{{{string.Join(",", instances)}}}]}""");
        var random = new Random(20);
        var sourcesPerNic = Math.Max(1, records / 50 / 2);
        var sources = new List<IpAddress>(sourcesPerNic);
        for (var g = 0; g < 2; g++)
        {
            for (var m = 0; m < 10; m++)
                sources.Add(IpAddress.Parse($"10.1.{g}.{m + 1}"));
        }
        while (sources.Count < sourcesPerNic)
        {
            // Half in aligned runs of 8 (blocks merge), half scattered over public space.
            if (random.Next(2) == 0)
            {
                var start = (uint)(random.Next(0x0B000000, 0x7F000000) & ~7);
                for (var k = 0; k < 8 && sources.Count < sourcesPerNic; k++)
                    sources.Add(IpAddress.V4(start + (uint)k));
            }
            else
            {
                sources.Add(IpAddress.V4((uint)random.Next(0x0B000000, 0x7F000000)));
            }
        }
        var flows = new List<ObservedConnection>(records);
        var ports = new[] { 443, 8443 };
        for (var n = 0; n < 50 && flows.Count < records; n++)
        {
            var nic = InstanceId.Parse($"i-web{n}");
            foreach (var source in sources)
            {
                foreach (var port in ports)
                {
                    if (flows.Count < records)
                        flows.Add(new ObservedConnection(nic, source, IpProtocol.Tcp, port, 1 + random.Next(100)));
                }
            }
        }
        output.WriteLine(string.Create(invariant, $"{flows.Count:N0} observed flow records to 50 NICs of sg-web ({sources.Count:N0} distinct sources, 2 ports); {state.Instances.Length} instances, {state.Groups.Length} groups"));
        var group = SecurityGroupId.Parse("sg-web");
        for (var round = 0; round < 3; round++)
        {
            GC.Collect();
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var evaluator = new FlowEvaluator(state);
            var accepted = 0;
            foreach (var flow in flows)
            {
                if (RuleSuggester.Decide(evaluator, state.FindInstance(flow.InstanceId)!, flow).Verdict == Domain.Rules.Verdict.Accept)
                    accepted++;
            }
            var baseline = clock.Elapsed;
            var baselineCpu = process.TotalProcessorTime - cpu;
            process.Refresh();
            cpu = process.TotalProcessorTime;
            clock.Restart();
            var suggestion = RuleSuggester.Suggest(state, group, flows);
            var took = clock.Elapsed;
            process.Refresh();
            var tookCpu = process.TotalProcessorTime - cpu;
            // Where the time goes: the same steps one by one.
            var phase = Stopwatch.StartNew();
            var (kept, _) = RuleSuggester.Attribute(state, group, flows);
            var tAttribute = phase.Elapsed.TotalSeconds;
            phase.Restart();
            var rules = RuleSuggester.RulesFor(state, group, kept.Select(k => RuleSuggester.Atom(k.Flow, k.Rule)));
            var tRules = phase.Elapsed.TotalSeconds;
            phase.Restart();
            var change = new Analysis.WhatIf.Change.ReplaceRules(group, [.. state.FindGroup(group)!.Rules.Select(r => r.Id)], [.. rules]);
            var after = change.ApplyTo(state);
            var afterEvaluator = new FlowEvaluator(after);
            var lost = kept.Count(k => RuleSuggester.Decide(afterEvaluator, after.FindInstance(k.Flow.InstanceId)!, k.Flow).Verdict != Domain.Rules.Verdict.Accept);
            var tLost = phase.Elapsed.TotalSeconds;
            phase.Restart();
            _ = Analysis.WhatIf.ImpactAnalysis.Of(state, change);
            var tImpact = phase.Elapsed.TotalSeconds;
            phase.Restart();
            _ = Analysis.WhatIf.ImpactAnalysis.Of(Analysis.Reachability.ReachMatrix.Build(state), change);
            var tMatrixImpact = phase.Elapsed.TotalSeconds;
            // Suggest decides each distinct question once per policy class and takes the what-if from the
            // matrix; the per-record decisions and the pair-by-pair what-if are their slow twins, timed here.
            output.WriteLine(string.Create(invariant, $"  steps: attribute {tAttribute:F2} s, rules {tRules:F2} s; slow twins: re-decide kept flows one by one {tLost:F2} s ({lost} lost), what-if pair by pair {tImpact:F2} s; the matrix's what-if {tMatrixImpact:F2} s"));
            output.WriteLine(string.Create(invariant,
                $"round {round + 1}: decide each record once (baseline) {baseline.TotalSeconds:F2} s wall / {baselineCpu.TotalSeconds:F2} s CPU ({accepted:N0} accepted); "
                + $"suggest {took.TotalSeconds:F2} s wall / {tookCpu.TotalSeconds:F2} s CPU = {took.TotalSeconds / baseline.TotalSeconds:F1}× the baseline; "
                + $"{suggestion.Rules.Length:N0} rules replace {suggestion.Replaced.Length}, {suggestion.FlowsKept:N0} flows kept, {suggestion.Lost.Length} lost, "
                + $"{suggestion.Closes.Count:N0} reachability deltas closed; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024):N0} MiB"));
        }
        return 0;
    }
}
