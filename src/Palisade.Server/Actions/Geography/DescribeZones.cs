namespace Palisade.Server.Actions.Geography;

internal sealed class DescribeZones : ReadAction
{
    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        return new EcsObject
        {
            { "Zones", EcsList.Of("Zone", region.Zones.Select(z => new EcsObject
                {
                    { "ZoneId", z },
                    { "LocalName", $"{region.LocalName} Zone {z[^1..].ToUpperInvariant()}" },
                    { "AvailableResourceCreation", EcsList.Of("ResourceTypes", new[] { "Instance", "VSwitch" }) },
                })) },
        };
    }
}
