using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The name and description rules of the create and modify actions, which read their text fields
/// through one <c>ParameterReader.Text</c> with a rule of <c>Texts</c>: each action keeps its own
/// rule and its own error code, and a text at the rule's limit is taken unchanged.
/// </summary>
public sealed class TextFieldTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    /// <summary>The parameters each action judges before its text fields (IDs are only parsed there, not looked up).</summary>
    private static readonly Dictionary<string, (object Base, string Version)> Actions = new()
    {
        ["CreateVpc"] = (new { RegionId = Region }, ApiVersions.Vpc),
        ["CreateVSwitch"] = (new { RegionId = Region, VpcId = "vpc-bp1aaaaaaaaaaaaaaaaaa", ZoneId = "cn-hangzhou-h", CidrBlock = "192.168.1.0/24" }, ApiVersions.Vpc),
        ["AllocateEipAddress"] = (new { RegionId = Region }, ApiVersions.Vpc),
        ["RunInstances"] = (new { RegionId = Region, ImageId = "img", InstanceType = "ecs.t1", SecurityGroupId = "sg-bp1aaaaaaaaaaaaaaaaaa" }, ApiVersions.Ecs),
        ["ModifyInstanceAttribute"] = (new { RegionId = Region, InstanceId = "i-bp1aaaaaaaaaaaaaaaaaa" }, ApiVersions.Ecs),
        ["CreateSecurityGroup"] = (new { RegionId = Region }, ApiVersions.Ecs),
        ["ModifySecurityGroupAttribute"] = (new { RegionId = Region, SecurityGroupId = "sg-bp1aaaaaaaaaaaaaaaaaa" }, ApiVersions.Ecs),
        ["CreateNetworkInterface"] = (new { RegionId = Region, VSwitchId = "vsw-bp1aaaaaaaaaaaaaaaaaa", SecurityGroupId = "sg-bp1aaaaaaaaaaaaaaaaaa" }, ApiVersions.Ecs),
        ["ModifyNetworkInterfaceAttribute"] = (new { RegionId = Region, NetworkInterfaceId = "eni-bp1aaaaaaaaaaaaaaaaaa" }, ApiVersions.Ecs),
    };

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        // The VPC API's names: at most 128 characters, no control character, no URL first.
        { "CreateVpc", "VpcName", "http://vpc", "InvalidVpcName.Malformed" },
        { "CreateVpc", "VpcName", new string('v', 129), "InvalidVpcName.Malformed" },
        { "CreateVpc", "VpcName", "a\u0001b", "InvalidVpcName.Malformed" },
        { "CreateVpc", "Description", "https://d", "InvalidDescription.Malformed" },
        { "CreateVpc", "Description", new string('d', 257), "InvalidDescription.Malformed" },
        { "CreateVpc", "Description", "a\u0007b", "InvalidDescription.Malformed" },
        { "CreateVSwitch", "VSwitchName", "https://vsw", "InvalidVSwitchName.Malformed" },
        { "CreateVSwitch", "Description", "http://d", "InvalidDescription.Malformed" },
        // An EIP's name also starts with a letter.
        { "AllocateEipAddress", "Name", "1eip", "InvalidName.Malformed" },
        { "AllocateEipAddress", "Name", "e\u0001", "InvalidName.Malformed" },
        { "AllocateEipAddress", "Description", "http://d", "InvalidDescription.Malformed" },
        // An instance's name is the VPC API's kind; its description is at most 256 characters, no URL first.
        { "RunInstances", "InstanceName", "http://i", "InvalidInstanceName.Malformed" },
        { "RunInstances", "Description", new string('d', 257), "InvalidDescription.Malformed" },
        { "ModifyInstanceAttribute", "InstanceName", new string('i', 129), "InvalidInstanceName.Malformed" },
        { "ModifyInstanceAttribute", "Description", "https://d", "InvalidDescription.Malformed" },
        // ECS names: 2 to 128 characters (and ECS spells the group description's code "Discription"), a letter first, then letters, digits, ':', '_', '.', '-'.
        { "CreateSecurityGroup", "SecurityGroupName", "1web", "InvalidSecurityGroupName.Malformed" },
        { "CreateSecurityGroup", "SecurityGroupName", "w", "InvalidSecurityGroupName.Malformed" },
        { "CreateSecurityGroup", "Description", "d", "InvalidSecurityGroupDiscription.Malformed" },
        { "ModifySecurityGroupAttribute", "SecurityGroupName", "web app", "InvalidSecurityGroupName.Malformed" },
        { "ModifySecurityGroupAttribute", "Description", "http://d", "InvalidSecurityGroupDiscription.Malformed" },
        { "CreateNetworkInterface", "NetworkInterfaceName", "1eni", "InvalidNetworkInterfaceName.Malformed" },
        { "CreateNetworkInterface", "Description", "d", "InvalidDescription.Malformed" },
        { "ModifyNetworkInterfaceAttribute", "NetworkInterfaceName", "e/ni", "InvalidNetworkInterfaceName.Malformed" },
        { "ModifyNetworkInterfaceAttribute", "Description", "https://d", "InvalidDescription.Malformed" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_bad_text_is_refused_with_the_actions_own_code(string action, string field, string value, string code)
    {
        var (parameters, version) = Actions[action];
        var call = EcsClient.Flatten(parameters).Append(new(field, value));
        var e = await ApiAssert.FailsAsync(() => _s.Api.CallAsync(action, call, version), code, 400);
        Assert.Contains(value.Length > 40 ? value[..20] : value, e.EcsMessage);
    }

    [Fact]
    public async Task A_text_at_the_rules_limit_is_kept_as_given()
    {
        var vpcName = new string('v', 128);
        var vpcDescription = "a\nmultiline\tdescription";
        var vpc = (await _s.Api.CallAsync("CreateVpc", new { RegionId = Region, VpcName = vpcName, Description = vpcDescription }, ApiVersions.Vpc)).Str("VpcId");
        var described = (await _s.Api.CallAsync("DescribeVpcs", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc)).Items("Vpcs", "Vpc").Single();
        Assert.Equal((vpcName, vpcDescription), (described.Str("VpcName"), described.Str("Description")));

        var group = (await _s.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "w:_.-9", Description = "de" })).Str("SecurityGroupId");
        await _s.Api.CallAsync("ModifySecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = group, Description = new string('d', 256) });
        var attribute = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = group });
        Assert.Equal(("w:_.-9", new string('d', 256)), (attribute.Str("SecurityGroupName"), attribute.Str("Description")));

        var eip = (await _s.Api.CallAsync("AllocateEipAddress", new { RegionId = Region, Name = "e" }, ApiVersions.Vpc)).Str("AllocationId");
        var eips = (await _s.Api.CallAsync("DescribeEipAddresses", new { RegionId = Region, AllocationId = eip }, ApiVersions.Vpc)).Items("EipAddresses", "EipAddress").Single();
        Assert.Equal(("e", ""), (eips.Str("Name"), eips.Str("Descritpion")));
    }
}
