using Palisade.Domain.Networking;

namespace Palisade.Engine.Flows;

/// <summary>
/// The first packet of a connection: addresses, protocol and ports. Ports mean nothing for ICMP,
/// ICMPv6, GRE and other protocols and are ignored there.
/// </summary>
public readonly record struct Flow(IpAddress Source, IpAddress Destination, IpProtocol Protocol, int DestinationPort, int SourcePort = Flow.DefaultSourcePort)
{
    /// <summary>The source port assumed when none is given: the first IANA ephemeral port.</summary>
    public const int DefaultSourcePort = 49152;

    /// <summary>The destination port as the rules see it: 0 for protocols without ports.</summary>
    public int EffectiveDestinationPort => Protocol.HasPorts() ? DestinationPort : 0;

    /// <summary>The source port as the rules see it: 0 for protocols without ports.</summary>
    public int EffectiveSourcePort => Protocol.HasPorts() ? SourcePort : 0;

    public override string ToString() => Protocol.HasPorts()
        ? $"{Protocol.ToWire()} {Source}:{SourcePort} -> {Destination}:{DestinationPort}"
        : $"{Protocol.ToWire()} {Source} -> {Destination}";
}
