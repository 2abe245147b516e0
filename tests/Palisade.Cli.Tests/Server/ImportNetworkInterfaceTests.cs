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
}
