namespace Palisade.Domain.Rules;

/// <summary>
/// The order in which ECS tries the pooled rules of one direction (ARCHITECTURE.md semantics 1):
/// the lowest <c>Priority</c> number first; at equal priority a drop before an accept. The engine
/// decides by it (with a tie-break of its own, for repeatable explanations), and the CLI lists
/// rules by it.
/// </summary>
public static class EffectiveOrder
{
    public static int Compare(Priority x, Verdict xPolicy, Priority y, Verdict yPolicy)
    {
        var byPriority = x.CompareTo(y);
        return byPriority != 0 ? byPriority : Rank(xPolicy).CompareTo(Rank(yPolicy));
    }

    /// <summary>A rule's key in this order, for sorting rules read from the wire (an unreadable field sorts as ECS's default).</summary>
    public static (int Priority, int Policy) Key(string? priority, string? policy) =>
        (Priority.Parse(priority).TryGet(out var p, out _) ? p.Value : Priority.Default.Value,
         Rank(Verdicts.TryParse(policy, out var v) ? v : Verdict.Accept));

    private static int Rank(Verdict policy) => policy == Verdict.Drop ? 0 : 1;
}
