namespace Palisade.Analysis.Audit;

/// <summary>
/// Private addresses of every ENI by network, sorted, so that the ENIs inside a block are found by two
/// binary searches. An ENI is an instance, or the view of a secondary ENI (<see cref="Instance.Interfaces"/>).
/// </summary>
internal sealed class AddressIndex
{
    private readonly Dictionary<string, (UInt128[] Values, bool[] V6, int[] Instances)> _byNetwork = [];
    private readonly List<Instance> _interfaces = [];

    private AddressIndex()
    {
    }

    public static AddressIndex Of(NetworkState state)
    {
        var index = new AddressIndex();
        index._interfaces.AddRange(state.Instances.SelectMany(i => i.Interfaces));
        var nics = index._interfaces;
        foreach (var network in Enumerable.Range(0, nics.Count).GroupBy(k => nics[k].VpcId?.Value ?? ""))
        {
            var entries = network.SelectMany(k => nics[k].PrivateAddresses.Select(a => (a.IsV6, a.Value, k)))
                .OrderBy(e => e.IsV6).ThenBy(e => e.Value).ToArray();
            index._byNetwork[network.Key] = ([.. entries.Select(e => e.Value)], [.. entries.Select(e => e.IsV6)], [.. entries.Select(e => e.k)]);
        }
        return index;
    }

    /// <summary>The ENIs of the network with a private address in the block, in state order.</summary>
    public List<Instance> Within(VpcId? vpc, Cidr block)
    {
        if (!_byNetwork.TryGetValue(vpc?.Value ?? "", out var entries))
            return [];
        var found = new SortedSet<int>();
        // Entries are ordered by family, then value: find the first of the block's family at or after its first address.
        var low = 0;
        var high = entries.Values.Length;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if ((entries.V6[mid] ? 1 : 0) < (block.IsV6 ? 1 : 0) || (entries.V6[mid] == block.IsV6 && entries.Values[mid] < block.First))
                low = mid + 1;
            else
                high = mid;
        }
        for (var k = low; k < entries.Values.Length && entries.V6[k] == block.IsV6 && entries.Values[k] <= block.Last; k++)
            found.Add(entries.Instances[k]);
        return [.. found.Select(k => _interfaces[k])];
    }
}
