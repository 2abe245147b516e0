namespace Palisade.Server.Actions.Vpcs;

internal sealed class DeleteVSwitch() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var idText = p.Required("VSwitchId");
        return c.Write(s =>
        {
            var vsw = s.VSwitch(c, idText);
            if (s.CountInstancesInVSwitch(vsw.Id) > 0)
                throw new EcsException(EcsErrors.VSwitchHasInstances());
            s.RemoveAllTags(TaggedResourceTypes.VSwitch, vsw.Id.Value);
            s.VSwitches.Delete(vsw.Id);
            return [];
        });
    }
}
