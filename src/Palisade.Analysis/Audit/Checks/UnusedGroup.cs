namespace Palisade.Analysis.Audit.Checks;

public sealed record UnusedGroupEvidence(int Rules) : Evidence;

/// <summary>A group with no members that no rule of the state names.</summary>
internal static class UnusedGroup
{
    public static readonly CheckInfo Info = new("unused-group", Severity.Low,
        "The group has no instances and no rule references it",
        "Delete groups nobody uses: they are noise in every review and a trap when someone joins an instance by mistake.",
        [typeof(UnusedGroupEvidence)]);

    /// <summary>The first of the group checks: it opens the progress phase <c>groups</c>.</summary>
    public static void Run(AuditRun run)
    {
        run.Progress?.Report(new WorkProgress("groups", 0, 0));
        var state = run.State;
        var referenced = state.Groups.SelectMany(g => g.Rules).Select(r => r.Peer).OfType<RulePeer.Group>().Select(p => p.GroupId).ToHashSet();
        foreach (var group in state.Groups.Where(g => state.MembersOf(g.Id).Length == 0 && !referenced.Contains(g.Id)))
            run.Add(Info, group.Id, null, null, $"{group.Id} has no instances and no rule references it. Delete it.", new UnusedGroupEvidence(group.Rules.Length));
    }
}
