using System.Text.Json;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Analysis;

public sealed class AuditCommandTests
{
    private const string State = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "SecurityGroupName": "web", "Description": "front end", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "5"},
             {"SecurityGroupRuleId": "sgr-redis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6379", "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "5"},
             {"SecurityGroupRuleId": "sgr-lan", "Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1", "SourceCidrIp": "10.0.0.0/8", "Policy": "Accept", "Priority": "10"}]}},
           {"SecurityGroupId": "sg-guard", "SecurityGroupName": "guard", "Description": "no redis from outside", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-noredis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6379", "SourceCidrIp": "0.0.0.0/0", "Policy": "Drop", "Priority": "1"}]}},
           {"SecurityGroupId": "sg-old", "VpcId": "vpc-a"}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "EipAddress": {"IpAddress": "47.1.1.1"},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-web", "sg-guard"]}}]}
        """;

    private static CliTester.Outcome Audit(string json, params string[] args)
    {
        var path = CliTester.StateFile(json);
        try
        {
            var outcome = CliTester.Run(["audit", "--state", path, .. args]);
            return outcome with { Error = outcome.Error.Replace(path, "<state>") };
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Text_Json_AndSarif_AreGolden()
    {
        var text = Audit(State);
        Assert.Equal(ExitCodes.Findings, text.ExitCode);
        Golden.Assert("audit/findings.txt", text.Output);

        var sarifPath = Path.Combine(Path.GetTempPath(), $"palisade-{Guid.NewGuid():N}.sarif");
        try
        {
            var json = Audit(State, "--json", "--sarif", sarifPath);
            Golden.Assert("audit/findings.json", json.Output);
            Golden.Assert("audit/findings.sarif", File.ReadAllText(sarifPath));

            using var doc = JsonDocument.Parse(json.Output);
            var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
            var ssh = Assert.Single(findings, f => f.GetProperty("check").GetString() == "risky-port-exposed");
            Assert.Equal(["check", "severity", "securityGroupId", "securityGroupRuleId", "instanceId", "message", "evidence"], ssh.EnumerateObject().Select(p => p.Name));
            Assert.Equal(("TCP", 22), (ssh.GetProperty("evidence").GetProperty("protocol").GetString(), ssh.GetProperty("evidence").GetProperty("port").GetInt32()));
            Assert.True(ssh.GetProperty("evidence").TryGetProperty("sourceIp", out _));
            // Redis is opened by sg-web but closed by sg-guard on the same NIC: not exposed.
            Assert.DoesNotContain(findings, f => f.GetProperty("message").GetString()!.Contains("6379", StringComparison.Ordinal) && f.GetProperty("check").GetString() == "risky-port-exposed");
        }
        finally
        {
            File.Delete(sarifPath);
        }
    }

    [Fact]
    public void CleanState_ExitsZero_BadState_ExitsTwo()
    {
        var clean = Audit("""{"SecurityGroups": [{"SecurityGroupId": "sg-web", "SecurityGroupName": "web", "VpcId": "vpc-a"}], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}}]}""");
        Assert.Equal((ExitCodes.Ok, "no findings\n"), (clean.ExitCode, clean.Output));
        var bad = Audit("""{"SecurityGroups": 5}""");
        Assert.Equal((ExitCodes.BadInput, "error: state file '<state>' is malformed at $.SecurityGroups: expected an array, found the number 5\n"), (bad.ExitCode, bad.Error));
    }
}
