using Palisade.Client;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The filters of the Describe… actions (one <c>Filter&lt;T&gt;</c>): a bad filter is refused with the
/// code and message it always had, and of two bad filters the one the action judges first decides the
/// error; a good one still filters.
/// </summary>
public sealed class DescribeFilterTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    private async Task Refused(string action, object parameters, string code, string message, string? version = null)
    {
        var e = await ApiAssert.FailsAsync(() => _s.Api.CallAsync(action, parameters, version ?? ApiVersions.Ecs), code, 400);
        Assert.Equal(message, e.EcsMessage);
    }

    [Fact]
    public async Task BadFilters_AreRefusedAsBefore_FirstJudgedFirst()
    {
        await Refused("DescribeSecurityGroups", new { RegionId = Region, NetworkType = "lan" },
            "InvalidParameter", "The specified parameter \"NetworkType\" is not valid: 'lan' is not vpc or classic.");
        // The resource group is judged before the network type, the group type before both.
        await Refused("DescribeSecurityGroups", new { RegionId = Region, NetworkType = "lan", ResourceGroupId = "prod" },
            "InvalidParameter", "The specified parameter \"ResourceGroupId\" is not valid: 'prod' is not a resource group ID (rg- and up to 61 letters and digits).");
        await Refused("DescribeSecurityGroups", new { RegionId = Region, NetworkType = "lan", ResourceGroupId = "prod", SecurityGroupType = "huge" },
            "InvalidParameter.SecurityGroupType", "The specified SecurityGroupType 'huge' is not valid.");

        await Refused("DescribeInstances", new { RegionId = Region, Status = "Lost", ResourceGroupId = "prod" },
            "InvalidParameter", "The specified parameter \"Status\" is not valid: 'Lost' is not Pending, Running, Starting, Stopping or Stopped.");
        await Refused("DescribeNetworkInterfaces", new { RegionId = Region, Type = "Tertiary", Status = "Lost" },
            "InvalidParameter", "The specified parameter \"Type\" is not valid: 'Tertiary' is not Primary or Secondary.");
        await Refused("DescribeNetworkInterfaces", new { RegionId = Region, Status = "Lost" },
            "InvalidParameter", "The specified parameter \"Status\" is not valid: 'Lost' is not Available, Attaching, InUse, Detaching, Deleting or CreateFailed.");
        await Refused("DescribeEipAddresses", new { RegionId = Region, Status = "Lost" },
            "InvalidParameter", "The specified parameter \"Status\" is not valid: 'Lost' is not Associating, Unassociating, InUse, Available or Releasing.", ApiVersions.Vpc);
        await Refused("DescribeVpcs", new { RegionId = Region, VpcId = string.Join(",", Enumerable.Range(0, 21).Select(i => $"vpc-{i}")) },
            "InvalidParameter", "The specified parameter \"VpcId\" is not valid: at most 20 IDs.", ApiVersions.Vpc);
    }

    [Fact]
    public async Task GoodFilters_StillFilter()
    {
        var vpc = await _s.VpcAsync();
        var other = await _s.VpcAsync();
        var a = await _s.GroupAsync(vpc, "alpha");
        await _s.GroupAsync(other, "beta");
        var byVpc = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, VpcId = vpc, NetworkType = "vpc" });
        Assert.Equal([a], byVpc.Items("SecurityGroups", "SecurityGroup").Select(g => g.Str("SecurityGroupId")));
        var fuzzy = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupName = "lph", FuzzyQuery = true });
        Assert.Equal([a], fuzzy.Items("SecurityGroups", "SecurityGroup").Select(g => g.Str("SecurityGroupId")));
        var none = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, NetworkType = "classic" });
        Assert.Empty(none.Items("SecurityGroups", "SecurityGroup"));
        var vpcs = await _s.Api.CallAsync("DescribeVpcs", new { RegionId = Region, VpcId = $"{vpc}, {other}" }, ApiVersions.Vpc);
        Assert.Equal(2, vpcs.Items("Vpcs", "Vpc").Count());
    }
}
