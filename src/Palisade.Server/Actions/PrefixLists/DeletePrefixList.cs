using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.PrefixLists;

/// <summary>DeletePrefixList: refused while a rule names the list (<c>NotAllowed.AssociationExist</c>).</summary>
internal sealed class DeletePrefixList : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var id = PrefixListRequests.Id(c.Parameters.Required("PrefixListId"));
        return c.Write(s =>
        {
            var list = PrefixListRequests.Find(s, c, id, region.RegionId);
            if (s.GroupsUsingPrefixList(list.Id).Count > 0)
                throw new EcsException(EcsErrors.PrefixListHasAssociations());
            s.DeletePrefixList(list.Id);
            return [];
        });
    }
}
