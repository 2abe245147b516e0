using Palisade.Domain.Networking;

namespace Palisade.Engine.Indexing;

/// <summary>
/// Single addresses mapped to a value (which shared group makes an address a fellow member), for
/// the inner-access checks. Sorted keys, binary search; IPv4 and IPv6 kept apart.
/// </summary>
internal sealed class HostMap<TValue>
{
    private readonly UInt128[] _v4;
    private readonly TValue[] _v4Values;
    private readonly UInt128[] _v6;
    private readonly TValue[] _v6Values;

    /// <param name="entries">Address and value; where an address repeats, the first entry wins.</param>
    public HostMap(IEnumerable<(IpAddress Address, TValue Value)> entries)
    {
        var v4 = new SortedDictionary<UInt128, TValue>();
        var v6 = new SortedDictionary<UInt128, TValue>();
        foreach (var (address, value) in entries)
            (address.IsV6 ? v6 : v4).TryAdd(address.Value, value);
        _v4 = [.. v4.Keys];
        _v4Values = [.. v4.Values];
        _v6 = [.. v6.Keys];
        _v6Values = [.. v6.Values];
    }

    public int Count => _v4.Length + _v6.Length;

    public long EstimatedBytes => Count * (16L + 8L) + 128;

    public bool TryGet(IpAddress address, out TValue value)
    {
        var keys = address.IsV6 ? _v6 : _v4;
        var index = Array.BinarySearch(keys, address.Value);
        if (index >= 0)
        {
            value = (address.IsV6 ? _v6Values : _v4Values)[index];
            return true;
        }
        value = default!;
        return false;
    }
}
