namespace Palisade.Cli.Tests.Evaluation;

/// <summary>
/// A flow to or from an instance's public address is that instance's flow, on the right NIC,
/// without <c>--nic</c>: a classic instance's internet NIC, a VPC instance's one NIC at the private
/// address its public IP or EIP is translated to.
/// </summary>
public sealed class PublicAddressTests
{
    private const string State = """
        {
          "RegionId": "cn-hangzhou",
          "SecurityGroups": [
            {"SecurityGroupId": "sg-classic", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
              {"SecurityGroupRuleId": "sgr-web", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0", "NicType": "internet"},
              {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "NicType": "intranet"}
            ]}},
            {"SecurityGroupId": "sg-vpc", "VpcId": "vpc-prod", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
              {"SecurityGroupRuleId": "sgr-https", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0"}
            ]}}
          ],
          "Instances": [
            {"InstanceId": "i-classic", "InstanceNetworkType": "classic", "InnerIpAddress": {"IpAddress": ["10.1.0.5"]}, "PublicIpAddress": {"IpAddress": ["198.19.0.5"]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-classic"]}},
            {"InstanceId": "i-vpc", "VpcAttributes": {"VpcId": "vpc-prod", "PrivateIpAddress": {"IpAddress": ["10.0.3.11"]}}, "PublicIpAddress": {"IpAddress": ["203.0.113.50"]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-vpc"]}},
            {"InstanceId": "i-eip", "VpcAttributes": {"VpcId": "vpc-prod", "PrivateIpAddress": {"IpAddress": ["10.0.3.12"]}}, "EipAddress": {"IpAddress": "203.0.113.60"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-vpc"]}}
          ]
        }
        """;

    private static CliTester.Outcome Eval(params string[] args)
    {
        var file = CliTester.StateFile(State);
        try
        {
            return CliTester.Run(["eval", "--state", file, .. args]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AClassicInstancesPublicAddress_IsItsInternetNic_WithoutNic()
    {
        var web = Eval("--src", "198.51.100.7", "--dst", "198.19.0.5", "--protocol", "tcp", "--port", "80");
        Assert.True(web.ExitCode == ExitCodes.Ok, web.Output + web.Error);
        Assert.Contains("i-classic", web.Output, StringComparison.Ordinal);
        Assert.Contains("internet", web.Output, StringComparison.Ordinal);
        Assert.Contains("sgr-web", web.Output, StringComparison.Ordinal);

        // Port 22 is open on the intranet NIC only: over the internet it is denied.
        var ssh = Eval("--src", "198.51.100.7", "--dst", "198.19.0.5", "--protocol", "tcp", "--port", "22");
        Assert.Equal(ExitCodes.Denied, ssh.ExitCode);
        Assert.DoesNotContain("sgr-ssh", ssh.Output, StringComparison.Ordinal);

        // The same from the instance's own side, as a source.
        Assert.Equal(ExitCodes.Ok, Eval("--src", "198.19.0.5", "--dst", "198.51.100.7", "--protocol", "tcp", "--port", "443").ExitCode);

        // An explicit --nic still rules: the public address is on no intranet NIC.
        var intranet = Eval("--src", "198.51.100.7", "--dst", "198.19.0.5", "--protocol", "tcp", "--port", "80", "--nic", "intranet");
        Assert.Equal(ExitCodes.BadInput, intranet.ExitCode);
        Assert.Contains("neither --src nor --dst is an instance of the state", intranet.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("203.0.113.50", "i-vpc", "10.0.3.11")]
    [InlineData("203.0.113.60", "i-eip", "10.0.3.12")]
    public void AVpcInstancesPublicIpOrEip_IsItsNic_AtThePrivateAddress(string published, string instance, string privateAddress)
    {
        var https = Eval("--src", "198.51.100.7", "--dst", published, "--protocol", "tcp", "--port", "443");
        Assert.True(https.ExitCode == ExitCodes.Ok, https.Output + https.Error);
        Assert.StartsWith($"TCP 198.51.100.7:49152 -> {privateAddress}:443 ({published} is the public address of {instance}, translated to {privateAddress})\nallowed\n", https.Output, StringComparison.Ordinal);
        Assert.Contains($"ingress at {instance}: accept by rule sgr-https", https.Output, StringComparison.Ordinal);
        Assert.Contains("sgr-https", https.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Denied, Eval("--src", "198.51.100.7", "--dst", published, "--protocol", "tcp", "--port", "8443").ExitCode);
    }

    [Fact]
    public void AVpcInstancesPublicAddress_AsASource_IsWhatTheOtherEndSees_NotTheInstance()
    {
        // Traffic the instance sends out through its public address reaches others from that address
        // (docs/semantics.md §7): it is not that instance's NIC. Name the instance to check its egress.
        var outcome = Eval("--src", "203.0.113.50", "--dst", "198.51.100.7", "--protocol", "tcp", "--port", "443");
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        Assert.Contains("neither --src nor --dst is an instance of the state", outcome.Error, StringComparison.Ordinal);
    }
}
