namespace Palisade.Server.Actions.Vpcs;

internal sealed class DeleteVpc() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var idText = p.Required("VpcId");
        return c.Write(s =>
        {
            var vpc = s.Vpc(c, idText);
            if (s.ListVSwitchesOfVpc(vpc.Id).Count > 0)
                throw new EcsException(EcsErrors.VpcHasVSwitches());
            if (s.CountGroupsInVpc(vpc.Id) > 0)
                throw new EcsException(EcsErrors.VpcHasGroups());
            s.RemoveAllTags(TaggedResourceTypes.Vpc, vpc.Id.Value);
            s.Vpcs.Delete(vpc.Id);
            return [];
        });
    }
}
