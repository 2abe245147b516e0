using System.Collections.Immutable;
using CsCheck;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;

namespace Palisade.TestKit;

/// <summary>
/// Generators of small universes — few ports, few blocks, few groups, two VPCs and the classic
/// network — so that generated rules collide, overlap, tie on priority and reference each other
/// (STYLE.md rule 6). Every generated state is valid enough to compile; the point is variety of
/// matches, not variety of syntax.
/// </summary>
public static class SmallUniverse
{
    public static readonly ImmutableArray<string> V4Addresses =
        ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.1.1", "192.168.0.1", "8.8.8.8", "0.0.0.0", "255.255.255.255"];

    public static readonly ImmutableArray<string> V6Addresses = ["2001:db8::1", "2001:db8::2", "2001:db8:1::1", "::"];

    private static readonly ImmutableArray<string> V4Blocks =
        ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.0/30", "10.0.0.4/31", "10.0.0.1", "10.0.1.0/24", "192.168.0.0/16", "8.8.8.8/32", "255.255.255.255"];

    private static readonly ImmutableArray<string> V6Blocks = ["::/0", "2001:db8::/32", "2001:db8::/64", "2001:db8::1", "2001:db8:1::/48"];

    private static readonly VpcId VpcA = VpcId.Parse("vpc-a");
    private static readonly VpcId VpcB = VpcId.Parse("vpc-b");

    public static readonly PrefixListId PrefixV4 = PrefixListId.Parse("pl-four");
    public static readonly PrefixListId PrefixV6 = PrefixListId.Parse("pl-six");
    public static readonly PrefixListId PrefixMissing = PrefixListId.Parse("pl-missing");
    public static readonly PortRangeListId PortList = PortRangeListId.Parse("prl-web");
    public static readonly PortRangeListId PortListMissing = PortRangeListId.Parse("prl-missing");

    private static readonly Gen<Cidr> GenV4Block = Gen.OneOf([.. V4Blocks]).Select(Cidr.Parse);
    private static readonly Gen<Cidr> GenV6Block = Gen.OneOf([.. V6Blocks]).Select(Cidr.Parse);
    private static readonly Gen<Cidr> GenBlock = Gen.Frequency((4, GenV4Block), (1, GenV6Block));

    private static readonly Gen<PortRange> GenPorts = Gen.Frequency(
        (3, Gen.Int[20, 25].Select(PortRange.Single)),
        (2, Gen.Select(Gen.Int[20, 25], Gen.Int[0, 3], (a, len) => PortRange.Create(a, Math.Min(a + len, 25)))),
        (1, Gen.OneOf(PortRange.Create(1, 65535), PortRange.Create(65535, 65535), PortRange.Create(1, 1))));

    private static readonly Gen<IpProtocol> GenProtocol = Gen.Frequency(
        (4, IpProtocol.Tcp), (2, IpProtocol.Udp), (1, IpProtocol.Icmp),
        (1, IpProtocol.IcmpV6), (1, IpProtocol.Gre), (2, IpProtocol.All));

    /// <summary>The shape of a group before rules: its index, network and type.</summary>
    private sealed record GroupShape(int Index, VpcId? Vpc, SecurityGroupType Type, InnerAccessPolicy Inner);

    private static Gen<GroupShape> GenGroupShape(int index) =>
        Gen.Select(
            Gen.Frequency((3, (VpcId?)(VpcA)), (1, (VpcId?)(VpcB)), (2, (VpcId?)(null))),
            Gen.Frequency((5, SecurityGroupType.Normal), (1, SecurityGroupType.Enterprise)),
            Gen.Frequency((1, InnerAccessPolicy.Accept), (1, InnerAccessPolicy.Drop)),
            (vpc, type, inner) => new GroupShape(index, vpc, vpc is null ? SecurityGroupType.Normal : type, inner));

    private static SecurityGroupId GroupIdOf(int index) => SecurityGroupId.Parse($"sg-g{index}");

