using System.Globalization;
using System.Numerics;
using Palisade.Analysis.Suggestions;

namespace Palisade.Analysis.Audit.Checks;

public sealed record OverBroadRuleEvidence(int Days, string SamplingSince, string AdmittedAddresses, int AdmittedPorts, int ObservedSources, int ObservedPorts,
    long ObservedConnections, IReadOnlyList<string> SuggestedRules) : Evidence;

/// <summary>
/// An ingress accept rule that admits far more than what came through it (issue 20 item 5): of the
/// flows observed to the group's members over <see cref="FlowFacts.Days"/>, those the engine says
/// this rule admitted came from few sources or to few ports, while the rule's peer holds at least
/// <see cref="Factor"/> times as many addresses as sources were seen, or its ports span at least
/// <see cref="Factor"/> times as many ports as were seen. Judged only where that is known: every host
/// carrying the group's NICs sampled the whole window, and the rule existed throughout it. A rule
/// through which nothing came at all is unused-rule's (the counters see every packet; sampling may
/// miss some). The finding carries the narrowest replacement (<see cref="RuleSuggester.RulesFor"/>).
/// </summary>
internal static class OverBroadRule
{
    /// <summary>How many times more than observed a rule must admit to be over-broad (a /24 per observed source, 256 ports per observed port).</summary>
    public const int Factor = 256;

    public static readonly CheckInfo Info = new("over-broad-rule", Severity.Low,
        "An accept rule admits far more sources or ports than were observed through it",
        "Narrow the rule to what is used (palisade suggest shows the replacement and its what-if), unless the service is meant for anyone.",
        [typeof(OverBroadRuleEvidence)]);

    public static void Run(AuditRun run)
    {
        var facts = run.Flows;
        if (facts is null || facts.Days <= 0)
            return;
        var windowStart = facts.AsOf - TimeSpan.FromDays(facts.Days);
        foreach (var group in run.State.Groups)
        {
            if (!facts.SamplingSince.TryGetValue(group.Id, out var since) || since > windowStart)
                continue; // not every host sampled the whole window: few sources seen proves nothing
            var (kept, _) = RuleSuggester.Attribute(run.State, group.Id, facts.Flows.GetValueOrDefault(group.Id) ?? []);
            foreach (var byRule in kept.GroupBy(k => k.Rule.Id))
            {
                var rule = byRule.First().Rule;
                if (rule.CreateTime != default && rule.CreateTime > windowStart)
                    continue;
                var sources = byRule.Select(k => k.Flow.Source).Distinct().Count();
                var ports = byRule.Select(k => (k.Flow.Protocol, k.Flow.Protocol.HasPorts() ? k.Flow.Port : 0)).Distinct().Count();
                var addresses = AdmittedAddresses(run.State, rule);
                var admittedPorts = AdmittedPorts(run.State, rule);
                var broadSources = addresses >= (BigInteger)sources * Factor;
                var broadPorts = admittedPorts >= (long)ports * Factor;
                if (!broadSources && !broadPorts)
                    continue;
                var suggested = RuleSuggester.RulesFor(run.State, group.Id, byRule.Select(k => RuleSuggester.Atom(k.Flow, k.Rule)))
                    .Select(r => $"{r.Protocol.ToWire()} {r.Ports} from {r.Peer} priority {r.Priority}").Order(StringComparer.Ordinal).ToList();
                var what = string.Join(" and ", new[]
                {
                    broadSources ? $"{addresses.ToString(CultureInfo.InvariantCulture)} addresses where {Count(sources, "source")} came" : null,
                    broadPorts ? $"{admittedPorts.ToString(CultureInfo.InvariantCulture)} ports where {Count(ports, "port")} {(ports == 1 ? "was" : "were")} used" : null,
                }.OfType<string>());
                run.Add(Info, group.Id, rule.Id, null,
                    $"Rule {rule.Id} of {group.Id} admits {what} in {facts.Days} days of sampled flows. Narrow it to: {string.Join("; ", suggested)}.",
                    new OverBroadRuleEvidence(facts.Days, Stamp(since), addresses.ToString(CultureInfo.InvariantCulture), admittedPorts, sources, ports,
                        byRule.Sum(k => k.Flow.Connections), suggested));
            }
        }
    }

    /// <summary>How many source addresses the rule's peer admits (a group: its members' addresses; a prefix list: its entries' sizes).</summary>
    internal static BigInteger AdmittedAddresses(NetworkState state, SecurityGroupRule rule) => rule.Peer switch
    {
        RulePeer.CidrBlock c => Size(c.Cidr),
        RulePeer.Group g => state.MembersOf(g.GroupId).Sum(m => m.MemberAddresses.Length),
        RulePeer.PrefixList p => state.FindPrefixList(p.PrefixListId)?.Entries.Aggregate(BigInteger.Zero, (n, e) => n + Size(e)) ?? 0,
        _ => 0,
    };

    /// <summary>How many destination ports the rule admits (one for a protocol without ports; every port of TCP and UDP for ALL).</summary>
    internal static int AdmittedPorts(NetworkState state, SecurityGroupRule rule)
    {
        if (rule.Protocol == IpProtocol.All)
            return 2 * PortRange.MaxPort;
        if (!rule.Protocol.HasPorts())
            return 1;
        if (rule.PortRangeListId is { } list)
            return state.FindPortRangeList(list)?.Entries.Sum(e => e.High - e.Low + 1) ?? 0;
        return rule.Ports.IsAny ? PortRange.MaxPort : rule.Ports.High - rule.Ports.Low + 1;
    }

    private static BigInteger Size(Cidr c) => BigInteger.One << ((c.IsV6 ? 128 : 32) - c.PrefixLength);

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
