using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Vpcs;

internal sealed class DeleteVpc : VpcAction
{
    public override bool Mutates => true;

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
