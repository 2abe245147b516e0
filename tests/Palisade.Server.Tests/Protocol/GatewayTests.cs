using Palisade.Client;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using Palisade.Domain.Ecs;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Protocol;

/// <summary>What the RPC endpoint answers before and around an action: routing, signatures, formats, errors.</summary>
public sealed class GatewayTests : ControlPlaneTest
{
    private Palisade.Storage.Accounts.AccountService.NewKey _key = null!;

    protected override Task SetUpAsync()
    {
        _key = Plane.NewAccount("gateway");
        return Task.CompletedTask;
    }

    private EcsClient Api(SignatureStyle style = SignatureStyle.V3) => Plane.Client(_key, style);

    [Theory]
    [InlineData(SignatureStyle.V3)]
    [InlineData(SignatureStyle.V1Get)]
    [InlineData(SignatureStyle.V1Post)]
    public async Task EverySignatureStyle_Works(SignatureStyle style)
    {
        var regions = await Api(style).CallAsync("DescribeRegions");
        Assert.Contains(regions.Items("Regions", "Region"), r => r.Str("RegionId") == "cn-hangzhou");
    }

    [Fact]
    public async Task WrongSecret_IsSignatureDoesNotMatch()
    {
        var wrong = new EcsClient(Plane.Http, new ClientCredentials(_key.AccessKeyId, "not-the-secret"));
        await ApiAssert.FailsAsync(() => wrong.CallAsync("DescribeRegions"), "SignatureDoesNotMatch", 400);
        var wrongV1 = new EcsClient(Plane.Http, new ClientCredentials(_key.AccessKeyId, "not-the-secret"), SignatureStyle.V1Get);
        var e = await ApiAssert.FailsAsync(() => wrongV1.CallAsync("DescribeRegions"), "SignatureDoesNotMatch", 400);
        Assert.StartsWith("Specified signature is not matched with our calculation. server string to sign is:GET&%2F&", e.EcsMessage);
        Assert.DoesNotContain(_key.AccessKeySecret, e.Response.Body);
    }

    [Fact]
    public async Task UnknownKey_IsNotFound() =>
        await ApiAssert.FailsAsync(() => new EcsClient(Plane.Http, new ClientCredentials("LTAInobody", "x")).CallAsync("DescribeRegions"), "InvalidAccessKeyId.NotFound", 404);

    [Fact]
    public async Task Timestamps_MustBeWithinFifteenMinutes()
    {
        var late = new ManualClock(DateTimeOffset.UtcNow.AddMinutes(-16));
        await ApiAssert.FailsAsync(() => Plane.Client(_key, SignatureStyle.V3, late).CallAsync("DescribeRegions"), "InvalidTimeStamp.Expired", 400);
        await ApiAssert.FailsAsync(() => Plane.Client(_key, SignatureStyle.V1Get, late).CallAsync("DescribeRegions"), "InvalidTimeStamp.Expired", 400);
        var soon = new ManualClock(DateTimeOffset.UtcNow.AddMinutes(14));
        await Plane.Client(_key, SignatureStyle.V3, soon).CallAsync("DescribeRegions");
    }

