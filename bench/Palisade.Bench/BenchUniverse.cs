using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;

namespace Palisade.Bench;

/// <summary>
/// One benchmark scenario: a VPC NIC in five basic groups holding <c>ruleCount</c> rules in all,
/// fifty other instances of the same VPC in the groups its rules reference, and a fixed batch of
/// ingress flows towards the NIC. Everything is drawn from a seeded <see cref="Random"/>, so a
/// rule count always gives the same state and the same flows.
/// </summary>
public sealed class BenchUniverse
{
    public const int FlowCount = 1024;
    public const int NicGroupCount = 5;
    public const int PeerGroupCount = 5;
    public const int MemberCount = 50;

    private const int Seed = 20_261_128;

    public static readonly VpcId Vpc = VpcId.Parse("vpc-bench");

    /// <summary>The NIC's own addresses: one private IPv4, one IPv6.</summary>
    public static readonly IpAddress NicV4 = IpAddress.Parse("10.1.0.10");

    public static readonly IpAddress NicV6 = IpAddress.Parse("2408:4000:1:1::10");

    /// <summary>Destination ports that real groups open; most single-port rules use one of them.</summary>
    private static readonly int[] CommonPorts =
        [22, 25, 53, 80, 123, 161, 443, 2379, 3306, 3389, 5432, 5672, 6379, 6443, 8080, 8443, 9090, 9200, 10250, 11211, 27017];

    private BenchUniverse(int ruleCount, NetworkState state, Instance nic, Flow[] flows)
    {
        RuleCount = ruleCount;
        State = state;
        Nic = nic;
        Flows = flows;
    }

    public int RuleCount { get; }

    public NetworkState State { get; }

    /// <summary>The instance whose NIC is benchmarked (<c>i-bench0</c>).</summary>
    public Instance Nic { get; }

    /// <summary>Ingress flows towards the NIC: about half built to hit a rule, half random.</summary>
    public Flow[] Flows { get; }

    public static SecurityGroupId GroupId(int g) => SecurityGroupId.Parse($"sg-bench{g}");

    public static BenchUniverse Create(int ruleCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ruleCount);
        var random = new Random(Seed);

        var members = MakeMembers(random);
        var rules = new List<SecurityGroupRule>[NicGroupCount];
        for (var g = 0; g < NicGroupCount; g++)
            rules[g] = [];
        for (var n = 0; n < ruleCount; n++)
        {
            var rule = MakeRule(random, n);
            rules[PickGroup(random)].Add(rule);
        }

        var groups = new List<SecurityGroup>();
        for (var g = 0; g < NicGroupCount; g++)
        {
            // ECS's basic groups let members in by default; the first group keeps that, the others
            // were switched to Drop, as most production groups are.
            var inner = g == 0 ? InnerAccessPolicy.Accept : InnerAccessPolicy.Drop;
            groups.Add(new SecurityGroup(GroupId(g), $"bench-{g}", "", SecurityGroupType.Normal, Vpc, inner, [.. rules[g]], []));
        }
        string[] roles = ["web", "db", "cache", "ops", "lb"];
        for (var p = 0; p < PeerGroupCount; p++)
        {
            var g = NicGroupCount + p;
            groups.Add(new SecurityGroup(GroupId(g), $"bench-{roles[p]}", "", SecurityGroupType.Normal, Vpc, InnerAccessPolicy.Drop, [], []));
        }

        var nic = new Instance(
            InstanceId.Parse("i-bench0"), "bench-nic", NetworkType.Vpc, Vpc, VSwitchId.Parse("vsw-bench0"),
            [NicV4, NicV6], [],
            [.. Enumerable.Range(0, NicGroupCount).Select(GroupId)]);
        var state = new NetworkState("cn-bench", groups, [nic, .. members]);

