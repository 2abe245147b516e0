using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Domain.Tests.State;

public sealed class StateFileReaderTests
{
    /// <summary>
    /// Bodies as the aliyun CLI prints them: DescribeSecurityGroupAttribute merged with the
    /// DescribeSecurityGroups item, a DescribeInstances item, empty strings for unset fields,
    /// Priority sometimes a number, rules of older exports without IDs.
    /// </summary>
    private const string RealisticExport = """
        {
          "RegionId": "cn-hangzhou",
          "SecurityGroups": [
            {
              "RequestId": "6B7A6F2A-0000-4B0E-9C3A-3E7D2F3F0A1B",
              "RegionId": "cn-hangzhou",
              "SecurityGroupId": "sg-bp1web",
              "SecurityGroupName": "web",
              "Description": "front end",
              "VpcId": "vpc-bp1prod",
              "InnerAccessPolicy": "Accept",
              "SecurityGroupType": "normal",
              "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}]},
              "Permissions": {"Permission": [
                {"SecurityGroupRuleId": "sgr-bp1https", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443",
                 "SourceCidrIp": "0.0.0.0/0", "Ipv6SourceCidrIp": "", "SourceGroupId": "", "SourceGroupOwnerAccount": "",
                 "SourcePrefixListId": "", "DestCidrIp": "", "Ipv6DestCidrIp": "", "DestGroupId": "", "DestGroupOwnerAccount": "",
                 "DestPrefixListId": "", "SourcePortRange": "", "PortRangeListId": "", "NicType": "intranet",
                 "Policy": "Accept", "Priority": 1, "Description": "", "CreateTime": "2024-03-01T08:00:00Z"},
                {"Direction": "egress", "IpProtocol": "ALL", "PortRange": "-1/-1", "DestCidrIp": "10.0.0.0/8", "Policy": "Drop", "Priority": "100"}
              ]}
            }
          ],
          "Instances": [
            {
              "InstanceId": "i-bp1web1",
              "InstanceName": "web-1",
              "InstanceNetworkType": "vpc",
              "Status": "Running",
              "VpcAttributes": {"VpcId": "vpc-bp1prod", "VSwitchId": "vsw-bp1a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}, "NatIpAddress": ""},
              "PublicIpAddress": {"IpAddress": []},
              "EipAddress": {"IpAddress": "47.96.1.2", "AllocationId": "eip-bp1x"},
              "InnerIpAddress": {"IpAddress": []},
              "NetworkInterfaces": {"NetworkInterface": [{"NetworkInterfaceId": "eni-bp1x", "PrimaryIpAddress": "10.0.1.10",
                "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.1.10", "Primary": true}, {"PrivateIpAddress": "10.0.1.11", "Primary": false}]},
                "Ipv6Sets": {"Ipv6Set": [{"Ipv6Address": "2408:4000::10"}]}}]},
              "SecurityGroupIds": {"SecurityGroupId": ["sg-bp1web"]},
              "Tags": {"Tag": [{"TagKey": "role", "TagValue": "web"}]}
            }
          ]
        }
        """;

