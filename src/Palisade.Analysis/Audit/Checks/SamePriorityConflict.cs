using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Analysis.Audit.Checks;

public sealed record SamePriorityConflictEvidence(SecurityGroupRuleId AcceptRule, SecurityGroupRuleId DropRule, SecurityGroupId DropGroup, int Priority) : Evidence;

/// <summary>An accept and a drop rule of one NIC at the same priority that both match some packet.</summary>
internal static class SamePriorityConflict
{
    public static readonly CheckInfo Info = new("same-priority-conflict", Severity.Medium,
        "Overlapping accept and drop rules share a priority",
        "At equal priority drop wins, which is easy to misread. Give the intended winner a lower priority number.",
        [typeof(SamePriorityConflictEvidence)]);

    public static void Run(AuditRun run)
    {
        run.Progress?.Report(new WorkProgress("overlapping rules", 0, 0));
        var seen = new HashSet<(SecurityGroupRuleId, SecurityGroupRuleId)>();
        // A later instance of a policy already judged can only find pairs already seen.
        var judged = new HashSet<string>();
        foreach (var instance in run.State.Instances.Where(i => i.SecurityGroupIds.Length > 0))
        {
            if (!judged.Add(run.Policies.Key(instance, NicType.Intranet)))
                continue;
            var policy = run.Policies.Of(instance, NicType.Intranet);
            foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
            {
                var rules = policy.RulesInOrder(direction).ToArray();
                foreach (var accept in rules.Where(r => r.Rule.Policy == Verdict.Accept))
                {
                    foreach (var drop in rules.Where(r => r.Rule.Policy == Verdict.Drop && r.Rule.Priority == accept.Rule.Priority && Overlap(accept.Rule, r.Rule)))
                    {
                        if (!seen.Add((accept.Rule.Id, drop.Rule.Id)))
                            continue;
                        run.Add(Info, accept.GroupId, accept.Rule.Id, instance.Id,
                            $"On {instance.Id}, accept rule {accept.Rule.Id} of {accept.GroupId} and drop rule {drop.Rule.Id} of {drop.GroupId} overlap at priority {accept.Rule.Priority}: the drop wins where they overlap. Give the intended winner a lower priority number.",
                            new SamePriorityConflictEvidence(accept.Rule.Id, drop.Rule.Id, drop.GroupId, accept.Rule.Priority.Value));
                    }
                }
            }
        }
    }

    private static bool Overlap(SecurityGroupRule a, SecurityGroupRule b)
    {
        if (a.NicType != b.NicType)
            return false;
        if (a.Protocol != b.Protocol && a.Protocol != IpProtocol.All && b.Protocol != IpProtocol.All)
            return false;
        if (a.Protocol.HasPorts() && b.Protocol.HasPorts() && a.PortRangeListId is null && b.PortRangeListId is null
            && (a.Ports.High < b.Ports.Low || b.Ports.High < a.Ports.Low))
            return false;
        return (a.Peer, b.Peer) switch
        {
            (RulePeer.CidrBlock x, RulePeer.CidrBlock y) => x.Cidr.IsV6 == y.Cidr.IsV6 && (x.Cidr.Covers(y.Cidr) || y.Cidr.Covers(x.Cidr)),
            (RulePeer.Group x, RulePeer.Group y) => x.GroupId == y.GroupId,
            (RulePeer.PrefixList x, RulePeer.PrefixList y) => x.PrefixListId == y.PrefixListId,
            _ => false,
        };
    }
}
