namespace Palisade.Analysis.Audit.Checks;

/// <summary>The group's members in its network, the network's instances, and the network (null: classic).</summary>
public sealed record OversizedGroupEvidence(int Members, int NetworkInstances, VpcId? VpcId) : Evidence;

/// <summary>
/// A group holding more than half of its network's instances (a VPC, or the classic network), when
/// the network has at least <see cref="MinimumInstances"/>. Half, because then the group is no
/// longer a role: most instances share its rules, whatever they run.
/// </summary>
internal static class OversizedGroup
{
    public static readonly CheckInfo Info = new("oversized-group", Severity.Low,
        "One group holds most instances of a network",
        "When more than half of a VPC's instances (of at least 10) share one group, every rule of that group applies to nearly everything: a port opened for one role is open on all of them, and group references to it name the whole network. Split it into one group per role and keep shared rules small.",
        [typeof(OversizedGroupEvidence)]);

    /// <summary>A network must hold at least this many instances before one group holding most of them is a finding: in a small VPC one group for everything is normal.</summary>
    public const int MinimumInstances = 10;

    public static void Run(AuditRun run)
    {
        var state = run.State;
        var perNetwork = state.Instances.GroupBy(i => i.VpcId).ToDictionary(g => g.Key?.Value ?? "", g => g.Count());
        foreach (var group in state.Groups)
        {
            // Instances, not ENIs: two ENIs of one instance in the group count once.
            var members = state.MembersOf(group.Id).Where(m => m.VpcId == group.VpcId).Select(m => m.Id).Distinct().Count();
            var total = perNetwork.GetValueOrDefault(group.VpcId?.Value ?? "");
            if (total < MinimumInstances || members * 2 <= total)
                continue;
            var network = group.VpcId is { } vpc ? vpc.Value : "the classic network";
            run.Add(Info, group.Id, null, null,
                $"{group.Id} holds {members} of the {total} instances of {network}: its rules apply to nearly everything there. Split it into one group per role.",
                new OversizedGroupEvidence(members, total, group.VpcId));
        }
    }
}
