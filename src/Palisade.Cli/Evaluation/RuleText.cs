using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Engine.Policies;

namespace Palisade.Cli.Evaluation;

/// <summary>A rule in one line, the way the ECS console lists it: priority, policy, protocol, ports, peer.</summary>
public static class RuleText
{
    public static string Describe(RuleRef rule)
    {
        var r = rule.Rule;
        var ingress = r.Direction == Direction.Ingress;
        var parts = new List<string> { $"priority {r.Priority}", r.Policy.ToLower() };
        var what = r.Protocol.ToWire();
        if (r.PortRangeListId is { } list)
            what += $" {list}";
        else if (r.Protocol.HasPorts())
            what += $" {r.Ports}";
        what += ingress ? $" from {r.Peer}" : $" to {r.Peer}";
        if (r.LocalCidr is { } local)
            what += ingress ? $" to {local}" : $" from {local}";
        parts.Add(what);
        if (r.SourcePorts is { } sp)
            parts.Add($"source ports {sp}");
        return $"{r.Id} of {rule.GroupId}: {string.Join(", ", parts)}";
    }
}
