namespace Palisade.Analysis.Audit.Checks;

public sealed record DanglingReferenceEvidence(SecurityGroupId ReferencedGroup) : Evidence;

/// <summary>A rule naming a group of the same account that the state does not hold (another account's groups are not in the state, so not judged).</summary>
internal static class DanglingReference
{
    public static readonly CheckInfo Info = new("dangling-reference", Severity.Medium,
        "A rule references a group that does not exist",
        "The rule matches nothing any more. Remove it, or point it at the group that replaced the old one.",
        [typeof(DanglingReferenceEvidence)]);

    public static void Run(AuditRun run)
    {
        foreach (var group in run.State.Groups)
        {
            foreach (var rule in group.Rules)
            {
                if (rule.Peer is RulePeer.Group g && g.OwnerAccount is null && g.OwnerId is null && run.State.FindGroup(g.GroupId) is null)
                {
                    run.Add(Info, group.Id, rule.Id, null,
                        $"Rule {rule.Id} of {group.Id} names {g.GroupId}, which does not exist: it matches nothing. Remove it or name the group that replaced it.",
                        new DanglingReferenceEvidence(g.GroupId));
                }
            }
        }
    }
}
