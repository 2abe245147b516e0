using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

internal sealed class CreatePortRangeList : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p) =>
        ListFamilies.PortRangeLists.Create(c, () => PortRangeListRequests.Entries(c, "Entry", withDescription: true), (id, l) =>
            new PortRangeListRecord(id, c.AccountId, l.RegionId, l.MaxEntries, l.Name, l.Description, l.ResourceGroupId, l.CreatedAt, l.Entries));
}
