using Palisade.Server.Responses;

namespace Palisade.Server.Actions.PrefixLists;

internal sealed class DescribePrefixListAttributes : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var id = PrefixListRequests.Id(c.Parameters.Required("PrefixListId"));
        return c.Read(s =>
        {
            var l = PrefixListRequests.Find(s, c, id, region.RegionId);
            return new EcsObject
            {
                { "PrefixListId", l.Id.Value },
                { "PrefixListName", l.Name },
                { "Description", l.Description },
                { "AddressFamily", l.AddressFamily },
                { "MaxEntries", l.MaxEntries },
                { "CreationTime", Views.CreationTime(l.CreatedAt) },
                { "Entries", EcsList.Of("Entry", l.Entries.Select(e => new EcsObject { { "Cidr", e.Cidr.ToString() }, { "Description", e.Description } })) },
            };
        });
    }
}
