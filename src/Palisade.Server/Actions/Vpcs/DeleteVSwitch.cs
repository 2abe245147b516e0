using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Vpcs;

internal sealed class DeleteVSwitch : VpcAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var idText = c.Parameters.Required("VSwitchId");
        return c.Write(s =>
        {
            var vsw = s.VSwitch(c, idText);
            if (s.CountInstancesInVSwitch(vsw.Id) > 0)
                throw new EcsException(EcsErrors.VSwitchHasInstances());
            s.RemoveAllTags(TaggedResourceTypes.VSwitch, vsw.Id.Value);
            s.DeleteVSwitch(vsw.Id);
            return [];
        });
    }
}
