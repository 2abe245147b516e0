using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Domain.Tests.State;

/// <summary>A state file's <c>NetworkInterfaces</c>: DescribeNetworkInterfaces items joined to their instances.</summary>
public sealed class StateFileNetworkInterfacesTests
{
    private const string Groups = """
          "SecurityGroups": [
            {"SecurityGroupId": "sg-web", "VpcId": "vpc-a"},
            {"SecurityGroupId": "sg-db", "VpcId": "vpc-a"},
            {"SecurityGroupId": "sg-other", "VpcId": "vpc-b"},
            {"SecurityGroupId": "sg-adv", "VpcId": "vpc-a", "SecurityGroupType": "enterprise"}
          ],
        """;

    private const string Instance = """
          "Instances": [{
            "InstanceId": "i-one", "InstanceNetworkType": "vpc",
            "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]},
            "NetworkInterfaces": {"NetworkInterface": [
              {"NetworkInterfaceId": "eni-primary", "Type": "Primary", "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.1"}]}},
              {"NetworkInterfaceId": "eni-second", "Type": "Secondary", "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.2"}]}}
            ]}
          }],
        """;

    private static string File(string interfaces) => "{" + Groups + Instance + "\"NetworkInterfaces\": " + interfaces + "}";

    private const string Secondary = """
        {"NetworkInterfaceId": "eni-second", "InstanceId": "i-one", "Type": "Secondary", "VpcId": "vpc-a", "VSwitchId": "vsw-a",
         "MacAddress": "00:16:3e:00:00:02", "PrivateIpAddress": "10.0.0.2",
         "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.2", "Primary": true}, {"PrivateIpAddress": "10.0.0.3", "Primary": false,
           "AssociatedPublicIp": {"PublicIpAddress": ""}}]},
         "Ipv6Sets": {"Ipv6Set": [{"Ipv6Address": "2001:db8::2"}]},
         "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]},
         "AssociatedPublicIp": {"PublicIpAddress": "203.0.113.7", "AllocationId": "eip-x"}}
        """;

    [Fact]
    public void SecondaryEni_HasItsOwnAddressesGroupsAndEip_AndTheInstanceKeepsItsPrimary()
    {
        var state = StateFileReader.Read(File("[" + Secondary + """
            , {"NetworkInterfaceId": "eni-primary", "Type": "Primary", "Attachment": {"InstanceId": "i-one"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
              {"NetworkInterfaceId": "eni-loose", "Type": "Secondary", "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}, "PrivateIpAddress": "10.0.0.9"}]
            """));
        var instance = state.FindInstance(InstanceId.Parse("i-one"))!;

        Assert.Equal(["10.0.0.1"], instance.PrivateAddresses.Select(a => a.ToString()));
        Assert.Equal(["sg-web"], instance.SecurityGroupIds.Select(g => g.Value));
        Assert.Equal("eni-primary", instance.NetworkInterfaceId?.Value);
        var eni = Assert.Single(instance.SecondaryInterfaces);
        Assert.Equal("eni-second", eni.Id.Value);
        Assert.Equal(["10.0.0.2", "10.0.0.3", "2001:db8::2"], eni.PrivateAddresses.Select(a => a.ToString()));
        Assert.Equal(["203.0.113.7"], eni.PublicAddresses.Select(a => a.ToString()));
        Assert.Equal(["sg-db"], eni.SecurityGroupIds.Select(g => g.Value));
        Assert.Equal("00:16:3e:00:00:02", eni.MacAddress?.ToString());

        // A group's members are ENIs: sg-db holds the secondary ENI only, with its addresses.
        var member = Assert.Single(state.MembersOf(SecurityGroupId.Parse("sg-db")));
        Assert.True(member.IsSecondaryInterface);
        Assert.Equal(instance.Id, member.Id);
        Assert.Equal(3, member.MemberAddresses.Length);
        Assert.Equal(["10.0.0.1"], state.MembersOf(SecurityGroupId.Parse("sg-web")).SelectMany(m => m.MemberAddresses).Select(a => a.ToString()));
        Assert.Equal("eni-second", instance.InterfaceOf(IpAddress.Parse("203.0.113.7")).NetworkInterfaceId?.Value);
    }

    [Fact]
    public void OldFile_WithoutNetworkInterfaces_KeepsEveryAddressOnTheInstance()
    {
        var state = StateFileReader.Read("{" + Groups + Instance.TrimEnd().TrimEnd(',') + "}");
        var instance = state.FindInstance(InstanceId.Parse("i-one"))!;
        Assert.Empty(instance.SecondaryInterfaces);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], instance.PrivateAddresses.Select(a => a.ToString()));
    }

    [Theory]
    [InlineData("""[{"NetworkInterfaceId": "nic-1", "InstanceId": "i-one"}]""", "$.NetworkInterfaces[0].NetworkInterfaceId", "eni-")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-two"}]""", "$.NetworkInterfaces[0].InstanceId", "not in $.Instances")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "Attachment": {"InstanceId": "i-two"}}]""", "$.NetworkInterfaces[0].Attachment.InstanceId", "not in $.Instances")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "Type": "Tertiary"}]""", "$.NetworkInterfaces[0].Type", "Tertiary")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "VpcId": "vpc-b"}]""", "$.NetworkInterfaces[0].VpcId", "VpcMismatch")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "SecurityGroupIds": {"SecurityGroupId": ["sg-other"]}}]""", "$.NetworkInterfaces[0].SecurityGroupIds.SecurityGroupId[0]", "Mismatch")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "SecurityGroupIds": {"SecurityGroupId": ["sg-nope"]}}]""", "$.NetworkInterfaces[0].SecurityGroupIds.SecurityGroupId[0]", "not in $.SecurityGroups")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "SecurityGroupIds": {"SecurityGroupId": ["sg-adv"]}}]""", "$.NetworkInterfaces[0].SecurityGroupIds", "MultiGroupType")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "PrivateIpAddress": "10.0.0.1"}]""", "$.NetworkInterfaces[0]", "AlreadyExist")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "PrivateIpAddress": "10.0.0.300"}]""", "$.NetworkInterfaces[0].PrivateIpAddress", "not an IP address")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "MacAddress": "zz"}]""", "$.NetworkInterfaces[0].MacAddress", "MAC")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one"}, {"NetworkInterfaceId": "eni-1"}]""", "$.NetworkInterfaces[1].NetworkInterfaceId", "twice")]
    [InlineData("""[{"NetworkInterfaceId": "eni-p", "InstanceId": "i-one", "Type": "Primary", "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]""", "$.NetworkInterfaces[0].SecurityGroupIds", "instance's")]
    [InlineData("""[{"NetworkInterfaceId": "eni-1", "InstanceId": "i-one", "PrivateIpAddress": "10.0.0.5"}, {"NetworkInterfaceId": "eni-2", "InstanceId": "i-one", "PrivateIpSets": [{"PrivateIpAddress": "10.0.0.5"}]}]""", "$.NetworkInterfaces[1]", "eni-1")]
    public void Problems_NameTheirPath(string interfaces, string path, string problemPart)
    {
        var e = Assert.Throws<StateFileException>(() => StateFileReader.Read(File(interfaces)));
        Assert.Equal(path, e.Path);
        Assert.Contains(problemPart, e.Problem);
    }
}