    private static Gen<RulePeer> GenPeer(GroupShape shape, int groupCount)
    {
        var cidr = (shape.Vpc is null ? GenV4Block : GenBlock).Select(c => (RulePeer)new RulePeer.CidrBlock(c));
        var options = new List<(int, IGen<RulePeer>)> { (5, cidr) };
        if (shape.Type == SecurityGroupType.Normal)
            options.Add((3, Gen.Int[0, groupCount].Select(i => (RulePeer)new RulePeer.Group(GroupIdOf(i)))));
        if (shape.Vpc is not null)
            options.Add((1, Gen.OneOf(PrefixV4, PrefixV6, PrefixMissing).Select(p => (RulePeer)new RulePeer.PrefixList(p))));
        return Gen.Frequency([.. options]);
    }

    private static Gen<SecurityGroupRule> GenRule(GroupShape shape, int groupCount, int ruleIndex) =>
        from direction in Gen.OneOf(Direction.Ingress, Direction.Egress)
        from protocol in GenProtocol
        from ports in GenPorts
        from portList in Gen.Frequency((8, Always<PortRangeListId?>(null)), (1, Gen.OneOf<PortRangeListId?>(PortList, PortListMissing)))
        from policy in Gen.OneOf(Verdict.Accept, Verdict.Drop)
        from priority in Gen.Frequency((3, Gen.Int[1, 3]), (1, Gen.OneOf(1, 50, 100)))
        from nic in Gen.OneOf(NicType.Intranet, NicType.Internet)
        from peer in GenPeer(shape, groupCount)
        from sourcePorts in Gen.Frequency((6, Always<PortRange?>(null)), (1, GenPorts.Select(p => (PortRange?)p)))
        from local in Gen.Frequency((6, Always<Cidr?>(null)), (1, (shape.Vpc is null ? GenV4Block : GenBlock).Select(c => (Cidr?)c)))
        select new SecurityGroupRule(
            SecurityGroupRuleId.Parse($"sgr-g{shape.Index}r{ruleIndex}"),
            direction,
            protocol,
            protocol.HasPorts() ? ports : PortRange.Any,
            policy,
            Priority.Create(priority),
            shape.Vpc is null ? (peer is RulePeer.Group ? NicType.Intranet : nic) : NicType.Intranet,
            peer,
            protocol.HasPorts() ? sourcePorts : null,
            local,
            protocol.HasPorts() ? portList : null);

    private static Gen<SecurityGroup> GenGroup(GroupShape shape, int groupCount) =>
        from count in Gen.Int[0, 8]
        from rules in Gen.Int[0, 0].Array[count].SelectMany(_ => SequenceOf(count, i => GenRule(shape, groupCount, i)))
        select new SecurityGroup(GroupIdOf(shape.Index), $"group-{shape.Index}", "", shape.Type, shape.Vpc, shape.Inner, [.. rules], []);

    private static Gen<SecurityGroupRule[]> SequenceOf(int count, Func<int, Gen<SecurityGroupRule>> make)
    {
        Gen<SecurityGroupRule[]> acc = Gen.Const(Array.Empty<SecurityGroupRule>());
        for (var i = 0; i < count; i++)
        {
            var gen = make(i);
            acc = acc.SelectMany(prefix => gen.Select(rule => (SecurityGroupRule[])[.. prefix, rule]));
        }
        return acc;
    }

    private static Gen<Instance> GenInstance(int index, ImmutableArray<SecurityGroup> groups) =>
        from anchor in Gen.Int[0, groups.Length - 1]
        from extra in Gen.Int[0, groups.Length - 1].Array[0, 3]
        from privateV4 in Gen.OneOf([.. V4Addresses]).Array[1, 2]
        from privateV6 in Gen.OneOf([.. V6Addresses]).Array[0, 1]
        from publicV4 in Gen.OneOf([.. V4Addresses]).Array[0, 1]
        from enis in GenEni(groups).Array[0, 2]
        select WithSecondaryInterfaces(MakeInstance(index, groups, anchor, extra, privateV4, privateV6, publicV4), enis, groups);

    /// <summary>The raw draw of one secondary ENI: its groups (indexes) and addresses, made compatible by <see cref="WithSecondaryInterfaces"/>.</summary>
    private sealed record EniDraw(int[] Groups, string[] V4, string[] V6, string[] Public);

    private static Gen<EniDraw> GenEni(ImmutableArray<SecurityGroup> groups) =>
        from chosen in Gen.Int[0, groups.Length - 1].Array[0, 2]
        from v4 in Gen.OneOf([.. V4Addresses]).Array[1, 2]
        from v6 in Gen.OneOf([.. V6Addresses]).Array[0, 1]
        from pub in Gen.OneOf([.. V4Addresses]).Array[0, 1]
        select new EniDraw(chosen, v4, v6, pub);

