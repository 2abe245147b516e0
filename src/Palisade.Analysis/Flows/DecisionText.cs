namespace Palisade.Analysis.Flows;

/// <summary>Decisions in words, for <c>palisade eval</c> and the console's "explain this flow".</summary>
public static class DecisionText
{
    /// <summary>A rule in one line, the way the ECS console lists it: priority, policy, protocol, ports, peer.</summary>
    public static string Describe(RuleRef rule)
    {
        var r = rule.Rule;
        var ingress = r.Direction == Direction.Ingress;
        var parts = new List<string> { $"priority {r.Priority}", r.Policy.ToLower() };
        var what = r.Protocol.ToWire();
        if (r.PortRangeListId is { } list)
            what += $" {list}";
        else if (r.Protocol.HasPorts())
            what += $" {r.Ports.ForPeople}";
        what += ingress ? $" from {r.Peer}" : $" to {r.Peer}";
        if (r.LocalCidr is { } local)
            what += ingress ? $" to {local}" : $" from {local}";
        parts.Add(what);
        if (r.SourcePorts is { } sp)
            parts.Add($"source ports {sp.ForPeople}");
        return $"{r.Id} of {rule.GroupId}: {string.Join(", ", parts)}";
    }

    /// <summary>Why a NIC decided as it did, in one sentence.</summary>
    public static string Explain(Decision d, Direction direction) => d.Reason switch
    {
        DecisionReason.Rule => $"{d.Verdict.ToLower()} by rule {Describe(d.DecidingRule!)}",
        DecisionReason.InnerAccess when d.Verdict == Verdict.Accept =>
            $"accept by inner access of {d.InnerAccessGroup}: members of a basic group whose InnerAccessPolicy is Accept reach each other, whatever the rules say",
        DecisionReason.InnerAccess =>
            $"drop by inner access of {d.InnerAccessGroup}: its InnerAccessPolicy is Drop and no rule lets this member in",
        _ when direction == Direction.Ingress => "drop by default: no ingress rule matched",
        _ when d.Verdict == Verdict.Accept => "accept by default: no egress rule matched",
        _ => "drop by default: no egress rule matched, and an advanced group drops unmatched outbound traffic",
    };
}
