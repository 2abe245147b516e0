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
            return PrefixListRequests.Attributes(PrefixListRequests.Find(s, c, id, region.RegionId));
        });
    }
}
