using System.Text.Json;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// Issue 16 item 5: `import` keeps a state file's secondary ENIs — their own address, groups and
/// internet exposure — and `export` writes them back as `NetworkInterfaces`, so the server's audit
/// and a round trip through a state file see what the original file says.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ImportNetworkInterfaceTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // The instance's own group opens nothing; its secondary ENI's group opens MySQL to the internet, through the ENI's EIP.
    private const string State = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-app", "SecurityGroupName": "app", "VpcId": "vpc-a"},
           {"SecurityGroupId": "sg-db", "SecurityGroupName": "db", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-mysql", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "3306/3306", "SourceCidrIp": "0.0.0.0/0"}]}}],
         "Instances": [
           {"InstanceId": "i-app1", "InstanceName": "app-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}}],
         "NetworkInterfaces": [
           {"NetworkInterfaceId": "eni-data", "InstanceId": "i-app1", "Type": "Secondary", "VpcId": "vpc-a", "VSwitchId": "vsw-a",
            "PrivateIpAddress": "10.0.1.20", "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]},
            "AssociatedPublicIp": {"PublicIpAddress": "47.96.1.3", "AllocationId": "eip-old"}}]}
        """;

    [Fact]
    public void ASecondaryEni_IsImported_WithItsGroupsAndExposure_AndExportedBack()
    {
        var file = Path.Combine(_server.Data, "state.json");
        File.WriteAllText(file, State);
        var offline = CliTester.Run("audit", "--state", file);
        Assert.Contains("on i-app1 (eni-data)", offline.Output, StringComparison.Ordinal);

        var imported = _server.Run("import", "--state", file, "--output", "json");
        Assert.True(imported.ExitCode == 0, imported.Error);
        using var answer = JsonDocument.Parse(imported.Output);
        var ids = answer.RootElement.GetProperty("Ids").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.StartsWith("eni-", ids["eni-data"], StringComparison.Ordinal);
        Assert.Contains(answer.RootElement.GetProperty("Warnings").EnumerateArray(), w => w.GetString()!.Contains("47.96.1.3", StringComparison.Ordinal));

        var online = _server.RunUnrecorded("audit", "--json");
        Assert.Contains($"on {ids["i-app1"]} ({ids["eni-data"]}) is reachable from the internet", online.Output, StringComparison.Ordinal);

        // Exported, the ENI comes back with its address and group, and judges its address alone.
        var exported = Path.Combine(_server.Data, "exported.json");
        var export = _server.RunUnrecorded("export", "--out", exported);
        Assert.True(export.ExitCode == 0, export.Error);
        var eval = CliTester.Run("eval", "--state", exported, "--src", "198.51.100.7", "--dst", "10.0.1.20", "--protocol", "tcp", "--port", "3306");
        Assert.Contains($"ingress at {ids["i-app1"]} ({ids["eni-data"]}): accept by rule", eval.Output, StringComparison.Ordinal);
        var primary = CliTester.Run("eval", "--state", exported, "--src", "198.51.100.7", "--dst", "10.0.1.10", "--protocol", "tcp", "--port", "3306");
        Assert.Contains("denied", primary.Output, StringComparison.Ordinal);
    }

    // Issue 16: every private IPv4 address of an ENI is carried — the primary ENI's secondary
    // addresses and a secondary ENI's several, each judged by the groups of the ENI holding it.
    private const string MultiAddressState = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-app", "SecurityGroupName": "app", "VpcId": "vpc-a"},
           {"SecurityGroupId": "sg-db", "SecurityGroupName": "db", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-mysql", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "3306/3306", "SourceCidrIp": "10.0.0.0/8"}]}}],
         "Instances": [
           {"InstanceId": "i-app1", "InstanceName": "app-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}}],
         "NetworkInterfaces": [
           {"NetworkInterfaceId": "eni-main", "InstanceId": "i-app1", "Type": "Primary", "VpcId": "vpc-a", "VSwitchId": "vsw-a",
            "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.1.10", "Primary": true}, {"PrivateIpAddress": "10.0.1.11", "Primary": false}]},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}},
           {"NetworkInterfaceId": "eni-data", "InstanceId": "i-app1", "Type": "Secondary", "VpcId": "vpc-a", "VSwitchId": "vsw-a",
            "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.1.20", "Primary": true}, {"PrivateIpAddress": "10.0.1.21", "Primary": false}, {"PrivateIpAddress": "10.0.1.22", "Primary": false}]},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
        """;

    /// <summary>An ENI item as a comparable line: its IDs through <paramref name="map"/>, its type, its addresses (primary marked) and its groups.</summary>
    private static string Eni(JsonElement eni, Func<string, string> map) =>
        $"{map(eni.GetProperty("NetworkInterfaceId").GetString()!)} of {map(eni.GetProperty("InstanceId").GetString()!)} {eni.GetProperty("Type").GetString()} " +
        $"in {map(eni.GetProperty("VpcId").GetString()!)}/{map(eni.GetProperty("VSwitchId").GetString()!)}: " +
        string.Join(" ", eni.GetProperty("PrivateIpSets").GetProperty("PrivateIpSet").EnumerateArray()
            .Select(a => a.GetProperty("PrivateIpAddress").GetString() + (a.GetProperty("Primary").GetBoolean() ? "*" : ""))) +
        " groups " + string.Join(",", eni.GetProperty("SecurityGroupIds").GetProperty("SecurityGroupId").EnumerateArray().Select(g => map(g.GetString()!)));

    [Fact]
    public void EveryPrivateAddressOfEachEni_IsImported_AndExportedBackAsTheInputSaysIt()
    {
        var file = Path.Combine(_server.Data, "multi.json");
        File.WriteAllText(file, MultiAddressState);
        var imported = _server.Run("import", "--state", file, "--output", "json");
        Assert.True(imported.ExitCode == 0, imported.Error);
        using var answer = JsonDocument.Parse(imported.Output);
        var ids = answer.RootElement.GetProperty("Ids").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        // Nothing was left behind: no warning says an address was dropped.
        Assert.Empty(answer.RootElement.GetProperty("Warnings").EnumerateArray());

        var exported = Path.Combine(_server.Data, "multi-exported.json");
        var export = _server.RunUnrecorded("export", "--out", exported);
        Assert.True(export.ExitCode == 0, export.Error);
        using var input = JsonDocument.Parse(MultiAddressState);
        using var output = JsonDocument.Parse(File.ReadAllText(exported));
        var expected = input.RootElement.GetProperty("NetworkInterfaces").EnumerateArray().Select(e => Eni(e, old => ids[old])).Order(StringComparer.Ordinal).ToList();
        var actual = output.RootElement.GetProperty("NetworkInterfaces").EnumerateArray().Select(e => Eni(e, id => id)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);

        // Each address answers by its own ENI's groups: a secondary address of the data ENI admits MySQL, the primary ENI's does not.
        var toData = CliTester.Run("eval", "--state", exported, "--src", "10.0.9.9", "--dst", "10.0.1.22", "--protocol", "tcp", "--port", "3306");
        Assert.Contains($"ingress at {ids["i-app1"]} ({ids["eni-data"]}): accept by rule", toData.Output, StringComparison.Ordinal);
        var toPrimary = CliTester.Run("eval", "--state", exported, "--src", "10.0.9.9", "--dst", "10.0.1.11", "--protocol", "tcp", "--port", "3306");
        Assert.Contains($"ingress at {ids["i-app1"]}: drop by default", toPrimary.Output, StringComparison.Ordinal);
    }
}
