namespace Palisade.Server.Actions.Instances;

/// <summary>
/// The invariants of an instance's set of groups, checked inside the write that changes it
/// (ecs-api.md §3.10, ARCHITECTURE.md semantics 10): same network and VPC, at most five groups, no
/// basic/advanced mix, room in every group joined, and at most 1,000 rules over all of them.
/// </summary>
internal static class Membership
{
    public static void Check(IStoreSession s, ActionContext c, NetworkType network, VpcId? vpcId, IReadOnlyList<GroupRecord> groups,
        IReadOnlyCollection<SecurityGroupId> alreadyIn, bool runInstances = false)
    {
        var limits = c.Limits;
        if (groups.Count > limits.GroupsPerInstance)
            throw new EcsException(EcsErrors.InstanceGroupLimit(limits.GroupsPerInstance));
        foreach (var group in groups)
        {
            var fits = network == NetworkType.Classic ? group.IsClassic : group.VpcId == vpcId;
            if (!fits)
                throw new EcsException(runInstances ? EcsErrors.GroupAndVSwitchMismatch() : EcsErrors.InstanceGroupVpcMismatch());
        }
        if (groups.Select(g => g.Type).Distinct().Count() > 1)
            throw new EcsException(runInstances
                ? EcsErrors.MixedGroupTypesAtLaunch()
                : EcsErrors.MixedGroupTypes());
        foreach (var group in groups.Where(g => !alreadyIn.Contains(g.Id)))
        {
            var (capacity, unit) = limits.GroupCapacity(group.Type, group.IsClassic);
            var what = $"{capacity} {unit}";
            if (s.CountMembers(group.Id) + 1 > capacity)
                throw new EcsException(runInstances
                    ? EcsErrors.GroupCapacityAtLaunch(what)
                    : EcsErrors.GroupCapacity(what));
        }
        var rules = groups.Sum(g => s.RuleQuotaUsed(g.Id));
        if (rules > limits.RulesPerNic)
            throw new EcsException(EcsErrors.NicRuleLimit(rules, limits.RulesPerNic));
    }
}
