namespace Palisade.Analysis.Flows;

/// <summary>One end of a flow as the user named it: an instance of the state, or an address. Shared by <c>palisade eval</c> and the server's <c>ExplainFlow</c>.</summary>
/// <param name="PublicAddress">
/// The public or elastic address the user named for a VPC instance; the security group sees
/// <paramref name="Address"/>, the private address it is translated to.
/// </param>
public sealed record FlowEndpoint(Instance? Instance, IpAddress Address, IpAddress? PublicAddress = null)
{
    public string Describe() => Instance is null ? $"{Address} (not an instance in the state)"
        : PublicAddress is { } named ? $"{Nic!.InterfaceLabel} ({Address}, reached at its public address {named})"
        : $"{Nic!.InterfaceLabel} ({Address})";

    /// <summary>The ENI of the instance that owns <see cref="Address"/> (its groups decide): the instance itself for its primary ENI.</summary>
    public Instance? Nic => Instance?.InterfaceOf(Address);

    /// <summary>
    /// As <see cref="ResolvePair(NetworkState, string, string, NicType, EndpointWording?)"/>, and the NIC
    /// type when none was asked for: internet when an end is a classic instance's internet address (that
    /// NIC carries the flow), otherwise intranet.
    /// </summary>
    public static (FlowEndpoint Source, FlowEndpoint Destination, NicType NicType) Resolve(NetworkState state, string source, string destination, NicType? requested,
        EndpointWording? wording = null)
    {
        var nicType = requested ?? (OnAClassicInternetNic(state, source) || OnAClassicInternetNic(state, destination) ? NicType.Internet : NicType.Intranet);
        var (s, d) = ResolvePair(state, source, destination, nicType, wording);
        return (s, d, nicType);
    }

    private static bool OnAClassicInternetNic(NetworkState state, string text) =>
        IpAddress.TryParse(text, out var address) && state.Instances.Any(i => i.NetworkType == NetworkType.Classic && i.PublicAddresses.Contains(address));

    /// <summary>
    /// Resolves <c>--src</c> and <c>--dst</c>. An address that belongs to an instance's NIC of the
    /// flow's kind is that instance; an instance is given the address of the other end's family.
    /// </summary>
    public static (FlowEndpoint Source, FlowEndpoint Destination) ResolvePair(NetworkState state, string source, string destination, NicType nicType,
        EndpointWording? wording = null)
    {
        var w = wording ?? EndpointWording.CommandLine;
        var src = Parse(state, source, w.Source, nicType, w.Where, destination: false);
        var dst = Parse(state, destination, w.Destination, nicType, w.Where, destination: true);
        bool? family = (src.Address ?? src.PublicAddress)?.IsV6 ?? (dst.Address ?? dst.PublicAddress)?.IsV6;
        var s = Complete(src, family, w.Source, nicType);
        var d = Complete(dst, family ?? s.Address.IsV6, w.Destination, nicType);
        if (s.Address.IsV6 != d.Address.IsV6)
            throw new FlowEndpointException($"{w.Source} {s.Address} and {w.Destination} {d.Address} are of different address families");
        return (s, d);
    }

    private sealed record Named(Instance? Instance, IpAddress? Address, IpAddress? PublicAddress = null);

    private static Named Parse(NetworkState state, string text, string option, NicType nicType, string where, bool destination)
    {
        if (text.StartsWith(InstanceId.Prefix, StringComparison.Ordinal))
        {
            if (!InstanceId.TryParse(text, out var id))
                throw new FlowEndpointException($"{option} '{text}' is not a valid instance ID");
            return new Named(state.FindInstance(id) ?? throw new FlowEndpointException($"{option} {text}: no such instance {where}", missingInstance: text), null);
        }
        if (!IpAddress.TryParse(text, out var address))
            throw new FlowEndpointException($"{option} '{text}' is neither an instance ID (i-…) nor an IP address");
        // An address of any ENI of an instance is that instance (the ENI that owns it decides).
        var owners = state.Instances.Where(i => i.Interfaces.Any(n => n.AddressesOn(nicType).Contains(address))).ToList();
        if (owners.Count > 1)
            throw new FlowEndpointException($"{option} {address} belongs to several instances ({string.Join(", ", owners.Select(o => o.Id))}); name the instance instead");
        if (owners.Count == 0 && nicType == NicType.Intranet && destination)
        {
            // A flow to a VPC instance's public IP or EIP reaches its one NIC at the private address
            // the address is translated to, which is what its security groups see. As a source the
            // public address stays what the other end sees (docs/semantics.md §7): not this instance.
            var natted = state.Instances.Where(i => i.NetworkType != NetworkType.Classic && i.AllPublicAddresses.Contains(address)).ToList();
            if (natted.Count > 1)
                throw new FlowEndpointException($"{option} {address} is the public address of several instances ({string.Join(", ", natted.Select(o => o.Id))}); name the instance instead");
            if (natted.Count == 1)
                return new Named(natted[0], null, address);
        }
        return new Named(owners.SingleOrDefault(), address);
    }

    private static FlowEndpoint Complete(Named named, bool? family, string option, NicType nicType)
    {
        if (named.Address is { } address)
            return new FlowEndpoint(named.Instance, address);
        var instance = named.Instance!;
        if (named.PublicAddress is { } published)
        {
            // Translated to a private address of the ENI the public address or EIP is associated with.
            var translated = instance.InterfaceOf(published).PrivateAddresses.Where(a => a.IsV6 == published.IsV6).Select(a => (IpAddress?)a).FirstOrDefault();
            return translated is { } privateAddress
                ? new FlowEndpoint(instance, privateAddress, published)
                : throw new FlowEndpointException($"{option} {published} is the public address of {instance.Id}, which has no {(published.IsV6 ? "IPv6" : "IPv4")} private address to translate it to");
        }
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
