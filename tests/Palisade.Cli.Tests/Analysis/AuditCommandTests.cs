using System.Text.Json;
using Palisade.Analysis.Audit;
using Palisade.Analysis.Audit.Checks;
using Palisade.Cli.Analysis;
using Palisade.Cli.Commands;
using Palisade.Domain.Networking;
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
            Assert.Equal(["check", "severity", "securityGroupId", "securityGroupRuleId", "instanceId", "prefixListId", "message", "evidence"], ssh.EnumerateObject().Select(p => p.Name));
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

    /// <summary>
    /// AuditSecurityGroups' evidence is read back into each check's record: numbers, flags, lists of
    /// IDs and a missing network come back as the offline audit holds them. An empty group name used to
    /// come back as null (the string bag could not tell "" from missing); a text field now stays "".
    /// A check this build does not know keeps its evidence as written.
    /// </summary>
    [Fact]
    public void FromEcs_ReadsEachChecksEvidenceBack()
    {
        using var answer = JsonDocument.Parse("""
            {"Findings": {"Finding": [
              {"Check": "undocumented-group", "Severity": "info", "SecurityGroupId": "sg-a", "SecurityGroupRuleId": "", "InstanceId": "", "Message": "m", "Evidence": {"Name": ""}},
              {"Check": "oversized-group", "Severity": "low", "SecurityGroupId": "sg-a", "SecurityGroupRuleId": "", "InstanceId": "", "Message": "m", "Evidence": {"Members": 6, "NetworkInstances": 10, "VpcId": ""}},
              {"Check": "shadowed-rule", "Severity": "low", "SecurityGroupId": "sg-a", "SecurityGroupRuleId": "sgr-a", "InstanceId": "", "Message": "m", "Evidence": {"CoveredBy": {"Item": ["sgr-b", "sgr-c"]}, "VerdictDiffers": true, "CoveredByInnerAccessOf": {"Item": ["sg-m"]}}},
              {"Check": "group-limit-near", "Severity": "info", "SecurityGroupId": "", "SecurityGroupRuleId": "", "InstanceId": "i-a", "Message": "m", "Evidence": {"Groups": 4, "Rules": 950}},
              {"Check": "risky-port-exposed", "Severity": "high", "SecurityGroupId": "sg-a", "SecurityGroupRuleId": "sgr-a", "InstanceId": "i-a", "Message": "m",
               "Evidence": {"Protocol": "UDP", "Port": 11211, "SourceIp": "1.0.0.0", "SourcePort": 33000, "DestinationIp": "2408:4000::10", "NicType": "intranet", "Priority": 1}},
              {"Check": "from-a-newer-server", "Severity": "low", "SecurityGroupId": "", "SecurityGroupRuleId": "", "InstanceId": "", "Message": "m", "Evidence": {"Hint": "kept"}}]}}
            """);
        var findings = AuditCommand.FromEcs(answer.RootElement);
        Assert.Equal(new UndocumentedGroupEvidence(""), findings[0].Evidence);
        Assert.Equal(new OversizedGroupEvidence(6, 10, null), findings[1].Evidence);
        var shadowed = Assert.IsType<ShadowedRuleEvidence>(findings[2].Evidence);
        Assert.Equal(["sgr-b", "sgr-c"], shadowed.CoveredBy.Select(r => r.Value));
        Assert.True(shadowed.VerdictDiffers);
        Assert.Equal(["sg-m"], shadowed.CoveredByInnerAccessOf.Select(g => g.Value));
        Assert.Equal(new NicLimitEvidence(4, 950), findings[3].Evidence);
        var exposure = Assert.IsType<RiskyPortExposure>(findings[4].Evidence);
        Assert.Equal((IpProtocol.Udp, 11211, "2408:4000::10", NicType.Intranet, (int?)1), (exposure.Protocol, exposure.Port, exposure.DestinationIp.ToString(), exposure.NicType, exposure.Priority));
        Assert.Equal([new EvidenceField("Hint", "kept")], findings[5].Evidence.Fields);
        // Written again, each is what the offline audit writes.
        Assert.Contains("\"name\": \"\"", AuditOutput.Json([findings[0]]), StringComparison.Ordinal);
        Assert.Contains("\"vpcId\": null", AuditOutput.Json([findings[1]]), StringComparison.Ordinal);
    }
}
