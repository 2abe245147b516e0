using Palisade.Domain.Ecs;

namespace Palisade.Analysis.Import;

/// <summary>The VPC and vSwitch blocks an import creates, worked out from the addresses the instances hold.</summary>
public sealed record ImportPlan(
    IReadOnlyDictionary<string, Cidr> VpcBlocks,
    IReadOnlyDictionary<(string Vpc, string VSwitch), Cidr> VSwitchBlocks,
    IReadOnlyList<string> Warnings)
{
    public const string NoVSwitch = "";

    public static ImportPlan Of(NetworkState state)
    {
        var warnings = new List<string>();
        var vpcs = state.Groups.Select(g => g.VpcId).Concat(state.Instances.Select(i => i.VpcId)).OfType<Domain.Identifiers.VpcId>().Select(v => v.Value).Distinct().Order().ToList();
        var vswitchBlocks = new Dictionary<(string, string), Cidr>();
        var vpcBlocks = new Dictionary<string, Cidr>();
        foreach (var vpc in vpcs)
        {
            // Every ENI of the VPC's instances: a secondary ENI's addresses belong to its own vSwitch.
            var members = state.Instances.Where(i => i.VpcId?.Value == vpc).SelectMany(i => i.Interfaces).ToList();
            // One block per original vSwitch, wide enough (/24 at most, /16 at least) for its instances;
            // vSwitches whose blocks would overlap become one.
            var blocks = members.GroupBy(i => i.VSwitchId?.Value ?? NoVSwitch)
                .Select(g => (Names: new List<string> { g.Key }, Block: Cover(g.SelectMany(i => i.PrivateAddresses).Where(a => !a.IsV6), 16, 24)))
                .Where(x => x.Block is not null)
                .Select(x => (x.Names, Block: x.Block!.Value))
                .ToList();
            for (var merged = true; merged;)
            {
                merged = false;
                for (var i = 0; i < blocks.Count && !merged; i++)
                {
                    for (var j = i + 1; j < blocks.Count && !merged; j++)
                    {
                        if (blocks[i].Block.Covers(blocks[j].Block) || blocks[j].Block.Covers(blocks[i].Block))
                        {
                            var union = Cover([blocks[i].Block.Network, blocks[j].Block.Network, LastOf(blocks[i].Block), LastOf(blocks[j].Block)], 16, 24)!.Value;
                            blocks[i] = ([.. blocks[i].Names, .. blocks[j].Names], union);
                            blocks.RemoveAt(j);
                            merged = true;
                            warnings.Add($"{vpc}: vSwitches {string.Join(", ", blocks[i].Names)} share one vSwitch ({union}) on the server");
                        }
                    }
                }
            }
            foreach (var (names, block) in blocks)
            {
                foreach (var name in names)
                    vswitchBlocks[(vpc, name)] = block;
            }
            vpcBlocks[vpc] = blocks.Count == 0
                ? Cidr.Parse("192.168.0.0/16")
                : Cover(blocks.SelectMany(b => new[] { b.Block.Network, LastOf(b.Block) }), 8, 16)!.Value;
        }
        foreach (var i in state.Instances)
        {
            // A VPC instance's IPv4 addresses are all carried (the secondary ones assigned to its primary
            // ENI); a classic instance gets an address of the server's choosing.
            if (i.NetworkType != NetworkType.Vpc && i.PrivateAddresses.Length > 1)
                warnings.Add($"{i.Id}: only the first private address ({i.PrivateAddresses[0]}) is carried");
            if (i.NetworkType == NetworkType.Vpc)
                WarnIpv6(warnings, i.Id.Value, i.PrivateAddresses);
            // The exposure is carried, not the address: a server gives public addresses from its own pool.
            if (i.NetworkType == NetworkType.Vpc && i.PublicAddresses.Any(a => !a.IsV6))
                warnings.Add($"{i.Id}: its public address ({string.Join(", ", i.PublicAddresses.Where(a => !a.IsV6))}) is replaced by one of the server's pool; it stays reachable from the internet");
            foreach (var eni in i.SecondaryInterfaces)
            {
                WarnIpv6(warnings, $"{i.Id} ({eni.Id})", eni.PrivateAddresses);
                if (eni.PublicAddresses.Any(a => !a.IsV6))
                    warnings.Add($"{i.Id} ({eni.Id}): its public address ({string.Join(", ", eni.PublicAddresses.Where(a => !a.IsV6))}) is replaced by an EIP of the server's pool; it stays reachable from the internet");
            }
        }
        return new ImportPlan(vpcBlocks, vswitchBlocks, warnings);
    }

    private static void WarnIpv6(List<string> warnings, string who, IEnumerable<IpAddress> addresses)
    {
        var v6 = addresses.Where(a => a.IsV6).ToList();
        if (v6.Count > 0)
            warnings.Add($"{who}: its IPv6 address{(v6.Count > 1 ? "es" : "")} ({string.Join(", ", v6)}) {(v6.Count > 1 ? "are" : "is")} not carried: the server's vSwitches have no IPv6 block");
    }

    private static IpAddress LastOf(Cidr block) => new(block.IsV6, block.Last);

    /// <summary>The smallest block holding every address, its prefix length between <paramref name="widest"/> and <paramref name="narrowest"/>.</summary>
    private static Cidr? Cover(IEnumerable<IpAddress> addresses, int widest, int narrowest)
    {
        var list = addresses.ToList();
        if (list.Count == 0)
            return null;
        var low = list.Min(a => a.Value);
        var high = list.Max(a => a.Value);
        var prefix = Math.Min(narrowest, 32);
        while (prefix > widest && (low >> (32 - prefix)) != (high >> (32 - prefix)))
            prefix--;
        var mask = prefix == 0 ? UInt128.Zero : (UInt128)(uint.MaxValue << (32 - prefix));
        return Cidr.Create(IpAddress.V4((uint)(low & mask)), prefix);
    }
}

/// <summary>A rule as the request fields that make it (<c>Permissions.N.*</c>, or the top-level fields of a Modify*Rule).</summary>
public static class RuleFields
{
    /// <param name="groupName">
    /// The ID to send for a group, prefix list or port-range list the rule names (an import renames
    /// them; a renamed group is the importer's own, so its owner fields go).
    /// </param>
    public static IEnumerable<KeyValuePair<string, string?>> Of(SecurityGroupRule r, Func<string, string> groupName)
    {
        var fields = PermissionFields.Of(r);
        if (r.PortRangeListId is { } list)
            fields = fields with { PortRangeListId = groupName(list.Value) };
        if (r.Peer is RulePeer.PrefixList pl)
        {
            fields = r.Direction == Direction.Ingress
                ? fields with { SourcePrefixListId = groupName(pl.PrefixListId.Value) }
                : fields with { DestPrefixListId = groupName(pl.PrefixListId.Value) };
        }
        if (r.Peer is RulePeer.Group g && groupName(g.GroupId.Value) is var renamed && renamed != g.GroupId.Value)
        {
            fields = r.Direction == Direction.Ingress
                ? fields with { SourceGroupId = renamed, SourceGroupOwnerAccount = null, SourceGroupOwnerId = null }
                : fields with { DestGroupId = renamed, DestGroupOwnerAccount = null, DestGroupOwnerId = null };
        }
        return fields.Pairs().Select(p => new KeyValuePair<string, string?>(p.Key, p.Value));
    }
}
