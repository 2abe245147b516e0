using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>The audit on the live control plane: the checks of the offline audit, on the caller's account only.</summary>
public sealed class AuditActionTests : IAsyncLifetime
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
    public async Task TheAuditAction_FindsWhatTheStateHolds()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        await _s.GroupAsync(vpc, "leftover");
        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "1/65535", SourceCidrIp = "10.0.0.0/8" });
        await _s.RunAsync(web, vsw);

        var audit = await _s.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region });
        var checks = audit.Items("Findings", "Finding").Select(f => f.Str("Check")).ToList();
        Assert.Contains("internal-all-ports", checks);
        Assert.Contains("internal-wide-cidr", checks);
        Assert.Contains("unused-group", checks);
        Assert.Equal(checks.Count, audit.GetProperty("TotalCount").GetInt32());
        var allPorts = audit.Items("Findings", "Finding").First(f => f.Str("Check") == "internal-all-ports");
        Assert.Equal(("medium", web), (allPorts.Str("Severity"), allPorts.Str("SecurityGroupId")));
        Assert.Equal("10.0.0.0/8", allPorts.GetProperty("Evidence").Str("Peer"));

        var other = new Scenario(_plane.Client(_plane.NewAccount()));
        Assert.Empty((await other.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding"));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("AuditSecurityGroups", new { }), "MissingParameter.RegionId", 400);
    }
}
