using System.Collections.Immutable;
using System.Diagnostics;
using Palisade.Analysis.Audit;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Bench;

/// <summary>
/// `--analysis`: times the audit, one reachability question and one what-if on generated states of
/// growing size (seeded, so runs compare): one VPC, instances in 1–3 groups, rules with CIDR peers
/// (private blocks, a few 0.0.0.0/0), group peers and drops, 20 % of instances with a public address.
/// </summary>
public static class AnalysisReport
{
    public static int Run(TextWriter output)
    {
        output.WriteLine("| instances | groups | rules | audit | findings | reach to one instance | what-if (revoke one rule) | managed heap after |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (instances, groups, rules) in new[] { (100, 10, 200), (300, 30, 1_000), (1_000, 100, 2_000) })
        {
            var state = Generate(instances, groups, rules, seed: 7);
            var sw = Stopwatch.StartNew();
            var findings = Auditor.Run(state);
            var audit = sw.Elapsed;
            sw.Restart();
            var reach = Reach.To(state, state.Instances[0]);
            var oneReach = sw.Elapsed;
            sw.Restart();
            var whatIf = ImpactAnalysis.Of(state, new Change.Revoke(state.Groups[0].Rules[0].Id));
            var impact = sw.Elapsed;
            output.WriteLine($"| {instances:N0} | {groups:N0} | {rules:N0} | {audit.TotalSeconds:F2} s | {findings.Count:N0} | {oneReach.TotalMilliseconds:F1} ms ({reach.Count} sources) | " +
                $"{impact.TotalSeconds:F2} s ({whatIf.Lost.Count} lost, {whatIf.Gained.Count} gained) | {GC.GetTotalMemory(true) / 1_048_576.0:F0} MB |");
        }
        return 0;
    }

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
        var instances = new List<Instance>();
        for (var i = 0; i < instanceCount; i++)
        {
            var memberOf = Enumerable.Range(0, random.Next(1, 4)).Select(_ => groups[random.Next(groupCount)].Id).Distinct().ToImmutableArray();
            var address = IpAddress.V4((uint)(10 << 24 | (i + 256)));
            ImmutableArray<IpAddress> publicAddresses = random.Next(5) == 0 ? [IpAddress.V4((uint)(47 << 24 | i))] : [];
            instances.Add(new Instance(InstanceId.Parse($"i-gen{i}"), $"node-{i}", NetworkType.Vpc, vpc, null, [address], publicAddresses, memberOf));
        }
        return new NetworkState("cn-hangzhou", groups, instances);
    }
}
