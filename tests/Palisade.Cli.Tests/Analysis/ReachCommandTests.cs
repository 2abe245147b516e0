using Palisade.TestKit;

namespace Palisade.Cli.Tests.Analysis;

public sealed class ReachCommandTests
{
    private const string State = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0"},
             {"SecurityGroupRuleId": "sgr-https", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0"}]}},
           {"SecurityGroupId": "sg-empty", "VpcId": "vpc-a"},
           {"SecurityGroupId": "sg-redis", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-redis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6380", "SourceGroupId": "sg-web"},
             {"SecurityGroupRuleId": "sgr-noredis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6380/6380", "SourceCidrIp": "10.0.0.0/8", "Policy": "Drop"},
             {"SecurityGroupRuleId": "sgr-ping", "Direction": "ingress", "IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "10.0.0.0/8"}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "EipAddress": {"IpAddress": "47.1.1.1"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-redis1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.20"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}},
           {"InstanceId": "i-batch1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.3.30"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}}]}
        """;

    private static CliTester.Outcome Reach(params string[] args)
    {
        var path = CliTester.StateFile(State);
        try
        {
            return CliTester.Run(["reach", "--state", path, .. args]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Reach_IsGolden_InWordsAndJson()
    {
        var redis = Reach("--to", "i-redis1");
        Assert.Equal(ExitCodes.Ok, redis.ExitCode);
        Golden.Assert("reach/redis.txt", redis.Output);
        Golden.Assert("reach/web.json", Reach("--to", "i-web1", "--json").Output);
        var missing = Reach("--to", "i-nothere");
        Assert.Equal((ExitCodes.BadInput, "error: --to i-nothere: no such instance or security group in the state file\n"), (missing.ExitCode, missing.Error));
    }
    [Fact]
    public void From_AndGroups_AndFilters_AreGolden()
    {
        Golden.Assert("reach/from-web.txt", Reach("--from", "i-web1").Output);
        // A group stands for each of its members; the filter keeps only TCP 6379.
        Golden.Assert("reach/to-redis-group-6379.txt", Reach("--to", "sg-redis", "--protocol", "tcp", "--port", "6379").Output);
        Golden.Assert("reach/from-web-6380.json", Reach("--from", "sg-web", "--port", "6380", "--json").Output);
        Assert.Equal((ExitCodes.Ok, "sg-empty has no instances\n"), (Reach("--to", "sg-empty").ExitCode, Reach("--to", "sg-empty").Output));
    }

    [Fact]
    public void Matrix_ByGroupAndByInstance_IsGolden()
    {
        Golden.Assert("reach/matrix.txt", Reach("--matrix").Output);
        Golden.Assert("reach/matrix-icmp.txt", Reach("--matrix", "--protocol", "icmp").Output);
        Golden.Assert("reach/matrix-instances.json", Reach("--matrix", "--by", "instance", "--json").Output);
    }

    [Theory]
    [InlineData("error: ask one question: --to, --from or --matrix\n")]
    [InlineData("error: ask one question: --to, --from or --matrix\n", "--to", "i-web1", "--matrix")]
    [InlineData("error: --by goes with --matrix\n", "--to", "i-web1", "--by", "group")]
    [InlineData("error: --by rule: expected group or instance\n", "--matrix", "--by", "rule")]
    [InlineData("error: --port goes with tcp or udp, not ICMP\n", "--matrix", "--protocol", "icmp", "--port", "22")]
    [InlineData("error: --port 0: expected 1 to 65535\n", "--matrix", "--port", "0")]
    [InlineData("error: --protocol sctp: expected tcp, udp, icmp, icmpv6, gre or all\n", "--matrix", "--protocol", "sctp")]
    public void BadQuestions_AreRefused(string error, params string[] args)
    {
        var outcome = Reach(args);
        Assert.Equal((ExitCodes.BadInput, error, ""), (outcome.ExitCode, outcome.Error, outcome.Output));
    }
    private const string DualStack = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-app", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-v4", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "8080/8080", "SourceCidrIp": "10.0.0.0/8"},
             {"SecurityGroupRuleId": "sgr-v6", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "Ipv6SourceCidrIp": "::/0"}]}}],
         "Instances": [
           {"InstanceId": "i-app1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}},
            "NetworkInterfaces": {"NetworkInterface": [{"Ipv6Sets": {"Ipv6Set": [{"Ipv6Address": "2408:4000::10"}]}}]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}},
           {"InstanceId": "i-app2", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.11"]}},
            "NetworkInterfaces": {"NetworkInterface": [{"Ipv6Sets": {"Ipv6Set": [{"Ipv6Address": "2408:4000::11"}]}}]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}}]}
        """;

    [Fact]
    public void Ipv6_AnswersOverThePrimaryIpv6Addresses()
    {
        var path = CliTester.StateFile(DualStack);
        try
        {
            // IPv4: 8080 from the other instance; IPv6: 443 from it and from the IPv6 internet (its address is global).
            Golden.Assert("reach/dual-v4.txt", CliTester.Run("reach", "--state", path, "--to", "i-app1").Output);
            Golden.Assert("reach/dual-v6.txt", CliTester.Run("reach", "--state", path, "--to", "i-app1", "--ipv6").Output);
            Golden.Assert("whatif/revoke-v6.txt", CliTester.Run("whatif", "revoke", "--state", path, "--rule", "sgr-v6", "--ipv6").Output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>i-web's second private address is the only one sgr-pg admits; i-app has one address, not that one.</summary>
    private const string Secondary = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop"},
           {"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-pg", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceCidrIp": "10.0.1.20/32"}]}}],
         "Instances": [
           {"InstanceId": "i-web", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}},
            "NetworkInterfaces": {"NetworkInterface": [{"PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.1.20", "Primary": false}]}}]},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-app", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.30"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-db", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.10"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
        """;

    [Fact]
    public void ASecondaryAddress_TakesPart()
    {
        var path = CliTester.StateFile(Secondary);
        try
        {
            // i-web reaches i-db by its secondary address only, and is named by it; i-app does not.
            Golden.Assert("reach/secondary.txt", CliTester.Run("reach", "--state", path, "--to", "i-db").Output);
            Golden.Assert("whatif/revoke-secondary.txt", CliTester.Run("whatif", "revoke", "--state", path, "--rule", "sgr-pg").Output);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
