using Palisade.TestKit;

namespace Palisade.Cli.Tests.Analysis;

public sealed class WhatIfCommandTests
{
    private const string State = """
        {"SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0"}]}},
           {"SecurityGroupId": "sg-ops", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "203.0.113.0/24"}]}},
           {"SecurityGroupId": "sg-redis", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-redis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6379", "SourceGroupId": "sg-web"}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "EipAddress": {"IpAddress": "47.1.1.1"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web", "sg-ops"]}},
           {"InstanceId": "i-redis1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.20"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}}]}
        """;

    private static CliTester.Outcome WhatIf(params string[] args)
    {
        var path = CliTester.StateFile(State);
        try
        {
            var outcome = CliTester.Run(["whatif", args[0], "--state", path, .. args[1..]]);
            return outcome with { Error = outcome.Error.Replace(path, "<state>") };
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EachChange_IsGolden()
    {
        var leave = WhatIf("leave", "--instance", "i-web1", "--group", "sg-web");
        Assert.Equal(ExitCodes.Ok, leave.ExitCode);
        Golden.Assert("whatif/leave.txt", leave.Output);
        Golden.Assert("whatif/revoke.json", WhatIf("revoke", "--rule", "sgr-redis", "--json").Output);
        Golden.Assert("whatif/authorize.txt", WhatIf("authorize", "--group", "sg-redis", "--protocol", "tcp", "--ports", "6380/6380", "--peer", "sg-web").Output);
        Golden.Assert("whatif/policy.txt", WhatIf("policy", "--group", "sg-web", "--inner-access", "accept").Output);
        Golden.Assert("whatif/join.txt", WhatIf("join", "--instance", "i-redis1", "--group", "sg-ops").Output);
        // The redis rule widened to 6379-6380 and its peer narrowed from sg-web to a block that holds only i-redis1.
        Golden.Assert("whatif/modify.txt", WhatIf("modify", "--rule", "sgr-redis", "--ports", "6379/6380").Output);
        Golden.Assert("whatif/modify-peer.txt", WhatIf("modify", "--rule", "sgr-redis", "--peer", "10.0.2.0/24").Output);
    }

    [Fact]
    public void ImpossibleChanges_AreOneLineErrors()
    {
        Assert.Equal((ExitCodes.BadInput, "error: sg-redis is the last group of i-redis1 (InstanceLastSecurityGroup)\n"),
            (WhatIf("leave", "--instance", "i-redis1", "--group", "sg-redis") is var a ? (a.ExitCode, a.Error) : default));
        var bad = WhatIf("authorize", "--group", "sg-redis", "--protocol", "tcp", "--ports", "200/1", "--peer", "0.0.0.0/0");
        Assert.Equal(ExitCodes.BadInput, bad.ExitCode);
        Assert.StartsWith("error: InvalidIpProtocol.Malformed: ", bad.Error);
        Assert.Equal(ExitCodes.BadInput, WhatIf("delete-group", "--group", "sg-web").ExitCode);
        Assert.Equal(ExitCodes.BadInput, WhatIf("revoke", "--rule", "sgr-nothere").ExitCode);
        Assert.Equal((ExitCodes.BadInput, "error: --rule sgr-nothere: no such rule in the state file\n"),
            (WhatIf("modify", "--rule", "sgr-nothere", "--priority", "2") is var m ? (m.ExitCode, m.Error) : default));
        Assert.StartsWith("error: ", WhatIf("modify", "--rule", "sgr-redis", "--protocol", "icmp").Error);
    }

    /// <summary>A prefix-list edit (issue 16 item 5): the flows of every rule naming the list, the internet's through the EIP among them.</summary>
    [Fact]
    public void APrefixListEdit_ShowsTheFlowsOfTheRulesNamingTheList()
    {
        var path = CliTester.StateFile("""
            {"SecurityGroups": [
               {"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
                 {"SecurityGroupRuleId": "sgr-pg", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourcePrefixListId": "pl-apps"}]}},
               {"SecurityGroupId": "sg-app", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": []}}],
             "Instances": [
               {"InstanceId": "i-app1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}},
               {"InstanceId": "i-db1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.20"]}}, "EipAddress": {"IpAddress": "47.1.1.1"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}],
             "PrefixLists": [{"PrefixListId": "pl-apps", "AddressFamily": "IPv4", "Entries": {"Entry": [{"Cidr": "10.0.1.0/24"}]}}]}
            """);
        try
        {
            var edit = CliTester.Run(["whatif", "prefix-list", "--state", path, "--list", "pl-apps", "--add", "0.0.0.0/0", "--remove", "10.0.1.0/24"]);
            Assert.Equal(ExitCodes.Ok, edit.ExitCode);
            Golden.Assert("whatif/prefix-list.txt", edit.Output);
            var absent = CliTester.Run(["whatif", "prefix-list", "--state", path, "--list", "pl-apps", "--remove", "10.9.9.0/24"]);
            Assert.Equal((ExitCodes.BadInput, "error: pl-apps has no entry 10.9.9.0/24\n"), (absent.ExitCode, absent.Error));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