    /// <summary>
    /// Secondary ENIs exist in a VPC only; each joins only groups of the instance's VPC and type (or
    /// none), and holds addresses no other ENI of the instance holds (ECS gives each address to one ENI).
    /// </summary>
    private static Instance WithSecondaryInterfaces(Instance instance, EniDraw[] draws, ImmutableArray<SecurityGroup> groups)
    {
        if (instance.NetworkType != NetworkType.Vpc || draws.Length == 0)
            return instance;
        var home = groups.First(g => g.Id == instance.SecurityGroupIds[0]);
        var taken = instance.PrivateAddresses.Concat(instance.PublicAddresses).ToHashSet();
        var enis = ImmutableArray.CreateBuilder<NetworkInterface>();
        foreach (var draw in draws)
        {
            var own = draw.V4.Concat(draw.V6).Select(IpAddress.Parse).Distinct().Where(taken.Add).ToImmutableArray();
            if (own.Length == 0)
                continue;
            var pub = draw.Public.Select(IpAddress.Parse).Where(taken.Add).ToImmutableArray();
            var ids = draw.Groups.Select(i => groups[i])
                .Where(g => g.VpcId == home.VpcId && g.IsEnterprise == home.IsEnterprise)
                .Select(g => g.Id).Distinct().Take(Instance.MaxSecurityGroups).ToImmutableArray();
            enis.Add(new NetworkInterface(NetworkInterfaceId.Parse($"eni-{instance.Id.Value[2..]}x{enis.Count}"), own, pub, ids));
        }
        return instance with { SecondaryInterfaces = enis.ToImmutable() };
    }

    private static Instance MakeInstance(int index, ImmutableArray<SecurityGroup> groups, int anchor, int[] extra, string[] v4, string[] v6, string[] pub)
    {
        var home = groups[anchor];
        // An instance lives in the network of its first group and may join only groups of that network.
        var compatible = extra.Select(i => groups[i])
            .Where(g => g.VpcId == home.VpcId && g.IsEnterprise == home.IsEnterprise)
            .Select(g => g.Id);
        var ids = new[] { home.Id }.Concat(compatible).Distinct().Take(Instance.MaxSecurityGroups).ToImmutableArray();
        var classic = home.VpcId is null;
        var privateAddresses = v4.Concat(classic ? [] : v6).Select(IpAddress.Parse).Distinct().ToImmutableArray();
        return new Instance(
            InstanceId.Parse($"i-n{index}"), $"node-{index}",
            classic ? NetworkType.Classic : NetworkType.Vpc,
            home.VpcId, null,
            privateAddresses,
            [.. pub.Select(IpAddress.Parse)],
            ids);
    }

    public static readonly Gen<NetworkState> State =
        from groupCount in Gen.Int[1, 5]
        from shapes in SequenceOfShapes(groupCount)
        from groups in SequenceOfGroups(shapes, groupCount)
        from instanceCount in Gen.Int[1, 5]
        from instances in SequenceOfInstances(instanceCount, [.. groups])
        from prefixV4 in GenV4Block.Array[0, 3]
        from prefixV6 in GenV6Block.Array[0, 2]
        from portList in GenPorts.Array[0, 3]
        select new NetworkState("cn-test", groups, instances,
            [new PrefixList(PrefixV4, "four", false, [.. prefixV4]), new PrefixList(PrefixV6, "six", true, [.. prefixV6])],
            [new PortRangeList(PortList, "web", [.. portList])]);

    private static Gen<GroupShape[]> SequenceOfShapes(int count)
    {
        Gen<GroupShape[]> acc = Gen.Const(Array.Empty<GroupShape>());
        for (var i = 0; i < count; i++)
        {
            var gen = GenGroupShape(i);
            acc = acc.SelectMany(prefix => gen.Select(s => (GroupShape[])[.. prefix, s]));
        }
        return acc;
    }

    private static Gen<SecurityGroup[]> SequenceOfGroups(GroupShape[] shapes, int groupCount)
    {
        Gen<SecurityGroup[]> acc = Gen.Const(Array.Empty<SecurityGroup>());
        foreach (var shape in shapes)
        {
            var gen = GenGroup(shape, groupCount);
            acc = acc.SelectMany(prefix => gen.Select(g => (SecurityGroup[])[.. prefix, g]));
        }
        return acc;
    }

