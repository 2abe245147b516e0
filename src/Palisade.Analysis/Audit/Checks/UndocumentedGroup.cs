namespace Palisade.Analysis.Audit.Checks;

/// <summary>The group's name as it stands (often empty or its ID).</summary>
public sealed record UndocumentedGroupEvidence(string Name) : Evidence;

/// <summary>A group named by its ID (or not at all), with no description and no tags.</summary>
internal static class UndocumentedGroup
{
    public static readonly CheckInfo Info = new("undocumented-group", Severity.Info,
        "The group has no meaningful name, no description and no tags",
        "Name the group for its role, describe what it protects, and tag its owner and environment.",
        [typeof(UndocumentedGroupEvidence)]);

    public static void Run(AuditRun run)
    {
        foreach (var group in run.State.Groups)
        {
            var autoName = group.Name.Length == 0 || group.Name == group.Id.Value || group.Name.StartsWith("sg-", StringComparison.Ordinal);
            if (autoName && group.Description.Length == 0 && group.Tags.IsDefaultOrEmpty)
            {
                run.Add(Info, group.Id, null, null,
                    $"{group.Id} has no meaningful name, no description and no tags. Name it for its role, describe what it protects, tag its owner.",
                    new UndocumentedGroupEvidence(group.Name));
            }
        }
    }
}
