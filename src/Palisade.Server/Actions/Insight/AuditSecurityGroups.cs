using Palisade.Analysis.Audit;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// Palisade extension: the best-practice audit of the caller's groups and instances in a region —
/// the same checks as <c>palisade audit</c> on a state file, on the live control plane, against the
/// limits this server is configured with.
/// </summary>
// unused-rule and over-broad-rule read the agents' counts and flows and the clock, which change without a revision.
internal sealed class AuditSecurityGroups() : ReadAction(cacheable: false), IAnalysisAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var retentionDays = Math.Max(1, (int)c.RuleUsage.Retention.TotalDays);
        // unused-rule looks back UnusedDays (30, or the whole retention when shorter); 0 turns it off.
        var unusedDays = p.Int("UnusedDays", Math.Min(30, retentionDays), 0, retentionDays);
        // over-broad-rule looks back OverBroadDays (7, or the whole flow retention when shorter); 0 turns it off.
        var flowDays = Math.Max(1, (int)c.ObservedFlows.Retention.TotalDays);
        var overBroadDays = p.Int("OverBroadDays", Math.Min(7, flowDays), 0, flowDays);
        var findings = c.Read(s =>
        {
            var state = StoredState.Load(s, c.AccountId, region.RegionId);
            return Auditor.Run(state, c.Limits, usage: unusedDays == 0 ? null : Usage(c, s, state, unusedDays),
                flows: overBroadDays == 0 ? null : Flows(c, s, state, overBroadDays));
        });
        return new EcsObject
        {
            { "RegionId", region.RegionId },
            { "TotalCount", findings.Count },
            { "Findings", EcsList.Of("Finding", findings.Select(f => new EcsObject
                {
                    { "Check", f.Check },
                    { "Severity", f.Severity.ToWire() },
                    { "SecurityGroupId", f.SecurityGroupId?.Value ?? "" },
                    { "SecurityGroupRuleId", f.SecurityGroupRuleId?.Value ?? "" },
                    { "InstanceId", f.InstanceId?.Value ?? "" },
                    // Palisade extension field (issue 16): the prefix list an unused-prefix-list finding is about.
                    { "PrefixListId", f.PrefixListId?.Value ?? "" },
                    { "Message", f.Message },
                    { "Evidence", Evidence(f) },
                })) },
        };
    }

    /// <summary>What the account's agents counted: since when each group's hosts all count, and each rule's last hit in the window.</summary>
    private static RuleUsageFacts Usage(ActionContext c, Storage.IStoreSession s, Domain.State.NetworkState state, int days)
    {
        var now = c.Now;
        var since = new Dictionary<Domain.Identifiers.SecurityGroupId, DateTimeOffset>();
        foreach (var group in state.Groups)
        {
            if (s.Groups.Find(c.AccountId, group.Id) is { } record && Hosts.DescribeSecurityGroupRuleUsage.Watchers(c, s, record, now).Since is { } at)
                since[group.Id] = at;
        }
        var rules = state.Groups.SelectMany(g => g.Rules).Select(r => r.Id.ToString()).ToList();
        var lastHit = s.ListRuleUsage(c.AccountId, rules, c.RuleUsage.BucketOf(now - TimeSpan.FromDays(days)))
            .GroupBy(u => u.RuleId, StringComparer.Ordinal)
            .ToDictionary(g => Domain.Identifiers.SecurityGroupRuleId.Parse(g.Key), g => g.Max(u => u.LastHitAt));
        return new RuleUsageFacts(now, days, since, lastHit);
    }

    /// <summary>What the account's agents sampled: since when each group's hosts all sample, and the flows to each group's members in the window.</summary>
    private static FlowFacts Flows(ActionContext c, Storage.IStoreSession s, Domain.State.NetworkState state, int days)
    {
        var now = c.Now;
        var since = new Dictionary<Domain.Identifiers.SecurityGroupId, DateTimeOffset>();
        var flows = new Dictionary<Domain.Identifiers.SecurityGroupId, IReadOnlyList<Palisade.Analysis.Suggestions.ObservedConnection>>();
        foreach (var group in state.Groups)
        {
            // Only fully watched groups are judged: their flows are the only ones read.
            var nics = Hosts.GroupNics.Of(state, group.Id);
            if (Hosts.DescribeSecurityGroupObservedFlows.Samplers(c, s, nics, now).Since is not { } at)
                continue;
            since[group.Id] = at;
            flows[group.Id] = [.. Hosts.DescribeSecurityGroupObservedFlows.FlowsTo(c, s, nics, now - TimeSpan.FromDays(days))
                .Select(Hosts.DescribeSecurityGroupObservedFlows.Connection)];
        }
        return new FlowFacts(now, days, since, flows);
    }

    /// <summary>The check's typed evidence, its fields already in ECS casing; ECS writes a missing value as "".</summary>
    private static EcsObject Evidence(Finding f)
    {
        var evidence = new EcsObject();
        foreach (var (name, value) in f.Evidence.Fields)
            evidence.Add(name, value is IReadOnlyList<string> items ? EcsList.Of("Item", items) : value ?? "");
        return evidence;
    }
}
