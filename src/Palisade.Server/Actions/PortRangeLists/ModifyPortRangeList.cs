using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>
/// ModifyPortRangeList: a new name or description, entries removed (<c>RemoveEntry.N.PortRange</c>)
/// and added (<c>AddEntry.N</c>; adding a range the list holds changes its description), in one
/// transaction: every rule naming the list matches the new ports from the next revision on.
/// </summary>
internal sealed class ModifyPortRangeList : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var edit = ListFamilies.PortRangeLists.Edit(c);
        var add = PortRangeListRequests.Entries(c, "AddEntry", withDescription: true);
        var remove = PortRangeListRequests.Entries(c, "RemoveEntry", withDescription: false);
        foreach (var r in remove)
        {
            if (add.Any(a => a.Range == r.Range))
                throw new EcsException(EcsErrors.PortRangeListEntryDuplicated(r.Range.ToString()));
        }
        return c.Write(s =>
        {
            var list = ListFamilies.PortRangeLists.Find(s, c, edit.Id, region.RegionId);
            foreach (var (r, index) in remove.Select((r, i) => (r, i)))
            {
                if (list.Entries.All(e => e.Range != r.Range))
                    throw new EcsException(EcsErrors.PortRangeListEntryMissing($"RemoveEntry.{index + 1}.PortRange", r.Range.ToString()));
            }
            var entries = ListEntries.Merge(list.Entries, add, remove, e => e.Range);
            ListFamilies.PortRangeLists.CheckSize(entries.Count, list.MaxEntries);
            s.PortRangeLists.Update(list with { Name = edit.Name ?? list.Name, Description = edit.Description ?? list.Description, Entries = entries });
            return [];
        });
    }
}
