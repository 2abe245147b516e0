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
        var id = PortRangeListFamily.Instance.IdParameter(c);
        var name = p.Optional("PortRangeListName") is { } n ? PortRangeListRequests.Name(n) : null;
        var description = p.Optional("Description") is { } d ? PrefixListRequests.Description(d) : null;
        var add = PortRangeListRequests.Entries(c, "AddEntry", withDescription: true);
        var remove = PortRangeListRequests.Entries(c, "RemoveEntry", withDescription: false);
        foreach (var r in remove)
        {
            if (add.Any(a => a.Range == r.Range))
                throw new EcsException(EcsErrors.PortRangeListEntryDuplicated(r.Range.ToString()));
        }
        return c.Write(s =>
        {
            var list = PortRangeListFamily.Instance.Find(s, c, id, region.RegionId);
            foreach (var (r, index) in remove.Select((r, i) => (r, i)))
            {
                if (list.Entries.All(e => e.Range != r.Range))
                    throw new EcsException(EcsErrors.PortRangeListEntryMissing($"RemoveEntry.{index + 1}.PortRange", r.Range.ToString()));
            }
            var entries = ListEntries.Merge(list.Entries, add, remove, e => e.Range);
            PortRangeListFamily.Instance.CheckSize(entries.Count, list.MaxEntries);
            s.UpdatePortRangeList(list with { Name = name ?? list.Name, Description = description ?? list.Description, Entries = entries });
            return [];
        });
    }
}
