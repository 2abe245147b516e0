using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>Several accounts' NICs on one host (issue 18): told apart by port and MAC, never by address.</summary>
public sealed class SharedHostRenderingTests
{
    private static NetworkState Tenant(string vpc, string instance) => StateFileReader.Read(
        "{\"SecurityGroups\": [{\"SecurityGroupId\": \"sg-" + instance[2..] + "\", \"VpcId\": \"" + vpc + "\"}], \"Instances\": [{\"InstanceId\": \"" + instance
        + "\", \"VpcAttributes\": {\"VpcId\": \"" + vpc + "\", \"PrivateIpAddress\": {\"IpAddress\": [\"192.168.0.5\"]}}, \"SecurityGroupIds\": {\"SecurityGroupId\": [\"sg-" + instance[2..] + "\"]}}]}");

    [Fact]
    public void TheSameAddressInTwoVpcs_IsTwoNics_OnTheirOwnPorts_MacsAndZones()
    {
        var ruleset = PolicyRenderer.Render(
            [new HostPart(Tenant("vpc-one", "i-one"), [new(InstanceId.Parse("i-one"), "vnet1")]), new HostPart(Tenant("vpc-two", "i-two"), [new(InstanceId.Parse("i-two"), "vnet2")])], 7);
        Assert.Empty(ruleset.Problems);
        Assert.Equal(2, ruleset.Nics.Length);
        Assert.All(ruleset.Nics, n => Assert.Equal(IpAddress.Parse("192.168.0.5"), Assert.Single(n.Addresses)));
        Assert.NotEqual(ruleset.Nics[0].Zone, ruleset.Nics[1].Zone);
        Assert.NotEqual(ruleset.Nics[0].Mac, ruleset.Nics[1].Mac);
        var text = NftText.FullApply(ruleset);
        Assert.Contains($"{MacAddress.ForInstance(InstanceId.Parse("i-one"))} : jump in_i-one", text, StringComparison.Ordinal);
        Assert.Contains("\"vnet2\" : jump from_i-two", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ip daddr vmap", text, StringComparison.Ordinal);
    }

    [Fact]
    public void OneInterfaceClaimedTwice_LeavesBothClosed_AndSaysSo()
    {
        var ruleset = PolicyRenderer.Render(
            [new HostPart(Tenant("vpc-one", "i-one"), [new(InstanceId.Parse("i-one"), "vnet1")]), new HostPart(Tenant("vpc-two", "i-two"), [new(InstanceId.Parse("i-two"), "vnet1")])], 7);
        Assert.Empty(ruleset.Nics);
        Assert.Contains(ruleset.Problems, p => p.StartsWith("interface vnet1 is bound to i-one and i-two", StringComparison.Ordinal));
    }
}