    private static Gen<Instance[]> SequenceOfInstances(int count, ImmutableArray<SecurityGroup> groups)
    {
        Gen<Instance[]> acc = Gen.Const(Array.Empty<Instance>());
        for (var i = 0; i < count; i++)
        {
            var gen = GenInstance(i, groups);
            acc = acc.SelectMany(prefix => gen.Select(inst => (Instance[])[.. prefix, inst]));
        }
        return acc;
    }

    public static readonly Gen<IpAddress> Address = Gen.Frequency(
        (4, Gen.OneOf([.. V4Addresses])), (1, Gen.OneOf([.. V6Addresses]))).Select(IpAddress.Parse);

    public static readonly Gen<Flow> Flow =
        from source in Address
        from destination in Address
        from protocol in GenProtocol
        from port in Gen.Frequency((6, Gen.Int[19, 26]), (1, Gen.OneOf(0, 1, 65535)))
        from sourcePort in Gen.OneOf(20, 22, 25, 1024, 49152)
        select new Flow(source, destination, protocol, port, sourcePort);

    private static Gen<T> Always<T>(T value) => Gen.OneOf([value]);

    /// <summary>A readable dump of a state, for a failing property's report.</summary>
    public static string Describe(NetworkState state)
    {
        var lines = new List<string>();
        foreach (var g in state.Groups)
        {
            lines.Add($"group {g.Id} {g.Type.ToWire()} vpc={g.VpcId?.ToString() ?? "classic"} inner={g.InnerAccessPolicy.ToWire()}");
            foreach (var r in g.Rules)
                lines.Add($"  {r.Id} {r.Direction.ToWire()} {r.Protocol.ToWire()} {r.Ports} src-ports={r.SourcePorts?.ToString() ?? "-"} {r.Policy.ToWire()} p{r.Priority} {r.NicType.ToWire()} peer={r.Peer} local={r.LocalCidr?.ToString() ?? "-"} list={r.PortRangeListId?.ToString() ?? "-"}");
        }
        foreach (var i in state.Instances)
        {
            lines.Add($"instance {i.Id} {i.NetworkType.ToWire()} vpc={i.VpcId?.ToString() ?? "-"} private=[{string.Join(",", i.PrivateAddresses)}] public=[{string.Join(",", i.PublicAddresses)}] groups=[{string.Join(",", i.SecurityGroupIds)}]");
            foreach (var e in i.SecondaryInterfaces)
                lines.Add($"  eni {e.Id} private=[{string.Join(",", e.PrivateAddresses)}] public=[{string.Join(",", e.PublicAddresses)}] groups=[{string.Join(",", e.SecurityGroupIds)}]");
        }
        foreach (var p in state.PrefixLists)
            lines.Add($"prefix-list {p.Id} [{string.Join(",", p.Entries)}]");
        foreach (var p in state.PortRangeLists)
            lines.Add($"port-list {p.Id} [{string.Join(",", p.Entries)}]");
        return string.Join('\n', lines);
    }

    /// <summary>Any single rule with the network and type of the group that holds it, a description and a creation time.</summary>
    public static readonly Gen<(SecurityGroupRule Rule, bool GroupIsClassic, SecurityGroupType GroupType)> RuleInGroup =
        from shape in GenGroupShape(0)
        from rule in GenRule(shape, 3, 0)
        from description in Gen.OneOf("", "web", "安全组 (ssh) *~!' \"quoted\"")
        from seconds in Gen.Long[0, 2_000_000_000]
        select (rule with { Description = description, CreateTime = DateTimeOffset.FromUnixTimeSeconds(seconds) }, shape.Vpc is null, shape.Type);

    /// <summary>Any single rule a group of any shape could hold, with a description and a creation time.</summary>
    public static readonly Gen<SecurityGroupRule> Rule =
        from shape in GenGroupShape(0)
        from rule in GenRule(shape, 3, 0)
        from description in Gen.OneOf("", "web", "安全组 (ssh) *~!' \"quoted\"")
        from seconds in Gen.Long[0, 2_000_000_000]
        select rule with { Description = description, CreateTime = DateTimeOffset.FromUnixTimeSeconds(seconds) };
}
