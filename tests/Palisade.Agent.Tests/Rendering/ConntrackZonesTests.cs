using Palisade.Agent.Rendering;

namespace Palisade.Agent.Tests.Rendering;

public sealed class ConntrackZonesTests
{
    [Fact]
    public void ANetworksZone_DoesNotMoveWhenOthersComeAndGo()
    {
        var alone = ConntrackZones.Assign(["vpc-a"]);
        var crowded = ConntrackZones.Assign(["vpc-c", "vpc-a", "vpc-b", "classic"]);
        Assert.Equal(alone["vpc-a"], crowded["vpc-a"]);
        Assert.Equal(ConntrackZones.Preferred("vpc-a"), alone["vpc-a"]);
        Assert.Equal(4, crowded.Values.Distinct().Count());
        Assert.All(crowded.Values, z => Assert.InRange(z, 1, ConntrackZones.Count));
    }

    [Fact]
    public void TwoNetworksMeetingOnOneNumber_GetTwoZones()
    {
        // Find two names with the same preferred zone, as a host with many VPCs would.
        var seen = new Dictionary<int, string>();
        string first = "", second = "";
        for (var i = 0; second.Length == 0; i++)
        {
            var name = $"vpc-{i}";
            if (seen.TryGetValue(ConntrackZones.Preferred(name), out var other))
                (first, second) = (other, name);
            else
                seen[ConntrackZones.Preferred(name)] = name;
        }
        var zones = ConntrackZones.Assign([first, second]);
        Assert.NotEqual(zones[first], zones[second]);
    }
}
