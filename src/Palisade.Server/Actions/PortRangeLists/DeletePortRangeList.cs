using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>DeletePortRangeList: refused while a rule names the list (<c>InvalidPortRangeListId.AssociationExist</c>).</summary>
internal sealed class DeletePortRangeList : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var id = PortRangeListRequests.Id(c.Parameters.Required("PortRangeListId"));
        return c.Write(s =>
        {
            var list = PortRangeListRequests.Find(s, c, id, region.RegionId);
            if (s.GroupsUsingPortRangeList(list.Id).Count > 0)
                throw new EcsException(EcsErrors.PortRangeListHasAssociations());
            s.DeletePortRangeList(list.Id);
            return [];
        });
    }
}
