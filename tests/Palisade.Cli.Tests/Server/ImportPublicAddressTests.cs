using System.Text.Json;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// Issue 16: `import` dropped public addresses, so a state file's internet exposure vanished on the
/// server (its audit found nothing). Now the exposure is carried: the instance gets an address of
/// the server's pool, and the server's audit says what the state file's says.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ImportPublicAddressTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string State = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-db", "SecurityGroupName": "db", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-mysql", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "3306/3306", "SourceCidrIp": "0.0.0.0/0"}]}}],
         "Instances": [
           {"InstanceId": "i-db1", "InstanceName": "db-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}},
            "EipAddress": {"IpAddress": "47.96.1.2", "AllocationId": "eip-old"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}},
           {"InstanceId": "i-db2", "InstanceName": "db-2", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.11"]}},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
        """;

    [Fact]
    public void AnImportedInstancesInternetExposure_IsTheServersToo()
    {
        var file = Path.Combine(_server.Data, "state.json");
        File.WriteAllText(file, State);
        var offline = CliTester.Run("audit", "--state", file);
        Assert.Contains("risky-port-exposed", offline.Output, StringComparison.Ordinal);

        var imported = _server.Run("import", "--state", file, "--output", "json");
        Assert.True(imported.ExitCode == 0, imported.Error);
        using var answer = JsonDocument.Parse(imported.Output);
        var ids = answer.RootElement.GetProperty("Ids").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Contains(answer.RootElement.GetProperty("Warnings").EnumerateArray(), w => w.GetString()!.Contains("47.96.1.2", StringComparison.Ordinal));

        var online = _server.RunUnrecorded("audit");
        var exposed = online.Output.Split('\n').Where(l => l.Contains("risky-port-exposed", StringComparison.Ordinal)).ToList();
        Assert.Contains(exposed, l => l.Contains(ids["i-db1"], StringComparison.Ordinal));
        // The instance without a public address in the file has none on the server either.
        Assert.DoesNotContain(exposed, l => l.Contains(ids["i-db2"], StringComparison.Ordinal));
        var shown = JsonDocument.Parse(_server.RunUnrecorded("instance", "show", ids["i-db1"], "--output", "json").Output).RootElement;
        Assert.Single(shown.GetProperty("PublicIpAddress").GetProperty("IpAddress").EnumerateArray());
    }
}
