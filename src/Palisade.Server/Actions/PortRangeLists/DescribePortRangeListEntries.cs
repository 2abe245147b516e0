using Palisade.Server.Responses;

namespace Palisade.Server.Actions.PortRangeLists;

internal sealed class DescribePortRangeListEntries : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var id = PortRangeListRequests.Id(c.Parameters.Required("PortRangeListId"));
        return c.Read(s =>
        {
            var l = PortRangeListRequests.Find(s, c, id, region.RegionId);
            return new EcsObject
            {
                { "Entries", l.Entries.Select(e => new EcsObject { { "PortRange", e.Range.ToString() }, { "Description", e.Description } }).ToList() },
            };
        });
    }
}