        var ingressRules = groups.Take(NicGroupCount)
            .SelectMany(g => g.Rules)
            .Where(r => r.Direction == Direction.Ingress)
            .ToArray();
        var flows = new Flow[FlowCount];
        for (var i = 0; i < flows.Length; i++)
        {
            flows[i] = ingressRules.Length > 0 && random.Next(100) < 55
                ? FlowHitting(random, ingressRules[random.Next(ingressRules.Length)], state)
                : RandomFlow(random, members);
        }
        return new BenchUniverse(ruleCount, state, nic, flows);
    }

    /// <summary>Fifty VPC instances with private addresses, each in one or two of the peer groups; a few share a group with the NIC.</summary>
    private static Instance[] MakeMembers(Random random)
    {
        var members = new Instance[MemberCount];
        for (var k = 0; k < MemberCount; k++)
        {
            var ids = new List<SecurityGroupId> { GroupId(NicGroupCount + (k % PeerGroupCount)) };
            if (random.Next(3) == 0)
                ids.Add(GroupId(NicGroupCount + random.Next(PeerGroupCount)));
            if (k < 4)
                ids.Add(GroupId(0)); // inner access Accept with the NIC
            else if (k < 8)
                ids.Add(GroupId(1)); // inner access Drop with the NIC
            var subnet = 1 + (k / 20);
            ImmutableArray<IpAddress> addresses = k % 10 == 0
                ? [V4(10, 1, subnet, 20 + k), IpAddress.Parse($"2408:4000:1:{subnet:x}::{20 + k:x}")]
                : [V4(10, 1, subnet, 20 + k)];
            members[k] = new Instance(
                InstanceId.Parse($"i-bench{k + 1}"), $"bench-member-{k + 1}", NetworkType.Vpc, Vpc,
                VSwitchId.Parse($"vsw-bench{subnet}"), addresses, [], [.. ids.Distinct()]);
        }
        return members;
    }

    /// <summary>The group a rule goes to: the first groups hold more rules than the last.</summary>
    private static int PickGroup(Random random) => random.Next(100) switch
    {
        < 35 => 0,
        < 60 => 1,
        < 80 => 2,
        < 92 => 3,
        _ => 4,
    };

    private static SecurityGroupRule MakeRule(Random random, int n)
    {
        // A few features are pinned to fixed rule numbers so that even the 10-rule case has them.
        var direction = n == 8 || (n > 10 && random.Next(100) < 20) ? Direction.Egress : Direction.Ingress;
        var protocol = n switch
        {
            3 or 4 or 7 => IpProtocol.Tcp,
            8 => IpProtocol.All,
            _ => random.Next(100) switch
            {
                < 72 => IpProtocol.Tcp,
                < 90 => IpProtocol.Udp,
                < 96 => IpProtocol.Icmp,
                _ => IpProtocol.All,
            },
        };

        RulePeer peer = n switch
        {
            1 => new RulePeer.Group(GroupId(NicGroupCount)),
            4 or 8 => new RulePeer.CidrBlock(Cidr.AnyV4),
            6 => new RulePeer.CidrBlock(RandomV6Block(random)),
            _ => random.Next(1000) switch
            {
                < 100 => new RulePeer.Group(GroupId(random.Next(100) < 85 ? NicGroupCount + random.Next(PeerGroupCount) : random.Next(NicGroupCount))),
                < 130 => new RulePeer.CidrBlock(RandomV6Block(random)),
                < 135 => new RulePeer.CidrBlock(Cidr.AnyV4),
                < 780 => new RulePeer.CidrBlock(RandomBlock(random, 10, 8)),
                _ => new RulePeer.CidrBlock(RandomBlock(random, (192 << 8) | 168, 16)),
            },
        };
        if (protocol == IpProtocol.Icmp && peer is RulePeer.CidrBlock { Cidr.IsV6: true })
            protocol = IpProtocol.IcmpV6;

        var ports = !protocol.HasPorts() ? PortRange.Any
            : n == 4 ? PortRange.Single(443)
            : random.Next(100) switch
            {
                < 55 => PortRange.Single(CommonPorts[random.Next(CommonPorts.Length)]),
                < 65 => PortRange.Single(random.Next(1024, 65536)),
                < 93 => RandomRange(random),
                _ => PortRange.Create(1, 65535),
            };

        PortRange? sourcePorts = protocol.HasPorts() && (n == 3 || (n > 10 && random.Next(200) == 0))
            ? PortRange.Create(1024, 65535)
            : null;
        Cidr? localCidr = n == 7 || (n > 10 && random.Next(200) == 0)
            ? (random.Next(2) == 0 || n == 7 ? Cidr.Parse("10.1.0.0/24") : Cidr.Parse("10.1.5.0/24"))
            : null;
        if (localCidr is not null && peer is RulePeer.CidrBlock { Cidr.IsV6: true })
            localCidr = null;

        var priority = random.Next(100) < 40 ? 1 : random.Next(1, 101);
        var policy = random.Next(100) < 15 ? Verdict.Drop : Verdict.Accept;
        return new SecurityGroupRule(
            SecurityGroupRuleId.Parse($"sgr-b{n}"), direction, protocol, ports, policy, Priority.Create(priority),
            NicType.Intranet, peer, sourcePorts, localCidr);
    }

    private static PortRange RandomRange(Random random)
    {
        var from = random.Next(1000, 60000);
        var length = random.Next(100) < 70 ? random.Next(1, 100) : random.Next(100, 5000);
        return PortRange.Create(from, Math.Min(from + length, PortRange.MaxPort));
    }

    /// <summary>A block inside <paramref name="prefix"/>/<paramref name="prefixBits"/>, mostly /16 to /32.</summary>
    private static Cidr RandomBlock(Random random, uint prefix, int prefixBits)
    {
        var length = random.Next(100) switch
        {
            < 5 => prefixBits,
            < 25 => random.Next(prefixBits + 1, 24),
            < 60 => 24,
            < 75 => random.Next(25, 32),
            _ => 32,
        };
        length = Math.Max(length, prefixBits);
        var address = (prefix << (32 - prefixBits)) | ((uint)random.NextInt64(0, 1L << (32 - prefixBits)));
        return Cidr.Create(IpAddress.V4(address), length);
    }

    private static Cidr RandomV6Block(Random random) => random.Next(10) switch
    {
        0 => Cidr.AnyV6,
        < 5 => Cidr.Create(IpAddress.Parse($"2408:4000:{random.Next(4):x}:{random.Next(16):x}::"), 64),
        _ => Cidr.Create(IpAddress.Parse($"2408:{4000 + random.Next(8):x}::"), random.Next(32, 49)),
    };

    /// <summary>A flow the rule matches on every field (it may still lose to a higher-priority rule).</summary>
    private static Flow FlowHitting(Random random, SecurityGroupRule rule, NetworkState state)
    {
        var source = rule.Peer switch
        {
            RulePeer.CidrBlock { Cidr: var c } => AddressIn(random, c),
            RulePeer.Group { GroupId: var g } => MemberAddress(random, state, g),
            _ => throw new InvalidOperationException("The bench makes no prefix-list rules."),
        };
        var protocol = rule.Protocol switch
        {
            IpProtocol.All => source.IsV6 ? IpProtocol.IcmpV6 : IpProtocol.Tcp,
            var p => p,
        };
        var port = protocol.HasPorts() && !rule.Ports.IsAny ? random.Next(rule.Ports.Low, rule.Ports.High + 1)
            : protocol.HasPorts() ? CommonPorts[random.Next(CommonPorts.Length)] : 0;
        var sourcePort = random.Next(32768, 61000);
        return new Flow(source, source.IsV6 ? NicV6 : NicV4, protocol, port, sourcePort);
    }

    private static IpAddress MemberAddress(Random random, NetworkState state, SecurityGroupId group)
    {
        var members = state.MembersOf(group);
        if (members.IsEmpty)
            return V4(10, 1, 9, 9);
        var addresses = members[random.Next(members.Length)].PrivateAddresses;
        return addresses[random.Next(addresses.Length)];
    }

    private static IpAddress AddressIn(Random random, Cidr block)
    {
        var hostBits = block.Network.BitLength - block.PrefixLength;
        UInt128 offset;
        if (hostBits < 63)
        {
            offset = (ulong)random.NextInt64(0, 1L << hostBits);
        }
        else
        {
            Span<byte> bytes = stackalloc byte[16];
            random.NextBytes(bytes);
            offset = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(bytes);
        }
        var value = block.First + (offset & (block.Last - block.First));
        return new IpAddress(block.IsV6, value);
    }

    /// <summary>Traffic from anywhere: members, the private ranges, the internet, IPv6; TCP, UDP, ICMP and GRE.</summary>
    private static Flow RandomFlow(Random random, Instance[] members)
    {
        var kind = random.Next(100);
        var source = kind switch
        {
            < 15 => members[random.Next(members.Length)].PrivateAddresses[0],
            < 45 => AddressIn(random, Cidr.Parse("10.0.0.0/8")),
            < 65 => AddressIn(random, Cidr.Parse("192.168.0.0/16")),
            < 92 => IpAddress.V4((uint)random.NextInt64(0x0100_0000, 0xDF00_0000)),
            _ => AddressIn(random, Cidr.Parse("2408::/16")),
        };
        var protocol = random.Next(100) switch
        {
            < 75 => IpProtocol.Tcp,
            < 90 => IpProtocol.Udp,
            < 97 => source.IsV6 ? IpProtocol.IcmpV6 : IpProtocol.Icmp,
            _ => IpProtocol.Gre,
        };
        var port = !protocol.HasPorts() ? 0
            : random.Next(2) == 0 ? CommonPorts[random.Next(CommonPorts.Length)]
            : random.Next(1, 65536);
        return new Flow(source, source.IsV6 ? NicV6 : NicV4, protocol, port, random.Next(32768, 61000));
    }

    private static IpAddress V4(int a, int b, int c, int d) => IpAddress.V4((uint)((a << 24) | (b << 16) | (c << 8) | d));
}
