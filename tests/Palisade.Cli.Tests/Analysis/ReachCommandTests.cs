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
        Assert.Equal((ExitCodes.BadInput, "error: --to i-nothere: no such instance in the state file\n"), (missing.ExitCode, missing.Error));
    }
}
