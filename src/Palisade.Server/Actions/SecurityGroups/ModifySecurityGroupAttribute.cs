using Palisade.Server.Responses;

namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class ModifySecurityGroupAttribute : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var p = c.Parameters;
        var groupId = c.GroupIdParameter();
        var name = p.Optional("SecurityGroupName") is { } n ? GroupViews.Name(n) : null;
        var description = p.Optional("Description") is { } d ? GroupViews.Description(d) : null;
        return c.WriteGroup(groupId, (s, group) =>
        {
            s.UpdateGroup(group with { Name = name ?? group.Name, Description = description ?? group.Description });
            return [];
        });
    }
}
