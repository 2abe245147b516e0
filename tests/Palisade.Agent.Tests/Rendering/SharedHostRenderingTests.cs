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

    /// <summary>Issue 18 item 2: the agent re-checks the server's bindings against the host's own declaration.</summary>
    [Fact]
    public void ABindingOutsideTheHostsDeclaration_IsLeftClosed_AndSaid()
    {
        var declaration = Domain.Hosts.HostDeclaration.Parse("vnet*", "192.168.0.0/24");
        HostPart Part(string vpc, string instance, string interfaceName) => new(Tenant(vpc, instance), [new(InstanceId.Parse(instance), interfaceName)]);
        var ruleset = PolicyRenderer.Render([Part("vpc-one", "i-one", "vnet1"), Part("vpc-two", "i-two", "eth0")], 7, declaration);
        Assert.Equal("i-one", Assert.Single(ruleset.Nics).InstanceId.Value);
        Assert.Contains(ruleset.Problems, p => p.StartsWith("i-two on eth0: interface 'eth0' matches none of the host's interface patterns (vnet*)", StringComparison.Ordinal));
        Assert.DoesNotContain("\"eth0\"", NftText.FullApply(ruleset), StringComparison.Ordinal);

        var elsewhere = PolicyRenderer.Render([Part("vpc-one", "i-one", "vnet1")], 7, Domain.Hosts.HostDeclaration.Parse("vnet*", "10.0.0.0/8"));
        Assert.Empty(elsewhere.Nics);
        Assert.Contains(elsewhere.Problems, p => p.Contains("address 192.168.0.5 is outside the host's address space (10.0.0.0/8)", StringComparison.Ordinal));
        // Without a declaration the server's bindings are taken as sent.
        Assert.Equal(2, PolicyRenderer.Render([Part("vpc-one", "i-one", "vnet1"), Part("vpc-two", "i-two", "eth0")], 7).Nics.Length);
    }

    [Theory]
    [InlineData("vnet*", "vnet0", true)]
    [InlineData("vnet*", "vnet", true)]
    [InlineData("vnet*", "xvnet0", false)]
    [InlineData("tap-*-0", "tap-ab-0", true)]
    [InlineData("tap-*-0", "tap-ab-1", false)]
    [InlineData("*", "anything", true)]
    [InlineData("eth0", "eth0", true)]
    [InlineData("eth0", "eth01", false)]
    [InlineData("*a*b", "xaxxb", true)]
    public void InterfacePatterns_MatchWholeNames(string pattern, string name, bool admitted) =>
        Assert.Equal(admitted, Domain.Hosts.HostDeclaration.Parse(pattern, "10.0.0.0/8").Admits(name));
}
