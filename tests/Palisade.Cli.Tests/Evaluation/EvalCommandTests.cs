using System.Text;
using System.Text.Json;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Evaluation;

/// <summary>
/// <c>palisade eval</c> beyond the worked examples of docs/semantics.md: the exact JSON shape,
/// exit codes, and a clear one-line error (exit 2, no stack trace) for every kind of bad input.
/// </summary>
public sealed class EvalCommandTests
{
    private const string State = """
        {
          "RegionId": "cn-hangzhou",
          "SecurityGroups": [
            {"SecurityGroupId": "sg-cluster", "VpcId": "vpc-prod", "InnerAccessPolicy": "Accept", "Permissions": {"Permission": [
              {"SecurityGroupRuleId": "sgr-drop5432", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceCidrIp": "10.0.0.0/8", "Policy": "Drop", "Priority": "5"},
              {"SecurityGroupRuleId": "sgr-https", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "1"},
              {"SecurityGroupRuleId": "sgr-https2", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "1/1024", "SourceCidrIp": "203.0.113.0/24", "Policy": "Accept", "Priority": "50"}
            ]}}
          ],
          "Instances": [
            {"InstanceId": "i-node1", "VpcAttributes": {"VpcId": "vpc-prod", "PrivateIpAddress": {"IpAddress": ["10.0.3.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-cluster"]}},
            {"InstanceId": "i-node2", "VpcAttributes": {"VpcId": "vpc-prod", "PrivateIpAddress": {"IpAddress": ["10.0.3.12"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-cluster"]}}
          ]
        }
        """;

    [Fact]
    public void Json_InnerAccessDecision_NamesTheGroupWithNullRule()
    {
        var outcome = Eval(State, "--src", "i-node1", "--dst", "i-node2", "--protocol", "tcp", "--port", "5432", "--json");
        Assert.Equal(ExitCodes.Ok, outcome.ExitCode);
        Assert.Equal("", outcome.Error);
        Golden.Assert("eval/inner-access.json", outcome.Output);
    }

