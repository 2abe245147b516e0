namespace Palisade.Server.Actions.Vpcs;

internal sealed class DeleteVpc() : WriteAction(ApiVersions.Vpc)
{
    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var idText = c.Parameters.Required("VpcId");
        return c.Write(s =>
        {
            var vpc = s.Vpc(c, idText);
            if (s.ListVSwitchesOfVpc(vpc.Id).Count > 0)
                throw new EcsException(EcsErrors.VpcHasVSwitches());
            if (s.CountGroupsInVpc(vpc.Id) > 0)
                throw new EcsException(EcsErrors.VpcHasGroups());
            s.RemoveAllTags(TaggedResourceTypes.Vpc, vpc.Id.Value);
            s.DeleteVpc(vpc.Id);
            return [];
        });
    }
}
