using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// The best-practice scenario of issue 5: web may reach redis on TCP 6379, 6379 is dropped for
/// everything else at priority 100, HTTP 80 is open from anywhere, members of a group reach each other.
/// </summary>
internal static class Scenario
{
    public static NetworkState State(bool web1InWeb = true) => StateFileReader.Read("""
        {"SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Accept", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0", "Priority": 1}]}},
           {"SecurityGroupId": "sg-redis", "VpcId": "vpc-a", "InnerAccessPolicy": "Accept", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-redisweb", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6379", "SourceGroupId": "sg-web", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-redisdrop", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6379", "SourceCidrIp": "0.0.0.0/0", "Policy": "drop", "Priority": 100}]}},
           {"SecurityGroupId": "sg-ops", "VpcId": "vpc-a", "InnerAccessPolicy": "Accept", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "198.18.0.0/15", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-ping", "Direction": "ingress", "IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "198.18.0.0/15", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-dns", "Direction": "egress", "IpProtocol": "UDP", "PortRange": "53/53", "DestCidrIp": "198.18.0.0/15", "Policy": "drop", "Priority": 5}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["WEB1_GROUP"]}},
           {"InstanceId": "i-web2", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.12"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-redis1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.21"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}},
           {"InstanceId": "i-ops1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.31"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-ops"]}}]}
        """.Replace("WEB1_GROUP", web1InWeb ? "sg-web" : "sg-ops", StringComparison.Ordinal));

    /// <summary>The scenario after two accept rules are added to sg-redis (SSH from two blocks, in one run with the group rule).</summary>
    public static NetworkState WithRedisSsh()
    {
        var state = State();
        var redis = state.FindGroup(SecurityGroupId.Parse("sg-redis"))!;
        var template = redis.Rules[0];
        var added = redis with
        {
            Rules = redis.Rules.AddRange(new[]
            {
                template with { Id = SecurityGroupRuleId.Parse("sgr-ssha"), Ports = PortRange.Single(22), Peer = new RulePeer.CidrBlock(Cidr.Parse("198.18.1.0/24")) },
                template with { Id = SecurityGroupRuleId.Parse("sgr-sshb"), Ports = PortRange.Single(22), Peer = new RulePeer.CidrBlock(Cidr.Parse("10.0.0.0/8")) },
            }),
        };
        return new NetworkState(state.RegionId, state.Groups.Select(g => g.Id == added.Id ? added : g), state.Instances);
    }

    public static IReadOnlyList<HostBinding> Bindings { get; } =
    [
        new(InstanceId.Parse("i-web1"), "vh-web1"),
        new(InstanceId.Parse("i-web2"), "vh-web2"),
        new(InstanceId.Parse("i-redis1"), "vh-redis1"),
        new(InstanceId.Parse("i-ops1"), "vh-ops1"),
    ];
}
