namespace Palisade.Server.Actions.PrefixLists;

/// <summary>
/// ModifyPrefixList: a new name or description, and entries removed (<c>RemoveEntry.N.Cidr</c>) and
/// added (<c>AddEntry.N</c>; adding a block the list holds changes its description). One
/// transaction: every rule naming the list decides by the new entries from the next revision on.
/// </summary>
internal sealed class ModifyPrefixList : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var edit = ListFamilies.PrefixLists.Edit(c);
        return c.Write(s =>
        {
            var list = ListFamilies.PrefixLists.Find(s, c, edit.Id, region.RegionId);
            var add = PrefixListRequests.Entries(c, "AddEntry", list.IsV6, withDescription: true);
            var remove = PrefixListRequests.Entries(c, "RemoveEntry", list.IsV6, withDescription: false);
            foreach (var (r, index) in remove.Select((r, i) => (r, i)))
            {
                if (add.Any(a => a.Cidr == r.Cidr))
                    throw new EcsException(EcsErrors.PrefixListEntryDuplicated($"RemoveEntry.{index + 1}.Cidr", r.Cidr.ToString()));
                if (list.Entries.All(e => e.Cidr != r.Cidr))
                    throw new EcsException(EcsErrors.PrefixListEntryMissing($"RemoveEntry.{index + 1}.Cidr", r.Cidr.ToString()));
            }
            var entries = ListEntries.Merge(list.Entries, add, remove, e => e.Cidr);
            ListFamilies.PrefixLists.CheckSize(entries.Count, list.MaxEntries);
            s.PrefixLists.Update(list with { Name = edit.Name ?? list.Name, Description = edit.Description ?? list.Description, Entries = entries });
            return [];
        });
    }
}
