namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class ModifySecurityGroupPolicy : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var groupId = c.GroupIdParameter();
        var policyText = p.Required("InnerAccessPolicy");
        if (!InnerAccessPolicies.TryParse(policyText, out var policy))
            throw new EcsException(EcsErrors.PolicyMalformed(policyText));
        return c.WriteGroup(groupId, (s, group) =>
        {
            if (group.Type == SecurityGroupType.Enterprise)
                throw new EcsException(EcsErrors.InnerAccessOfEnterprise());
            s.UpdateGroup(group with { InnerAccessPolicy = policy });
            return [];
        });
    }
}
