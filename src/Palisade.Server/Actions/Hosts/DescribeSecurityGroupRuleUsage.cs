using System.Globalization;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension (issue 20): what each rule of a group decided over the last <c>Days</c> days, as
/// the agents' counters reported it: packets and bytes per time bucket, summed over hosts, the last
/// hit, and how many hosts saw hits. <c>HostsCounting</c> and <c>CountingSince</c> say who watched:
/// the hosts carrying the group's NICs whose agents report counts, and since when all of them have
/// without a gap (a rule with no hits means "unused" only from then on). Per account: a group of
/// another account is not found, and usage is only ever what the caller's own agents reported.
/// </summary>
// Usage changes without a revision: a cached answer would hide new hits.
internal sealed class DescribeSecurityGroupRuleUsage() : ReadAction(cacheable: false)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var id = c.GroupIdParameter();
        var days = Lookback.Days(c.Parameters, c.RuleUsage.Retention);
        var now = c.Now;
        var since = now - TimeSpan.FromDays(days);
        return c.ReadGroup(id, (s, group) =>
        {
            var rules = s.ListRules(group.Id);
            var usage = s.ListRuleUsage(c.AccountId, [.. rules.Select(r => r.Id.ToString())], c.RuleUsage.BucketOf(since))
                .GroupBy(u => u.RuleId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            var (counting, countingSince) = Watchers(c, s, group, now);
            return new EcsObject
            {
                { "SecurityGroupId", group.Id.Value },
                { "Days", days },
                { "BucketSeconds", (long)c.RuleUsage.Bucket.TotalSeconds },
                { "HostsCounting", counting },
                { "CountingSince", countingSince is { } at ? Time.Format(at) : "" },
                { "RuleUsages", EcsList.Of("RuleUsage", rules.Select(r => Rule(r, usage.GetValueOrDefault(r.Id.ToString()) ?? []))) },
            };
        });
    }

    private static EcsObject Rule(SecurityGroupRule rule, List<RuleUsageRecord> usage) => new()
    {
        { "SecurityGroupRuleId", rule.Id.ToString() },
        { "Direction", rule.Direction.ToWire() },
        { "Policy", rule.Policy.ToWire() },
        { "Priority", rule.Priority.Value },
        { "Packets", usage.Sum(u => u.Packets) },
        { "Bytes", usage.Sum(u => u.Bytes) },
        { "LastHitTime", usage.Count == 0 ? "" : Time.Format(usage.Max(u => u.LastHitAt)) },
        { "HostsWithHits", usage.Select(u => u.HostName).Distinct(StringComparer.Ordinal).Count() },
        { "Buckets", EcsList.Of("Bucket", usage.GroupBy(u => u.BucketStart).OrderBy(g => g.Key).Select(g => new EcsObject
            {
                { "StartTime", Time.Format(g.Key) },
                { "Packets", g.Sum(u => u.Packets) },
                { "Bytes", g.Sum(u => u.Bytes) },
            })) },
    };

    /// <summary>
    /// The hosts that carry one of the group's NICs and count (reported within the allowed gap), and
    /// the time from which all of them have counted; null when some host carrying a NIC does not count.
    /// </summary>
    internal static (int Counting, DateTimeOffset? Since) Watchers(ActionContext c, IStoreSession s, GroupRecord group, DateTimeOffset now)
    {
        // Each bound ENI is judged by its own groups (issue 16): a host counts for the group when it carries one of the group's ENIs.
        var hosts = s.ListHostBindings(c.AccountId, null).Where(b => BoundNics.GroupsOf(s, b).Contains(group.Id)).Select(b => b.HostName).ToHashSet(StringComparer.Ordinal);
        var counting = s.ListUsageHosts(c.AccountId)
            .Where(h => hosts.Contains(h.HostName) && now - h.LastReportAt <= c.RuleUsage.MaxReportGap)
            .ToList();
        DateTimeOffset? since = hosts.Count > 0 && counting.Count == hosts.Count ? counting.Max(h => h.CountingSince) : null;
        return (counting.Count, since);
    }
}
