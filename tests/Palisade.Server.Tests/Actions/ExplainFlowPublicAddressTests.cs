using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>ExplainFlow to a classic instance's public address: its internet NIC, without NicType.</summary>
public sealed class ExplainFlowPublicAddressTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Scenario _s = null!;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _s = new Scenario(_plane.Client(_plane.NewAccount()));
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    [Fact]
    public async Task AClassicInstancesPublicAddress_IsItsInternetNic()
    {
        var sg = await _s.GroupAsync(null, "classic");
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", NicType = "internet" });
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0", NicType = "intranet" });
        var instance = (await _s.RunAsync(sg, null)).Single();
        var published = (await _s.InstanceAsync(instance)).GetProperty("PublicIpAddress").GetProperty("IpAddress")[0].GetString()!;

        var web = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = "198.51.100.7", Destination = published, IpProtocol = "TCP", DestinationPort = 80 });
        Assert.True(web.GetProperty("Allowed").GetBoolean());
        Assert.Equal(("internet", instance, published), (web.Str("NicType"), web.GetProperty("Ingress").Str("InstanceId"), web.Str("DestinationAddress")));
        var ssh = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = "198.51.100.7", Destination = published, IpProtocol = "TCP", DestinationPort = 22 });
        Assert.False(ssh.GetProperty("Allowed").GetBoolean());

        // NicType given is obeyed: the public address is on no intranet NIC.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = "198.51.100.7", Destination = published, IpProtocol = "TCP", DestinationPort = 80, NicType = "intranet" }), "InvalidParameter", 400);
    }
}
