using Palisade.Client;
using Palisade.Server.Actions.Instances;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

public sealed class ReviewFixesTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Palisade.Server.Accounts.AccountService.NewKey _key = null!;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _key = _plane.NewAccount();
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    [Fact]
    public async Task AnUnsignedHeader_NeverChoosesTheActionOfAV1Request()
    {
        var api = _plane.Client(_key, SignatureStyle.V1Get);
        // Signed as DescribeRegions; a header added in transit asks for another action.
        var response = await api.SendAsync("DescribeRegions", [], tamper: m => m.Headers.TryAddWithoutValidation("x-acs-action", "DeleteSecurityGroup"));
        Assert.Equal(200, response.Status);
        Assert.Contains("\"Regions\"", response.Body);
    }

    [Theory]
    [InlineData("web*", "web-1", true)]
    [InlineData("*-1", "web-1", true)]
    [InlineData("w*b*1", "web-1", true)]
    [InlineData("web", "web-1", false)]
    [InlineData("*x*", "web-1", false)]
    [InlineData("a*a", "a", false)]
    [InlineData("*", "", true)]
    public void InstanceNameWildcards(string pattern, string name, bool matches) =>
        Assert.Equal(matches, DescribeInstances.Matches(pattern, name));

    [Fact]
    public async Task APathologicalWildcard_AnswersAtOnce()
    {
        var api = _plane.Client(_key);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceName = string.Concat(Enumerable.Repeat("*a", 60)) + "*b" });
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task NonXmlCharacters_DoNotBreakXmlAnswers()
    {
        var s = new Scenario(_plane.Client(_key));
        var sg = await s.GroupAsync(await s.VpcAsync(), "xml");
        await s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1/1", SourceCidrIp = "0.0.0.0/0", Description = "odd \uFFFE\uFFFF end" });
        var xml = await _plane.Client(_key, SignatureStyle.V1Get).SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", Region), new("SecurityGroupId", sg), new("Format", "XML")]);
        Assert.Equal(200, xml.Status);
        Assert.Contains("odd \uFFFD\uFFFD end", xml.Body);
    }

    [Fact]
    public async Task AResourceOfAnotherRegion_IsNotFound()
    {
        var s = new Scenario(_plane.Client(_key));
        var sg = await s.GroupAsync(await s.VpcAsync(), "hangzhou");
        await ApiAssert.FailsAsync(() => s.Api.CallAsync("AuthorizeSecurityGroup", new { RegionId = "cn-shanghai", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "1/1", SourceCidrIp = "0.0.0.0/0" }),
            "InvalidSecurityGroupId.NotFound", 404);
    }
}
