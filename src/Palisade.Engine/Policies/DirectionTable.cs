using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using Palisade.Domain.Networking;
using Palisade.Engine.Indexing;

namespace Palisade.Engine.Policies;

/// <summary>
/// The compiled rules of one direction of one NIC. Each rule is a bit, numbered in precedence
/// order; each field of a packet (protocol, destination port, source port, peer address, local
/// address) selects, by one lookup, the set of rules that field allows. The rules that match are
/// the AND of those sets, and the winner is the lowest set bit.
/// </summary>
internal sealed class DirectionTable
{
    private const int MaxPort = PortRange.MaxPort;
    private static readonly UInt128 MaxV4 = uint.MaxValue;

    private readonly RuleRef[] _rules;
    private readonly int _words;
    private readonly ulong[] _protocols;
    private readonly ulong[] _all;
    private readonly IntervalIndex<int> _ports;
    private readonly IntervalIndex<int>? _sourcePorts;
    private readonly IntervalIndex<UInt128> _peerV4;
    private readonly IntervalIndex<UInt128> _peerV6;
    private readonly IntervalIndex<UInt128>? _localV4;
    private readonly IntervalIndex<UInt128>? _localV6;

    public DirectionTable(RuleRef[] rulesInPrecedenceOrder, RuleResolver resolver)
    {
        _rules = rulesInPrecedenceOrder;
        var n = _rules.Length;
        _words = RuleBitset.WordsFor(n);
        _all = new ulong[_words];
        RuleBitset.SetAll(_all, n);

        _protocols = new ulong[IpProtocols.Count * _words];
        var ports = new List<(int, int, int)>(n);
        var sourcePorts = new List<(int, int, int)>();
        var peerV4 = new List<(int, UInt128, UInt128)>(n);
        var peerV6 = new List<(int, UInt128, UInt128)>();
        var localV4 = new List<(int, UInt128, UInt128)>();
        var localV6 = new List<(int, UInt128, UInt128)>();
        var anySourcePorts = false;
        var anyLocal = false;

        for (var i = 0; i < n; i++)
        {
            var rule = _rules[i].Rule;
            for (var p = 0; p < IpProtocols.Count; p++)
            {
                if (rule.Protocol == IpProtocol.All || (int)rule.Protocol == p)
                    RuleBitset.Set(_protocols.AsSpan(p * _words, _words), i);
            }
            foreach (var range in resolver.DestinationPorts(rule))
                ports.Add((i, range.Low, range.High));
            if (rule.SourcePorts is { } sp)
            {
                anySourcePorts = true;
                sourcePorts.Add((i, sp.Low, sp.High));
            }
            else
            {
                sourcePorts.Add((i, 0, MaxPort));
            }
            foreach (var block in resolver.PeerBlocks(_rules[i]))
                (block.IsV6 ? peerV6 : peerV4).Add((i, block.First, block.Last));
            if (rule.LocalCidr is { } local)
            {
                anyLocal = true;
                (local.IsV6 ? localV6 : localV4).Add((i, local.First, local.Last));
            }
            else
            {
                localV4.Add((i, UInt128.Zero, MaxV4));
                localV6.Add((i, UInt128.Zero, UInt128.MaxValue));
            }
        }

        _ports = IntervalIndex<int>.Build(ports, n, MaxPort);
        _sourcePorts = anySourcePorts ? IntervalIndex<int>.Build(sourcePorts, n, MaxPort) : null;
        _peerV4 = IntervalIndex<UInt128>.Build(peerV4, n, MaxV4);
        _peerV6 = IntervalIndex<UInt128>.Build(peerV6, n, UInt128.MaxValue);
        _localV4 = anyLocal ? IntervalIndex<UInt128>.Build(localV4, n, MaxV4) : null;
        _localV6 = anyLocal ? IntervalIndex<UInt128>.Build(localV6, n, UInt128.MaxValue) : null;
    }

    public int RuleCount => _rules.Length;

    public ReadOnlySpan<RuleRef> Rules => _rules;

    // A RuleRef is an object of its own (header, method table, two references): 32 bytes on x64.
    private const long RuleRefBytes = 32;

    public long EstimatedBytes =>
        _rules.Length * (8L + RuleRefBytes) + _protocols.Length * 8L + _all.Length * 8L
        + _ports.EstimatedBytes + (_sourcePorts?.EstimatedBytes ?? 0)
        + _peerV4.EstimatedBytes + _peerV6.EstimatedBytes
        + (_localV4?.EstimatedBytes ?? 0) + (_localV6?.EstimatedBytes ?? 0);

    /// <summary>
    /// The matching rules in precedence order: the first is the winner unless
    /// <paramref name="winnerOverridden"/>, in which case all of them are reported as beaten.
    /// </summary>
    public (RuleRef? Winner, ImmutableArray<RuleRef> Beaten) Match(IpProtocol protocol, int port, int sourcePort, IpAddress peer, IpAddress local, bool winnerOverridden)
    {
        var words = _words;
        var protocols = _protocols.AsSpan((int)protocol * words, words);
        var ports = _ports.Lookup(port);
        var sourcePorts = _sourcePorts is null ? _all : _sourcePorts.Lookup(sourcePort);
        var peers = peer.IsV6 ? _peerV6.Lookup(peer.Value) : _peerV4.Lookup(peer.Value);
        var locals = _localV4 is null ? _all
            : local.IsV6 ? _localV6!.Lookup(local.Value) : _localV4.Lookup(local.Value);

        var first = -1;
        var matches = 0;
        for (var w = 0; w < words; w++)
        {
            var m = protocols[w] & ports[w] & sourcePorts[w] & peers[w] & locals[w];
            if (m == 0)
                continue;
            if (first < 0)
                first = (w << 6) + BitOperations.TrailingZeroCount(m);
            matches += BitOperations.PopCount(m);
        }
        if (first < 0)
            return (null, []);

        var beatenCount = winnerOverridden ? matches : matches - 1;
        if (beatenCount == 0)
            return (_rules[first], []);

        var beaten = new RuleRef[beatenCount];
        var k = 0;
        for (var w = first >> 6; w < words; w++)
        {
            var m = protocols[w] & ports[w] & sourcePorts[w] & peers[w] & locals[w];
            while (m != 0)
            {
                var bit = (w << 6) + BitOperations.TrailingZeroCount(m);
                m &= m - 1;
                if (bit != first || winnerOverridden)
                    beaten[k++] = _rules[bit];
            }
        }
        return (winnerOverridden ? null : _rules[first], ImmutableCollectionsMarshal.AsImmutableArray(beaten));
    }
}
