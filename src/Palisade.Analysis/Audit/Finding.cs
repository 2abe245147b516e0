namespace Palisade.Analysis.Audit;

public enum Severity
{
    Info,
    Low,
    Medium,
    High,
}

public static class Severities
{
    public static string ToWire(this Severity s) => s switch
    {
        Severity.High => "high",
        Severity.Medium => "medium",
        Severity.Low => "low",
        _ => "info",
    };
}

/// <summary>
/// One problem the audit found: which check, how bad, what it concerns, what to do, and the
/// evidence (for an exposure, a packet the engine accepts), typed by the check.
/// </summary>
public sealed record Finding(
    string Check,
    Severity Severity,
    SecurityGroupId? SecurityGroupId,
    SecurityGroupRuleId? SecurityGroupRuleId,
    InstanceId? InstanceId,
    string Message,
    Evidence Evidence)
{
    /// <summary>The prefix list the finding is about, when it is about one (<c>unused-prefix-list</c>); null otherwise.</summary>
    public PrefixListId? PrefixListId { get; init; }
}

/// <summary>
/// A check's stable ID, its default severity and what it is about (for SARIF and for help), and the
/// evidence records its findings carry (most checks have one; a check judging two kinds of subject
/// may have one per kind).
/// </summary>
public sealed record CheckInfo(string Id, Severity Severity, string Title, string Help, IReadOnlyList<Type> Evidence);
