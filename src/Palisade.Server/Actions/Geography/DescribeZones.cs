namespace Palisade.Server.Actions.Geography;

internal sealed class DescribeZones : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
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