    [Fact]
    public void Json_SourceOutsideTheState_HasNullEgressAndListsBeatenRules()
    {
        var outcome = Eval(State, "--src", "203.0.113.9", "--dst", "i-node2", "--protocol", "tcp", "--port", "443", "--json");
        Assert.Equal(ExitCodes.Ok, outcome.ExitCode);
        Golden.Assert("eval/external-source.json", outcome.Output);

        using var doc = JsonDocument.Parse(outcome.Output);
        var root = doc.RootElement;
        Assert.Equal(["allowed", "egress", "ingress"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("egress").ValueKind);
        var ingress = root.GetProperty("ingress");
        Assert.Equal(["verdict", "reason", "decidedBy", "beaten"], ingress.EnumerateObject().Select(p => p.Name));
        Assert.Equal("sgr-https", ingress.GetProperty("decidedBy").GetProperty("securityGroupRuleId").GetString());
        Assert.Equal("sgr-https2", Assert.Single(ingress.GetProperty("beaten").EnumerateArray()).GetProperty("securityGroupRuleId").GetString());
    }

    [Fact]
    public void ExitCode_IsOneWhenDenied()
    {
        var outcome = Eval(State, "--src", "10.9.9.9", "--dst", "i-node2", "--protocol", "tcp", "--port", "5432", "--json");
        Assert.Equal(ExitCodes.Denied, outcome.ExitCode);
        using var doc = JsonDocument.Parse(outcome.Output);
        Assert.False(doc.RootElement.GetProperty("allowed").GetBoolean());
        var ingress = doc.RootElement.GetProperty("ingress");
        Assert.Equal("rule", ingress.GetProperty("reason").GetString());
        Assert.Equal("sgr-drop5432", ingress.GetProperty("decidedBy").GetProperty("securityGroupRuleId").GetString());
    }

    [Fact]
    public void Help_ListsEveryOptionWithExamples()
    {
        var outcome = CliTester.Run("eval", "--help");
        Assert.Equal(ExitCodes.Ok, outcome.ExitCode);
        Golden.Assert("eval/help.txt", outcome.Output);
    }

    public static TheoryData<string, string[]> UsageErrors() => new()
    {
        { "missing-port", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "tcp"] },
        { "port-for-icmp", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "icmp", "--port", "80"] },
        { "src-port-for-gre", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "gre", "--src-port", "80"] },
        { "src-port-negative", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "tcp", "--port", "80", "--src-port", "-5"] },
        { "port-zero", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "tcp", "--port", "0"] },
        { "port-too-big", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "udp", "--port", "65536"] },
        { "port-not-a-number", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "udp", "--port", "http"] },
        { "unknown-protocol", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "sctp"] },
        { "unknown-nic", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "gre", "--nic", "wan"] },
        { "unknown-instance", ["--src", "i-nowhere", "--dst", "i-node2", "--protocol", "gre"] },
        { "bad-instance-id", ["--src", "i-no/where", "--dst", "i-node2", "--protocol", "gre"] },
        { "bad-address", ["--src", "10.0.0.256", "--dst", "i-node2", "--protocol", "gre"] },
        { "mapped-v6-address", ["--src", "::ffff:10.0.0.1", "--dst", "i-node2", "--protocol", "gre"] },
        { "families-differ", ["--src", "2001:db8::1", "--dst", "10.0.3.12", "--protocol", "gre"] },
        { "no-v6-on-instance", ["--src", "2001:db8::1", "--dst", "i-node2", "--protocol", "gre"] },
        { "no-instance-at-all", ["--src", "10.1.1.1", "--dst", "10.2.2.2", "--protocol", "gre"] },
        { "missing-dst", ["--src", "i-node1", "--protocol", "gre"] },
        { "unknown-option", ["--src", "i-node1", "--dst", "i-node2", "--protocol", "gre", "--verbose"] },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void BadCommandLine_OneClearErrorAndExitTwo(string name, string[] args)
    {
        var outcome = Eval(State, args);
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        Assert.Equal("", outcome.Output);
        AssertNoStackTrace(outcome.Error);
        Golden.Assert($"eval/usage/{name}.txt", outcome.Error);
    }

    /// <summary>Each malformed file and the message palisade gives, which must name the field by its JSON path.</summary>
    public static TheoryData<string, string> MalformedStates() => new()
    {
        { "not-json", """{"SecurityGroups": [ """ },
        { "not-an-object", "[]" },
        { "no-security-groups", """{"RegionId": "cn-hangzhou"}""" },
        { "groups-not-a-list", """{"SecurityGroups": {"SecurityGroupId": "sg-a"}}""" },
        { "group-id-missing", """{"SecurityGroups": [{"VpcId": "vpc-a"}]}""" },
        { "group-id-wrong-prefix", """{"SecurityGroups": [{"SecurityGroupId": "g-a"}]}""" },
        { "group-twice", """{"SecurityGroups": [{"SecurityGroupId": "sg-a"}, {"SecurityGroupId": "sg-a"}]}""" },
        { "group-type-unknown", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "SecurityGroupType": "premium"}]}""" },
        { "port-range-reversed", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "200/1", "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "1"}]}}]}""" },
        { "port-range-for-icmp", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "ICMP", "PortRange": "1/1", "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "1"}]}}]}""" },
        { "priority-101", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "egress", "IpProtocol": "UDP", "PortRange": "53/53", "DestCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "101"}]}}]}""" },
        { "bad-cidr", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/33", "Policy": "Accept", "Priority": "1"}]}}]}""" },
        { "direction-unknown", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "inbound", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0"}]}}]}""" },
        { "no-peer", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "Policy": "Accept", "Priority": "1"}]}}]}""" },
        { "unknown-prefix-list", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "VpcId": "vpc-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourcePrefixListId": "pl-missing", "Policy": "Accept", "Priority": "1"}]}}]}""" },
        { "instance-unknown-group", """{"SecurityGroups": [], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-zz"]}}]}""" },
        { "instance-bad-address", """{"SecurityGroups": [], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.300"]}}}]}""" },
        { "instance-vpc-mismatch", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "VpcId": "vpc-a"}], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-b", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-a"]}}]}""" },
        { "instance-mixed-group-types", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "VpcId": "vpc-a"}, {"SecurityGroupId": "sg-b", "VpcId": "vpc-a", "SecurityGroupType": "enterprise"}], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-a", "sg-b"]}}]}""" },
        { "instance-twice", """{"SecurityGroups": [], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a"}}, {"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a"}}]}""" },
        { "address-is-a-number", """{"SecurityGroups": [], "Instances": [{"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": [10]}}}]}""" },
        { "bad-time", """{"SecurityGroups": [{"SecurityGroupId": "sg-a", "Permissions": {"Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "1", "CreateTime": "yesterday"}]}}]}""" },
    };

    [Theory]
    [MemberData(nameof(MalformedStates))]
    public void MalformedStateFile_NamesTheFieldAndItsPath_ExitTwo(string name, string json)
    {
        var outcome = Eval(json, "--src", "10.0.0.1", "--dst", "10.0.0.2", "--protocol", "gre");
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        Assert.Equal("", outcome.Output);
        AssertNoStackTrace(outcome.Error);
        Assert.StartsWith("error: state file '<state>' is malformed at $", outcome.Error);
        Golden.Assert($"eval/malformed/{name}.txt", outcome.Error);
    }

    [Fact]
    public void MissingStateFile_IsAClearError()
    {
        var outcome = CliTester.Run("eval", "--state", "/nonexistent/palisade/state.json", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--protocol", "gre");
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        AssertNoStackTrace(outcome.Error);
        Assert.StartsWith("error: cannot read state file '/nonexistent/palisade/state.json'", outcome.Error);
    }

    private static void AssertNoStackTrace(string text)
    {
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Exception", text);
        Assert.Single(text.TrimEnd('\n').Split('\n'), line => line.StartsWith("error: ", StringComparison.Ordinal));
    }

    /// <summary>Runs <c>palisade eval --state FILE …</c> and prints the temporary path as <c>&lt;state&gt;</c>.</summary>
    private static CliTester.Outcome Eval(string stateJson, params string[] args)
    {
        var path = CliTester.StateFile(stateJson);
        try
        {
            var outcome = CliTester.Run(["eval", "--state", path, .. args]);
            return outcome with { Output = outcome.Output.Replace(path, "<state>"), Error = outcome.Error.Replace(path, "<state>") };
        }
        finally
        {
            File.Delete(path);
        }
    }
}
