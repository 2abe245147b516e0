namespace Palisade.Server.Actions.NetworkInterfaces;

/// <summary>
/// AssignPrivateIpAddresses: secondary private addresses for an ENI, named (<c>PrivateIpAddress.N</c>,
/// 1 to 10 per call) or counted (<c>SecondaryPrivateIpAddressCount</c>), free addresses of its vSwitch,
/// within the per-ENI limit (<c>QuotaExceed.PrivateIpAddress</c>).
/// </summary>
internal sealed class AssignPrivateIpAddresses : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var eniText = p.Required("NetworkInterfaceId");
        var named = p.List("PrivateIpAddress", 10);
        var count = NetworkInterfaceRules.SecondaryCount(p, c);
        if (named.Count > 0 && count > 0)
            throw new EcsException(EcsErrors.ParameterInvalid("SecondaryPrivateIpAddressCount", "give PrivateIpAddress.N or SecondaryPrivateIpAddressCount, not both."));
        if (named.Count == 0 && count == 0)
            throw new EcsException(EcsErrors.Missing("PrivateIpAddress.N"));
        return c.Write(s =>
        {
            var eni = s.NetworkInterface(c, eniText);
            var added = NetworkInterfaceRules.Allocate(s, c, eni, [.. named, .. Enumerable.Repeat<string?>(null, count)]);
            s.SetNetworkInterfaceAddresses(eni, [.. eni.PrivateAddresses, .. added]);
            return new EcsObject
            {
                { "AssignedPrivateIpAddressesSet", new EcsObject
                    {
                        { "NetworkInterfaceId", eni.Id.Value },
                        { "PrivateIpSet", EcsList.Of("PrivateIpAddress", added.Select(a => a.ToString())) },
                        { "Ipv4PrefixSet", EcsList.Of("Ipv4Prefixes", Array.Empty<string>()) },
                    }
                },
            };
        });
    }
}

/// <summary>UnassignPrivateIpAddresses: secondary addresses of an ENI (never its primary one) go back to the vSwitch.</summary>
internal sealed class UnassignPrivateIpAddresses : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var eniText = p.Required("NetworkInterfaceId");
        var named = p.List("PrivateIpAddress", 32);
        if (p.List("Ipv4Prefix", 10).Count > 0)
            throw new EcsException(EcsErrors.ParameterInvalid("Ipv4Prefix", "IPv4 prefixes on a network interface are not supported (see docs/compat.md)."));
        if (named.Count == 0)
            throw new EcsException(EcsErrors.Missing("PrivateIpAddress.N"));
        return c.Write(s =>
        {
            var eni = s.NetworkInterface(c, eniText);
            var secondary = eni.PrivateAddresses.Where(a => !a.IsV6).Skip(1).ToHashSet();
            var removing = new HashSet<IpAddress>();
            foreach (var text in named)
            {
                if (!IpAddress.TryParse(text, out var address) || !secondary.Contains(address))
                    throw new EcsException(EcsErrors.PrivateIpNotOnEni(text));
                removing.Add(address);
            }
            s.SetNetworkInterfaceAddresses(eni, [.. eni.PrivateAddresses.Where(a => !removing.Contains(a))]);
            return [];
        });
    }
}
