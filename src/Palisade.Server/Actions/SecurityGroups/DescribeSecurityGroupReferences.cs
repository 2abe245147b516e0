namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class DescribeSecurityGroupReferences : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var ids = p.RequiredList("SecurityGroupId", 10, EcsErrors.SecurityGroupIdMalformed("SecurityGroupId.N is essential and size should less than 10"));
        return c.Read(s => new EcsObject
        {
            { "SecurityGroupReferences", EcsList.Of("SecurityGroupReference", ids.Select(idText =>
                {
                    var group = s.Group(c, idText);
                    return new EcsObject
                    {
                        { "SecurityGroupId", group.Id.Value },
                        { "ReferencingSecurityGroups", EcsList.Of("ReferencingSecurityGroup", s.GroupsReferencing(group.Id).Where(r => r.AccountId == c.AccountId).Take(100).Select(r => new EcsObject
                            {
                                { "SecurityGroupId", r.Group.Value },
                                { "AliUid", r.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                            })) },
                    };
                })) },
        });
    }
}
