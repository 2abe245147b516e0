using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Instances;

/// <summary>What JoinSecurityGroup and LeaveSecurityGroup share: the parameters, and the group and instance they name.</summary>
internal abstract class MembershipChange : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var p = c.Parameters;
        var groupId = c.GroupIdParameter();
        if (p.Has("NetworkInterfaceId"))
            throw new EcsException(EcsErrors.ParameterInvalid("NetworkInterfaceId", "changing groups by ENI is not supported; give InstanceId (see docs/compat.md)."));
        var instanceId = c.InstanceIdParameter();
        return c.Write(s =>
        {
            var group = s.Group(c, groupId);
            var instance = s.Instance(c, instanceId);
            if (instance.Status is not ("Running" or "Stopped"))
                throw new EcsException(EcsErrors.InstanceStatusWrong(instance.Status, "Running or Stopped"));
            Change(s, c, group, instance);
            return [];
        });
    }

    protected abstract void Change(IStoreSession s, ActionContext c, GroupRecord group, InstanceRecord instance);
}

internal sealed class JoinSecurityGroup : MembershipChange
{
    protected override void Change(IStoreSession s, ActionContext c, GroupRecord group, InstanceRecord instance)
    {
        if (instance.SecurityGroupIds.Contains(group.Id))
            throw new EcsException(EcsErrors.AlreadyMember());
        var groups = instance.SecurityGroupIds.Select(g => s.FindGroup(c.AccountId, g)!).Append(group).ToList();
        // The group of the wrong network is the first thing to report, whatever else is wrong.
        Membership.Check(s, c, instance.NetworkType, instance.VpcId, [group], instance.SecurityGroupIds);
        Membership.Check(s, c, instance.NetworkType, instance.VpcId, groups, instance.SecurityGroupIds);
        s.SetMemberships(instance.Id, [.. instance.SecurityGroupIds, group.Id]);
    }
}

internal sealed class LeaveSecurityGroup : MembershipChange
{
    protected override void Change(IStoreSession s, ActionContext c, GroupRecord group, InstanceRecord instance)
    {
        if (!instance.SecurityGroupIds.Contains(group.Id))
            throw new EcsException(EcsErrors.NotMember());
        if (instance.SecurityGroupIds.Count == 1)
            throw new EcsException(EcsErrors.LastGroup());
        s.SetMemberships(instance.Id, [.. instance.SecurityGroupIds.Where(g => g != group.Id)]);
    }
}
