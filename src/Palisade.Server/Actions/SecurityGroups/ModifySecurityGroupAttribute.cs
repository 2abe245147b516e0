namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class ModifySecurityGroupAttribute : WriteAction
{
    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var p = c.Parameters;
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
