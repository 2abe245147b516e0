using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Cli.Evaluation;

/// <summary>One end of a flow as the user named it: an instance of the state, or an address.</summary>
public sealed record Endpoint(Instance? Instance, IpAddress Address)
{
    public string Describe() => Instance is null ? $"{Address} (not an instance in the state)" : $"{Instance.Id} ({Address})";

    /// <summary>
    /// Resolves <c>--src</c> and <c>--dst</c>. An address that belongs to an instance's NIC of the
    /// flow's kind is that instance; an instance is given the address of the other end's family.
    /// </summary>
    public static (Endpoint Source, Endpoint Destination) ResolvePair(NetworkState state, string source, string destination, NicType nicType)
    {
        var src = Parse(state, source, "--src", nicType);
        var dst = Parse(state, destination, "--dst", nicType);
        bool? family = src.Address?.IsV6 ?? dst.Address?.IsV6;
        var s = Complete(src, family, "--src", nicType);
        var d = Complete(dst, family ?? s.Address.IsV6, "--dst", nicType);
        if (s.Address.IsV6 != d.Address.IsV6)
            throw new UsageException($"--src {s.Address} and --dst {d.Address} are of different address families");
        return (s, d);
    }

    private sealed record Named(Instance? Instance, IpAddress? Address);

    private static Named Parse(NetworkState state, string text, string option, NicType nicType)
    {
        if (text.StartsWith(InstanceId.Prefix, StringComparison.Ordinal))
        {
            if (!InstanceId.TryParse(text, out var id))
                throw new UsageException($"{option} '{text}' is not a valid instance ID");
            return new Named(state.FindInstance(id) ?? throw new UsageException($"{option} {text}: no such instance in the state file"), null);
        }
        if (!IpAddress.TryParse(text, out var address))
            throw new UsageException($"{option} '{text}' is neither an instance ID (i-…) nor an IP address");
        var owners = state.Instances.Where(i => i.AddressesOn(nicType).Contains(address)).ToList();
        if (owners.Count > 1)
            throw new UsageException($"{option} {address} belongs to several instances ({string.Join(", ", owners.Select(o => o.Id))}); name the instance instead");
        return new Named(owners.SingleOrDefault(), address);
    }

    private static Endpoint Complete(Named named, bool? family, string option, NicType nicType)
    {
        if (named.Address is { } address)
            return new Endpoint(named.Instance, address);
        var instance = named.Instance!;
        var candidates = instance.AddressesOn(nicType);
        var chosen = family is { } v6 ? candidates.Where(a => a.IsV6 == v6) : candidates.OrderBy(a => a.IsV6);
        foreach (var a in chosen)
            return new Endpoint(instance, a);
        var kind = instance.NetworkType == NetworkType.Classic ? $"{nicType.ToWire()} " : "";
        var familyText = family is true ? "IPv6 " : family is false ? "IPv4 " : "";
        throw new UsageException($"{option} {instance.Id} has no {familyText}address on its {kind}NIC");
    }
}

/// <summary>A command line that cannot be acted on; its message says why.</summary>
public sealed class UsageException(string message) : Exception(message);
