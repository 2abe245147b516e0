namespace Palisade.Agent.Rendering;

/// <summary>
/// A conntrack zone for each network on a host, so that two VPCs using the same addresses never
/// share a tracked connection. A zone follows from the network's name alone (FNV-1a, 1…65535), so
/// it stays the same while other networks come and go and the host's tracked connections stay
/// valid; two names that meet on one number are told apart by taking the next free one, in name
/// order (only then can a zone move, when the network it yielded to leaves).
/// </summary>
public static class ConntrackZones
{
    public const int Count = 65535;

    public static IReadOnlyDictionary<string, int> Assign(IEnumerable<string> networks)
    {
        var zones = new Dictionary<string, int>(StringComparer.Ordinal);
        var taken = new HashSet<int>();
        foreach (var network in networks.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var zone = Preferred(network);
            while (!taken.Add(zone))
                zone = zone % Count + 1;
            zones[network] = zone;
        }
        return zones;
    }

    /// <summary>The zone a network takes when no other network on the host has it.</summary>
    public static int Preferred(string network)
    {
        var hash = 2166136261U;
        foreach (var c in network)
        {
            hash ^= c;
            hash *= 16777619U;
        }
        return (int)(hash % Count) + 1;
    }
}