    [Fact]
    public void RealisticExport_IsReadCompletely()
    {
        var state = StateFileReader.Read(RealisticExport);
        Assert.Equal("cn-hangzhou", state.RegionId);

        var group = state.FindGroup(SecurityGroupId.Parse("sg-bp1web"))!;
        Assert.Equal(("web", "front end", SecurityGroupType.Normal, InnerAccessPolicy.Accept), (group.Name, group.Description, group.Type, group.InnerAccessPolicy));
        Assert.Equal(VpcId.Parse("vpc-bp1prod"), group.VpcId);
        Assert.Equal(new Tag("env", "prod"), Assert.Single(group.Tags));
        Assert.Equal(2, group.Rules.Length);

        var https = group.Rules[0];
        Assert.Equal("sgr-bp1https", https.Id.Value);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 8, 0, 0, TimeSpan.Zero), https.CreateTime);
        Assert.Equal(1, https.Priority.Value);
        Assert.Null(https.SourcePorts);

        var egress = group.Rules[1];
        Assert.Equal("sgr-bp1web_2", egress.Id.Value); // no ID in the export: group and 1-based position
        Assert.Equal((Direction.Egress, IpProtocol.All, Verdict.Drop, 100), (egress.Direction, egress.Protocol, egress.Policy, egress.Priority.Value));

        var instance = state.FindInstance(InstanceId.Parse("i-bp1web1"))!;
        Assert.Equal(NetworkType.Vpc, instance.NetworkType);
        Assert.Equal(VSwitchId.Parse("vsw-bp1a"), instance.VSwitchId);
        Assert.Equal(["10.0.1.10", "10.0.1.11", "2408:4000::10"], instance.PrivateAddresses.Select(a => a.ToString()));
        Assert.Equal(["47.96.1.2"], instance.PublicAddresses.Select(a => a.ToString()));
        Assert.Equal(group.Id, Assert.Single(instance.SecurityGroupIds));
        Assert.Same(instance, Assert.Single(state.MembersOf(group.Id)));
    }

    [Fact]
    public void BareArrays_AreAcceptedWhereEcsWrapsLists()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups": [{"SecurityGroupId": "sg-a", "VpcId": "vpc-a", "Permissions": [
              {"Direction": "ingress", "IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8"}]}],
             "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": ["10.0.0.1"]}, "SecurityGroupIds": ["sg-a"]}]}
            """);
        Assert.Single(state.FindGroup(SecurityGroupId.Parse("sg-a"))!.Rules);
        Assert.Equal("10.0.0.1", Assert.Single(state.FindInstance(InstanceId.Parse("i-a"))!.PrivateAddresses).ToString());
    }

    [Fact]
    public void ClassicInstances_ReadInnerAndPublicAddresses()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups": [{"SecurityGroupId": "sg-c"}],
             "Instances": [{"InstanceId": "i-c", "InstanceNetworkType": "classic", "InnerIpAddress": {"IpAddress": ["10.116.0.9"]},
                            "PublicIpAddress": {"IpAddress": ["198.51.100.9"]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-c"]}}]}
            """);
        var instance = state.FindInstance(InstanceId.Parse("i-c"))!;
        Assert.Equal(NetworkType.Classic, instance.NetworkType);
        Assert.Equal("10.116.0.9", Assert.Single(instance.AddressesOn(NicType.Intranet)).ToString());
        Assert.Equal("198.51.100.9", Assert.Single(instance.AddressesOn(NicType.Internet)).ToString());
        Assert.Null(state.FindGroup(SecurityGroupId.Parse("sg-c"))!.VpcId);
    }

    [Theory]
    [InlineData("""{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "200/1", "SourceCidrIp": "0.0.0.0/0"}]}}]}""",
        "$.SecurityGroups[0].Permissions.Permission[0].PortRange", "InvalidIpProtocol.Malformed")]
    [InlineData("""{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "1/2", "SourceCidrIp": "0.0.0.0/0", "Priority": {}}]}}]}""",
        "$.SecurityGroups[0].Permissions.Permission[0].Priority", "expected a string")]
    [InlineData("""{"SecurityGroups": [], "PrefixLists": [{"PrefixListId": "pl-a", "AddressFamily": "IPv6", "Entries": {"Entry": [{"Cidr": "10.0.0.0/8"}]}}]}""",
        "$.PrefixLists[0].Entries.Entry[0].Cidr", "10.0.0.0/8")]
    [InlineData("""{"SecurityGroups": [{"SecurityGroupId": "sg-a", "InnerAccessPolicy": "Maybe"}]}""",
        "$.SecurityGroups[0].InnerAccessPolicy", "Maybe")]
    public void Problems_NameTheirPath(string json, string path, string problemPart)
    {
        var e = Assert.Throws<StateFileException>(() => StateFileReader.Read(json));
        Assert.Equal(path, e.Path);
        Assert.Contains(problemPart, e.Problem);
    }
}
