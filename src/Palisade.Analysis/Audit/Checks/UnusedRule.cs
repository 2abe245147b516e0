namespace Palisade.Analysis.Audit.Checks;

public sealed record UnusedRuleEvidence(int Days, string CountingSince, string LastHit) : Evidence;

/// <summary>
/// A rule that decided no packet on any host for <see cref="RuleUsageFacts.UnusedDays"/> days, judged
/// only where that is known: every host carrying the group's NICs has counted for the whole window,
/// and the rule existed throughout it.
/// </summary>
internal static class UnusedRule
{
    public static readonly CheckInfo Info = new("unused-rule", Severity.Low,
        "No packet matched the rule on any host for the whole window",
        "Revoke rules no traffic uses (after checking for rare jobs such as monthly backups): every open rule is attack surface.",
        [typeof(UnusedRuleEvidence)]);

    public static void Run(AuditRun run)
    {
        var usage = run.Usage;
        if (usage is null || usage.UnusedDays <= 0)
            return;
        var windowStart = usage.AsOf - TimeSpan.FromDays(usage.UnusedDays);
        foreach (var group in run.State.Groups)
        {
            if (!usage.CountingSince.TryGetValue(group.Id, out var since) || since > windowStart)
                continue; // not every host watched the whole window: silence proves nothing
            foreach (var rule in group.Rules)
            {
                if (rule.CreateTime != default && rule.CreateTime > windowStart)
                    continue;
                var last = usage.LastHit.TryGetValue(rule.Id, out var hit) ? hit : (DateTimeOffset?)null;
                if (last is { } l && l >= windowStart)
                    continue;
                run.Add(Info, group.Id, rule.Id, null,
                    $"Rule {rule.Id} of {group.Id} matched no packet on any host in {usage.UnusedDays} days"
                    + (last is { } before ? $" (last hit {Stamp(before)})" : "") + ". Revoke it if nothing needs it.",
                    new UnusedRuleEvidence(usage.UnusedDays, Stamp(since), last is { } lh ? Stamp(lh) : ""));
            }
        }
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
