using System.Globalization;
using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Storage;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, called by <c>palisade agent</c>: the host enforces <c>AppliedRevision</c> for
/// the NICs <c>InstanceId.N</c> (those bound to it that it has programmed; others are ignored).
/// Replaces the host's previous report; leaves no revision, so reporting never wakes the change feed.
/// With <c>UsageReported=true</c> the agent also says it counts rule hits, and <c>RuleUsage.N</c>
/// (<c>InstanceId</c>, <c>Direction</c>, <c>SecurityGroupRuleId</c>, <c>Packets</c>, <c>Bytes</c>)
/// carries what each rule decided since its last report; they are added to the current time bucket.
/// Usage for a NIC not bound to that host, or a rule not of the NIC's groups (one revoked meanwhile),
/// is dropped: an agent speaks only for its own account's NICs and their rules.
/// </summary>
internal sealed class ReportAgentStatus : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var p = c.Parameters;
        var host = HostNames.Host(p.Required("HostName"));
        var revisionText = p.Required("AppliedRevision");
        if (!long.TryParse(revisionText, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
            throw new EcsException(EcsErrors.AppliedRevisionInvalid(revisionText));
        var instances = p.List("InstanceId", 10_000).Select(Lookups.InstanceIdOf).Distinct().ToList();
        var usageReported = p.Bool("UsageReported");
        var usage = p.Objects("RuleUsage", 9_999).Select(o => Usage(o.Index, o.Fields)).ToList();
        var now = c.Now;
        c.Write(s =>
        {
            // A report speaks only for the caller's NICs bound to that host; an agent racing an
            // unbind may name one that just left, which is not an error.
            var bound = s.ListHostBindings(c.AccountId, host).Select(b => b.InstanceId).ToHashSet();
            s.SaveAgentReports(c.AccountId, host, [.. instances.Where(bound.Contains).Select(i => new AgentReportRecord(c.AccountId, host, i, revision, now))]);
            if (usageReported)
                SaveUsage(c, s, host, bound, usage, now);
            return [];
        });
        return [];
    }

    private static (InstanceId Nic, string RuleId, long Packets, long Bytes) Usage(int index, IReadOnlyDictionary<string, string> fields)
    {
        string Field(string name) => fields.TryGetValue(name, out var v) && v.Length > 0
            ? v
            : throw new EcsException(EcsErrors.Missing($"RuleUsage.{index}.{name}"));
        long Count(string name)
        {
            var text = Field(name);
            return text.Length <= 15 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new EcsException(EcsErrors.ParameterInvalid($"RuleUsage.{index}.{name}", $"'{text}' is not a count (an integer from 0)."));
        }
        var nic = Lookups.InstanceIdOf(Field("InstanceId"));
        if (Field("Direction") is not ("ingress" or "egress") and var direction)
            throw new EcsException(EcsErrors.ParameterInvalid($"RuleUsage.{index}.Direction", $"'{direction}' is not ingress or egress."));
        var rule = Field("SecurityGroupRuleId");
        if (!SecurityGroupRuleId.TryParse(rule, out _))
            throw new EcsException(EcsErrors.ParameterInvalid($"RuleUsage.{index}.SecurityGroupRuleId", $"'{rule}' is not a rule ID."));
        return (nic, rule, Count("Packets"), Count("Bytes"));
    }

    private static void SaveUsage(ActionContext c, IStoreSession s, string host, IReadOnlySet<InstanceId> bound,
        List<(InstanceId Nic, string RuleId, long Packets, long Bytes)> usage, DateTimeOffset now)
    {
        var options = c.RuleUsage;
        s.MarkUsageHost(c.AccountId, host, now, options.MaxReportGap);
        // The rules an agent may count for: those of the groups of the account's NICs bound to this host.
        var rulesOf = new Dictionary<InstanceId, HashSet<string>>();
        HashSet<string> RulesOf(InstanceId nic)
        {
            if (rulesOf.TryGetValue(nic, out var known))
                return known;
            var rules = new HashSet<string>(StringComparer.Ordinal);
            if (s.FindInstance(c.AccountId, nic) is { } instance)
            {
                var groups = instance.SecurityGroupIds.Concat(s.NetworkInterfacesOf(nic).SelectMany(e => e.SecurityGroupIds)).Distinct();
                foreach (var group in groups)
                    rules.UnionWith(s.ListRules(group).Select(r => r.Id.ToString()));
            }
            return rulesOf[nic] = rules;
        }
        var deltas = usage
            .Where(u => u.Packets > 0 && bound.Contains(u.Nic) && RulesOf(u.Nic).Contains(u.RuleId))
            .GroupBy(u => u.RuleId, StringComparer.Ordinal)
            .Select(g => new RuleUsageDelta(g.Key, g.Sum(u => u.Packets), g.Sum(u => u.Bytes)))
            .ToList();
        s.AddRuleUsage(c.AccountId, host, options.BucketOf(now), deltas, now);
        s.PurgeRuleUsage(c.AccountId, now - options.Retention);
    }
}
