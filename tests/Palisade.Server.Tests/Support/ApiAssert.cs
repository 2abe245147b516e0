using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Support;

public static class ApiAssert
{
    /// <summary>The call fails with exactly this ECS code and HTTP status, and the body has every ECS error field.</summary>
    public static async Task<EcsApiException> FailsAsync(Func<Task> call, string code, int status)
    {
        var e = await Assert.ThrowsAsync<EcsApiException>(call);
        Assert.True(code == e.Code && status == e.Status, $"expected {code} ({status}), got {e.Code} ({e.Status}): {e.EcsMessage}");
        var body = e.Response.Json;
        foreach (var field in new[] { "RequestId", "HostId", "Code", "Message", "Recommend" })
            Assert.True(body.TryGetProperty(field, out var value) && value.GetString() is { Length: > 0 }, $"error body lacks {field}: {e.Response.Body}");
        return e;
    }
}

/// <summary>Builds the usual furniture of a test: a VPC, a vSwitch, groups, instances.</summary>
public sealed class Scenario(EcsClient api)
{
    public const string Region = "cn-hangzhou";

    public EcsClient Api => api;

    public async Task<string> VpcAsync(string cidr = "192.168.0.0/16") =>
        (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = cidr }, ApiVersions.Vpc)).Str("VpcId");

    public async Task<string> VSwitchAsync(string vpcId, string cidr = "192.168.1.0/24", string zone = "cn-hangzhou-h") =>
        (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpcId, ZoneId = zone, CidrBlock = cidr }, ApiVersions.Vpc)).Str("VSwitchId");

    public async Task<string> GroupAsync(string? vpcId, string name = "web", string? type = null) =>
        (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpcId, SecurityGroupName = name, SecurityGroupType = type })).Str("SecurityGroupId");

    public async Task<List<string>> RunAsync(string groupId, string? vSwitchId, int amount = 1) =>
        [.. (await api.CallAsync("RunInstances", new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", SecurityGroupId = groupId, VSwitchId = vSwitchId, Amount = amount }))
            .Items("InstanceIdSets", "InstanceIdSet").Select(e => e.GetString()!)];

    public Task<JsonElement> AuthorizeAsync(string groupId, object rule, bool egress = false) =>
        api.CallAsync(egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroup",
            EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = groupId }).Concat(EcsClient.Flatten(rule)));

    public async Task<List<JsonElement>> RulesAsync(string groupId, string direction = "all") =>
        [.. (await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = groupId, Direction = direction })).Items("Permissions", "Permission")];

    public async Task<JsonElement> InstanceAsync(string instanceId) =>
        (await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceIds = JsonSerializer.Serialize(new[] { instanceId }) })).Items("Instances", "Instance").Single();
}
