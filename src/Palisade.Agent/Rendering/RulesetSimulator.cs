using Palisade.Domain.Networking;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Rendering;

/// <summary>
/// What the kernel does with the first packet of a connection under a <see cref="HostRuleset"/>,
/// read off the model rule by rule as <see cref="NftText"/> writes it: the forward chain (egress of
/// the source NIC, then ingress of the destination NIC, closed for traffic of no NIC here). The
/// slow twin of rendering, checked against the engine; and what decides which tracked connections
/// a policy change no longer allows. The kernel finds NICs by port; a tracked connection names its
/// conntrack zone (its network), in which an address is one NIC's at most.
/// </summary>
public sealed class RulesetSimulator
{
    private readonly HostRuleset _ruleset;
    private readonly Dictionary<(int Zone, IpAddress Address), NftNic> _byAddress = [];
    // A member set's hosts are looked up by hash; a prefix list's blocks (an interval set) by containment.
    private readonly Dictionary<string, Func<IpAddress, bool>> _sets;

    public RulesetSimulator(HostRuleset ruleset)
    {
        _ruleset = ruleset;
        foreach (var nic in ruleset.Nics)
        {
            foreach (var a in nic.Addresses)
                _byAddress.TryAdd((nic.Zone, a), nic);
        }
        _sets = ruleset.Sets.ToDictionary(s => s.Name, s =>
        {
            if (s.Interval)
                return s.Contains;
            var hosts = s.Elements.Select(e => e.Network).ToHashSet();
            return (Func<IpAddress, bool>)hosts.Contains;
        }, StringComparer.Ordinal);
    }

    public HostRuleset Ruleset => _ruleset;

    /// <summary>The NIC of this host that holds <paramref name="address"/> in conntrack zone <paramref name="zone"/> (its network), if any.</summary>
    public NftNic? NicAt(int zone, IpAddress address) => _byAddress.GetValueOrDefault((zone, address));

    /// <summary>The NIC holding <paramref name="address"/> when only one network on the host uses it.</summary>
    public NftNic? NicAt(IpAddress address)
    {
        var holders = _ruleset.Nics.Where(n => n.Addresses.Contains(address)).Take(2).ToList();
        return holders.Count == 1 ? holders[0] : null;
    }

    /// <summary>Whether a new connection <paramref name="flow"/> in <paramref name="zone"/> passes (both addresses of one family).</summary>
    public bool Allows(int zone, Flow flow) => Allows(flow, NicAt(zone, flow.Source), NicAt(zone, flow.Destination));

    /// <summary>Whether a new connection <paramref name="flow"/> passes where only one network uses its addresses.</summary>
    public bool Allows(Flow flow) => Allows(flow, NicAt(flow.Source), NicAt(flow.Destination));

    /// <summary>Whether a new connection <paramref name="flow"/> from the port of <paramref name="source"/> to that of <paramref name="destination"/> passes.</summary>
    public bool Allows(Flow flow, NftNic? source, NftNic? destination)
    {
        if (flow.Source.IsV6 != flow.Destination.IsV6)
            return false;
        if (source is not null && Run(source.Egress, flow, flow.Destination, flow.Source) == NftVerdict.Drop)
            return false;
        if (destination is not null)
            return Run(destination.Ingress, flow, flow.Source, flow.Destination) == NftVerdict.Accept;
        return source is not null;
    }

    private NftVerdict Run(NftChain chain, Flow flow, IpAddress peer, IpAddress local)
    {
        foreach (var rule in chain.Rules)
        {
            if (Matches(rule, flow, peer, local))
                return rule.Verdict;
        }
        return chain.Default;
    }

    private bool Matches(NftChainRule statement, Flow flow, IpAddress peer, IpAddress local)
    {
        if ((statement.Family == AddressFamily.V6) != peer.IsV6)
            return false;
        if (statement is NftRunSet set)
        {
            return set.Elements.Any(e => e.Peer.Contains(peer)
                && (set.Kind == RunSetKind.Peer || e.Protocol == flow.Protocol)
                && (set.Kind != RunSetKind.PeerProtocolPort || (flow.DestinationPort >= e.PortLow && flow.DestinationPort <= e.PortHigh)));
        }
        var rule = (NftRule)statement;
        var peerMatches = rule.Peer switch
        {
            null => true,
            AddressSource.Named n => _sets.TryGetValue(n.SetName, out var contains) && contains(peer),
            AddressSource.Inline i => i.Blocks.Any(b => b.Contains(peer)),
            _ => false,
        };
        if (!peerMatches)
            return false;
        if (rule.Local is { } l && !l.Contains(local))
            return false;
        if (rule.MatchesProtocol && rule.Protocol != flow.Protocol)
            return false;
        if (rule.DestinationPorts.Length > 0 && !rule.DestinationPorts.Any(p => p.Contains(flow.DestinationPort)))
            return false;
        if (rule.SourcePorts is { } sp && !sp.Contains(flow.SourcePort))
            return false;
        return true;
    }
}
