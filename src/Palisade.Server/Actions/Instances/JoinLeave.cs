using Palisade.Server.Actions.NetworkInterfaces;

namespace Palisade.Server.Actions.Instances;

/// <summary>
/// What JoinSecurityGroup and LeaveSecurityGroup share: the group, and exactly one of the instance
/// (its primary ENI) or an ENI (<c>NetworkInterfaceId</c>, with <c>RegionId</c> required) whose groups change.
/// </summary>
internal abstract class MembershipChange : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var groupId = c.GroupIdParameter();
        var eniText = p.Optional("NetworkInterfaceId");
        if (eniText is not null)
        {
            if (p.Has("InstanceId"))
                throw new EcsException(EcsErrors.EniIdAndInstanceIdConflict());
            c.Region();
            return c.WriteGroup(groupId, (s, group) =>
            {
                var eni = s.NetworkInterface(c, eniText);
                if (eni.InstanceId is { } owner && s.Instances.Find(c.AccountId, owner) is { Status: not ("Running" or "Stopped") } instance)
                    throw new EcsException(EcsErrors.InstanceStatusWrong(instance.Status, "Running or Stopped"));
                Change(s, c, group, eni.SecurityGroupIds, groups => s.SetNetworkInterfaceGroups(eni, groups),
                    others => NetworkInterfaceRules.CheckGroups(s, c, eni.VpcId, others, eni.SecurityGroupIds));
                return [];
            });
        }
        var instanceId = c.InstanceIdParameter();
        return c.WriteGroup(groupId, (s, group) =>
        {
            var instance = s.Instance(c, instanceId);
            if (instance.Status is not ("Running" or "Stopped"))
                throw new EcsException(EcsErrors.InstanceStatusWrong(instance.Status, "Running or Stopped"));
            Change(s, c, group, instance.SecurityGroupIds, groups => s.SetMemberships(instance.Id, groups), groups =>
            {
                // The group of the wrong network is the first thing to report, whatever else is wrong.
                Membership.Check(s, c, instance.NetworkType, instance.VpcId, [group], instance.SecurityGroupIds);
                Membership.Check(s, c, instance.NetworkType, instance.VpcId, groups, instance.SecurityGroupIds);
            });
            return [];
        });
    }

    /// <param name="current">The groups of the instance or ENI now.</param>
    /// <param name="set">Writes its new groups.</param>
    /// <param name="check">Checks a new set of groups (for a join).</param>
    protected abstract void Change(IStoreSession s, ActionContext c, GroupRecord group, IReadOnlyList<SecurityGroupId> current,
        Action<IReadOnlyList<SecurityGroupId>> set, Action<IReadOnlyList<GroupRecord>> check);
}

internal sealed class JoinSecurityGroup : MembershipChange
{
    protected override void Change(IStoreSession s, ActionContext c, GroupRecord group, IReadOnlyList<SecurityGroupId> current,
        Action<IReadOnlyList<SecurityGroupId>> set, Action<IReadOnlyList<GroupRecord>> check)
    {
        if (current.Contains(group.Id))
            throw new EcsException(EcsErrors.AlreadyMember());
        check([.. current.Select(g => s.Groups.Find(c.AccountId, g)!), group]);
        set([.. current, group.Id]);
    }
}

internal sealed class LeaveSecurityGroup : MembershipChange
{
    protected override void Change(IStoreSession s, ActionContext c, GroupRecord group, IReadOnlyList<SecurityGroupId> current,
        Action<IReadOnlyList<SecurityGroupId>> set, Action<IReadOnlyList<GroupRecord>> check)
    {
        if (!current.Contains(group.Id))
            throw new EcsException(EcsErrors.NotMember());
        if (current.Count == 1)
            throw new EcsException(EcsErrors.LastGroup());
        set([.. current.Where(g => g != group.Id)]);
    }
}
