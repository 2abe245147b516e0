using Palisade.Server.Responses;

namespace Palisade.Server.Actions.SecurityGroups;

public sealed class ModifySecurityGroupAttribute : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var p = c.Parameters;
        var idText = p.Required("SecurityGroupId");
        Lookups.GroupId(idText);
        var name = p.Optional("SecurityGroupName") is { } n ? GroupViews.Name(n) : null;
        var description = p.Optional("Description") is { } d ? GroupViews.Description(d) : null;
        return c.Write(s =>
        {
            var group = s.Group(c, idText);
            s.UpdateGroup(group with { Name = name ?? group.Name, Description = description ?? group.Description });
            return [];
        });
    }
}
