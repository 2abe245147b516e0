namespace Palisade.Server.Actions.Instances;

/// <summary>Name, description, and <c>SecurityGroupIds.N</c>, which replaces the whole set of groups (ecs-api.md §3.10).</summary>
internal sealed class ModifyInstanceAttribute : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var instanceId = c.InstanceIdParameter();
        var name = p.Text("InstanceName", Texts.IsFreeName, EcsErrors.InstanceNameMalformed);
        var description = p.Text("Description", Texts.IsInstanceDescription, EcsErrors.DescriptionInvalid);
        var groupTexts = p.List("SecurityGroupIds", c.Limits.GroupsPerInstance + 1);
        if (groupTexts.Count != groupTexts.Distinct(StringComparer.Ordinal).Count())
            throw new EcsException(EcsErrors.ParameterInvalid("SecurityGroupIds", "a group is given twice."));
        return c.WriteInstance(instanceId, (s, instance) =>
        {
            if (name is not null || description is not null)
                s.SetInstanceAttributes(instance.Id, name ?? instance.Name, description ?? instance.Description);
            if (groupTexts.Count > 0)
            {
                var groups = groupTexts.Select(g => s.Group(c, g)).ToList();
                Membership.Check(s, c, instance.NetworkType, instance.VpcId, groups, instance.SecurityGroupIds);
                s.SetMemberships(instance.Id, [.. groups.Select(g => g.Id)]);
            }
            return [];
        });
    }
}
