using System.Globalization;

namespace Palisade.Analysis.Audit.Checks;

/// <summary>A group's rules and the most it may hold.</summary>
public sealed record GroupRuleLimitEvidence(int Rules, int Limit) : Evidence;

/// <summary>An instance's groups and the rules over all of them.</summary>
public sealed record NicLimitEvidence(int Groups, int Rules) : Evidence;

/// <summary>
/// A group or an instance within a tenth of a limit the server enforces (rules per group, groups per
/// NIC, rules over all groups of a NIC), read from the configured <see cref="Domain.Quotas.Limits"/>.
/// </summary>
internal static class GroupLimitNear
{
    public static readonly CheckInfo Info = new("group-limit-near", Severity.Info,
        "A limit is close",
        // The help names the default limits (SARIF rule help is static); findings name the configured ones.
        "A NIC may be in 5 groups with 1,000 rules over all of them, and a group may hold 200 rules; close to a limit, the next change fails.",
        [typeof(GroupRuleLimitEvidence), typeof(NicLimitEvidence)]);

    /// <summary>Within a tenth of the limit (180 of 200, 900 of 1,000): the next bulk change may not fit.</summary>
    private static int Near(int limit) => limit - (limit / 10);

    public static void Run(AuditRun run)
    {
        var (state, limits) = (run.State, run.Limits);
        foreach (var group in state.Groups.Where(g => g.Rules.Length >= Near(limits.RulesPerGroup)))
        {
            run.Add(Info, group.Id, null, null,
                $"{group.Id} holds {group.Rules.Length} of at most {limits.RulesPerGroup} rules.",
                new GroupRuleLimitEvidence(group.Rules.Length, limits.RulesPerGroup));
        }
        // Per ENI: each is in at most GroupsPerInstance groups of its own (an instance's own are its primary ENI's).
        foreach (var instance in state.Instances.SelectMany(i => i.Interfaces).Where(i => i.SecurityGroupIds.Length > 0))
        {
            var rules = instance.SecurityGroupIds.Sum(g => state.FindGroup(g)?.Rules.Length ?? 0);
            if (instance.SecurityGroupIds.Length >= limits.GroupsPerInstance - 1 || rules >= Near(limits.RulesPerNic))
            {
                run.Add(Info, null, null, instance.Id,
                    $"{instance.InterfaceLabel} is in {instance.SecurityGroupIds.Length} of at most {limits.GroupsPerInstance} groups, with {rules.ToString(CultureInfo.InvariantCulture)} of at most {limits.RulesPerNic.ToString("N0", CultureInfo.InvariantCulture)} rules over them.",
                    new NicLimitEvidence(instance.SecurityGroupIds.Length, rules));
            }
        }
    }
}
