namespace Palisade.Analysis.Audit.Checks;

public sealed record CidrInsteadOfGroupEvidence(Cidr Cidr, IReadOnlyList<InstanceId> Instances, SecurityGroupId SuggestedGroup) : Evidence;

/// <summary>
/// A narrow private block in an ingress accept that holds exactly the private addresses of instances
/// sharing one group (other than the rule's own): decided over the state's instances of the group's network.
/// </summary>
internal static class InternalCidrInsteadOfGroup
{
    public static readonly CheckInfo Info = new("internal-cidr-instead-of-group", Severity.Low,
        "Internal access is granted by address block where a group reference would say it",
        "The block covers exactly the private addresses of instances that share a group; a rule naming that group follows them when they change, a block does not.",
        [typeof(CidrInsteadOfGroupEvidence)]);

    public static void Run(AuditRun run)
    {
        for (var k = 0; k < run.State.Groups.Length; k++)
        {
            var group = run.State.Groups[k];
            run.Progress?.Report(new WorkProgress("rules", k, run.State.Groups.Length));
            foreach (var rule in group.Rules.Where(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept))
            {
                if (rule.Peer is RulePeer.CidrBlock { Cidr: var narrow } && AuditBlocks.IsPrivate(narrow) && !AuditBlocks.IsWide(narrow)
                    && SuggestGroup(run.Addresses, group, narrow) is { } suggestion)
                {
                    run.Add(Info, group.Id, rule.Id, null,
                        $"Rule {rule.Id} of {group.Id} admits {narrow}, which holds exactly the instances {string.Join(", ", suggestion.Instances)}; they are all in {suggestion.Group}. A rule naming {suggestion.Group} follows them when they change.",
                        new CidrInsteadOfGroupEvidence(narrow, suggestion.Instances, suggestion.Group));
                }
            }
        }
    }

    private sealed record Suggestion(SecurityGroupId Group, IReadOnlyList<InstanceId> Instances);

    /// <summary>The instances whose private addresses the block holds, when they all share a group (other than the rule's own).</summary>
    private static Suggestion? SuggestGroup(AddressIndex addresses, SecurityGroup group, Cidr block)
    {
        var inside = addresses.Within(group.VpcId, block);
        if (inside.Count == 0)
            return null;
        var shared = inside.Select(i => i.SecurityGroupIds.AsEnumerable()).Aggregate((a, b) => a.Intersect(b)).Where(g => g != group.Id).Order().FirstOrDefault();
        return shared == default ? null : new Suggestion(shared, [.. inside.Select(i => i.Id).Distinct().Order()]);
    }
}
