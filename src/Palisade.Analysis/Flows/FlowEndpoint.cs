using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Analysis.Flows;

/// <summary>One end of a flow as the user named it: an instance of the state, or an address. Shared by <c>palisade eval</c> and the server's <c>ExplainFlow</c>.</summary>
public sealed record FlowEndpoint(Instance? Instance, IpAddress Address)
{
    public string Describe() => Instance is null ? $"{Address} (not an instance in the state)" : $"{Instance.Id} ({Address})";

    /// <summary>
    /// Resolves <c>--src</c> and <c>--dst</c>. An address that belongs to an instance's NIC of the
    /// flow's kind is that instance; an instance is given the address of the other end's family.
    /// </summary>
    public static (FlowEndpoint Source, FlowEndpoint Destination) ResolvePair(NetworkState state, string source, string destination, NicType nicType,
        EndpointWording? wording = null)
    {
        var w = wording ?? EndpointWording.CommandLine;
        var src = Parse(state, source, w.Source, nicType, w.Where);
        var dst = Parse(state, destination, w.Destination, nicType, w.Where);
        bool? family = src.Address?.IsV6 ?? dst.Address?.IsV6;
        var s = Complete(src, family, w.Source, nicType);
        var d = Complete(dst, family ?? s.Address.IsV6, w.Destination, nicType);
        if (s.Address.IsV6 != d.Address.IsV6)
            throw new FlowEndpointException($"{w.Source} {s.Address} and {w.Destination} {d.Address} are of different address families");
        return (s, d);
    }

    private sealed record Named(Instance? Instance, IpAddress? Address);

    private static Named Parse(NetworkState state, string text, string option, NicType nicType, string where)
    {
        if (text.StartsWith(InstanceId.Prefix, StringComparison.Ordinal))
        {
            if (!InstanceId.TryParse(text, out var id))
                throw new FlowEndpointException($"{option} '{text}' is not a valid instance ID");
            return new Named(state.FindInstance(id) ?? throw new FlowEndpointException($"{option} {text}: no such instance {where}", missingInstance: text), null);
        }
        if (!IpAddress.TryParse(text, out var address))
            throw new FlowEndpointException($"{option} '{text}' is neither an instance ID (i-…) nor an IP address");
        var owners = state.Instances.Where(i => i.AddressesOn(nicType).Contains(address)).ToList();
        if (owners.Count > 1)
            throw new FlowEndpointException($"{option} {address} belongs to several instances ({string.Join(", ", owners.Select(o => o.Id))}); name the instance instead");
        return new Named(owners.SingleOrDefault(), address);
    }

    private static FlowEndpoint Complete(Named named, bool? family, string option, NicType nicType)
    {
        if (named.Address is { } address)
            return new FlowEndpoint(named.Instance, address);
        var instance = named.Instance!;
        var candidates = instance.AddressesOn(nicType);
        var chosen = family is { } v6 ? candidates.Where(a => a.IsV6 == v6) : candidates.OrderBy(a => a.IsV6);
        foreach (var a in chosen)
            return new FlowEndpoint(instance, a);
        var kind = instance.NetworkType == NetworkType.Classic ? $"{nicType.ToWire()} " : "";
        var familyText = family is true ? "IPv6 " : family is false ? "IPv4 " : "";
        throw new FlowEndpointException($"{option} {instance.Id} has no {familyText}address on its {kind}NIC");
    }
}

/// <summary>How errors name the two ends and where instances are looked up: options of a command, or parameters of an action.</summary>
public sealed record EndpointWording(string Source, string Destination, string Where)
{
    public static EndpointWording CommandLine { get; } = new("--src", "--dst", "in the state file");
}

/// <summary>An end of a flow that names nothing usable; the message says why, naming the option or parameter.</summary>
public sealed class FlowEndpointException(string message, string? missingInstance = null) : Exception(message)
{
    /// <summary>The instance ID that named nothing, when that was the problem (the server answers it with <c>InvalidInstanceId.NotFound</c>).</summary>
    public string? MissingInstance { get; } = missingInstance;
}