    [Fact]
    public async Task ANonceUsedTwice_IsRejected()
    {
        var api = Api(SignatureStyle.V1Get);
        using var first = api.Build("DescribeRegions", [], ApiVersions.Ecs);
        var uri = first.RequestUri!;
        Assert.Equal(200, (int)(await Plane.Http.GetAsync(uri)).StatusCode);
        var again = await Plane.Http.GetAsync(uri);
        Assert.Equal(400, (int)again.StatusCode);
        Assert.Contains("SignatureNonceUsed", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnknownActionAndVersion_AreCatalogueErrors()
    {
        await ApiAssert.FailsAsync(() => Api().CallAsync("LaunchRockets"), "InvalidAction.NotFound", 404);
        await ApiAssert.FailsAsync(() => Api().CallAsync("DescribeRegions", version: "2099-01-01"), "InvalidVersion", 400);
        // A VPC action asked of the ECS version does not exist there.
        await ApiAssert.FailsAsync(() => Api().CallAsync("CreateVpc", new { RegionId = "cn-hangzhou" }), "InvalidAction.NotFound", 404);
    }

    [Fact]
    public async Task NoActionAtAll_IsMissingParameter()
    {
        var response = await Plane.Http.GetAsync("/?Format=JSON");
        Assert.Equal(400, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"Code\":\"MissingParameter\"", body);
    }

    [Fact]
    public async Task AnUnsignedRequest_IsRefused()
    {
        var response = await Plane.Http.GetAsync("/?Action=DescribeRegions&Version=2014-05-26&Format=JSON");
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("\"Code\":\"MissingParameter\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Errors_HaveEveryEcsField_InJsonAndXml()
    {
        var json = await Api().SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", "sg-nothere")]);
        Assert.Equal(404, json.Status);
        Assert.Equal("application/json; charset=utf-8", json.ContentType);
        Golden.Assert("errors/not-found.json", Normalise(json.Body));

        var xml = await Api(SignatureStyle.V1Get).SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", "sg-nothere"), new("Format", "XML")]);
        Assert.Equal(404, xml.Status);
        Assert.Equal("text/xml; charset=utf-8", xml.ContentType);
        Golden.Assert("errors/not-found.xml", Normalise(xml.Body));
    }

    [Fact]
    public async Task XmlIsTheDefaultForV1WithoutFormat_JsonForV3()
    {
        var v1 = await Api(SignatureStyle.V1Get).SendAsync("DescribeRegions", [new("Format", "")]);
        Assert.Equal(200, v1.Status);
        Assert.Equal("text/xml; charset=utf-8", v1.ContentType);
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?><DescribeRegionsResponse><RequestId>", v1.Body);

        var v3 = await Api().SendAsync("DescribeRegions", []);
        Assert.Equal("application/json; charset=utf-8", v3.ContentType);
    }

    [Fact]
    public async Task SuccessShapes_AreGolden_InJsonAndXml()
    {
        var s = new Scenario(Api());
        var vpc = await s.VpcAsync();
        var sg = await s.GroupAsync(vpc, "golden");
        await s.AuthorizeAsync(sg, new { Permissions = new object[]
        {
            new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.1/8", Description = "ssh from the office" },
            new { IpProtocol = "icmp", PortRange = "-1/-1", SourceCidrIp = "192.0.2.7", Policy = "drop", Priority = "100" },
        } });
        await s.AuthorizeAsync(sg, new { IpProtocol = "ALL", PortRange = "-1/-1", Ipv6DestCidrIp = "2001:DB8::/32" }, egress: true);
        var json = await Api().SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", sg)]);
        Golden.Assert("shapes/describe-security-group-attribute.json", Normalise(json.Body));
        var xml = await Api(SignatureStyle.V1Post).SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", sg), new("Format", "xml")]);
        Golden.Assert("shapes/describe-security-group-attribute.xml", Normalise(xml.Body));
    }

    private static string Normalise(string body) => Normaliser.Normalise(body);

    [Fact]
    public async Task AnUnsignedHeader_NeverChoosesTheActionOfAV1Request()
    {
        // Signed as DescribeRegions; a header added in transit asks for another action.
        var response = await Api(SignatureStyle.V1Get).SendAsync("DescribeRegions", [], tamper: m => m.Headers.TryAddWithoutValidation("x-acs-action", "DeleteSecurityGroup"));
        Assert.Equal(200, response.Status);
        Assert.Contains("\"Regions\"", response.Body);
    }

    [Fact]
    public async Task NonXmlCharacters_DoNotBreakXmlAnswers()
    {
        var s = new Scenario(Api());
        var sg = await s.GroupAsync(await s.VpcAsync(), "xml");
        await s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1/1", SourceCidrIp = "0.0.0.0/0", Description = "odd \uFFFE\uFFFF end" });
        var xml = await Api(SignatureStyle.V1Get).SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", Scenario.Region), new("SecurityGroupId", sg), new("Format", "XML")]);
        Assert.Equal(200, xml.Status);
        Assert.Contains("odd \uFFFD\uFFFD end", xml.Body);
    }
}
