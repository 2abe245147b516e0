using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Tests.Networking;

public sealed class MacAddressTests
{
    [Fact]
    public void ForInstance_IsStable_LocallyAdministeredUnicast_AndDiffersBetweenInstances()
    {
        var a = MacAddress.ForInstance(InstanceId.Parse("i-bp1abc"));
        Assert.Equal(a, MacAddress.ForInstance(InstanceId.Parse("i-bp1abc")));
        Assert.NotEqual(a, MacAddress.ForInstance(InstanceId.Parse("i-bp1abd")));
        Assert.StartsWith("02:", a.ToString(), StringComparison.Ordinal); // locally administered (bit 1), unicast (bit 0 clear)
        Assert.Equal(a.ToString(), a.ToString().ToLowerInvariant());
    }

    [Fact]
    public void ParsesAndPrintsTheColonForm()
    {
        Assert.True(MacAddress.TryParse("02:C4:3b:26:c3:37", out var mac));
        Assert.Equal("02:c4:3b:26:c3:37", mac.ToString());
        Assert.False(MacAddress.TryParse("02:c4:3b:26:c3", out _));
        Assert.False(MacAddress.TryParse("02:c4:3b:26:c3:zz", out _));
        Assert.False(MacAddress.TryParse(null, out _));
    }

    [Theory]
    [InlineData("02:c4:3b:26:c3:37", "fe80::c4:3bff:fe26:c337")]
    [InlineData("52:54:00:12:34:56", "fe80::5054:ff:fe12:3456")]
    public void LinkLocal_IsTheModifiedEui64OneLinuxTakes(string mac, string linkLocal)
    {
        Assert.True(MacAddress.TryParse(mac, out var parsed));
        Assert.Equal(IpAddress.Parse(linkLocal), parsed.LinkLocal);
    }
}
