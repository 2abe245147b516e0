namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class ModifySecurityGroupAttribute : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var groupId = c.GroupIdParameter();
        var name = GroupViews.Name(p);
        var description = GroupViews.Description(p);
        return c.WriteGroup(groupId, (s, group) =>
        {
            s.UpdateGroup(group with { Name = name ?? group.Name, Description = description ?? group.Description });
            return [];
        });
    }
}
