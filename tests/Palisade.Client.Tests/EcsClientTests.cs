using Palisade.TestKit;
using Palisade.Domain.Ecs;

namespace Palisade.Client.Tests;

/// <summary>The client signs exactly as the official SDKs do: checked against the fixed vectors of sdk-wire.md §7.</summary>
public sealed class EcsClientTests
{
    private static readonly ClientCredentials Keys = new("LTAI5tTESTKEYID0000000001", "TestSecretKeyForCaptureServer000001");

    private static readonly KeyValuePair<string, string>[] WorkedExample =
    [
        new("RegionId", "cn-hangzhou"), new("SecurityGroupId", "sg-capture000000000001"), new("IpProtocol", "tcp"), new("PortRange", "80/80"),
        new("SourceCidrIp", "0.0.0.0/0"), new("Policy", "accept"), new("Priority", "1"), new("NicType", "intranet"), new("Description", "web (http)"),
    ];

    [Fact]
    public void V1Get_SignsTheWorkedExampleOfSdkWire()
    {
        var client = new EcsClient(new HttpClient { BaseAddress = new Uri("http://127.0.0.1:18080/") }, Keys, SignatureStyle.V1Get,
            new ManualClock(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        using var request = client.Build("AuthorizeSecurityGroup", WorkedExample, ApiVersions.Ecs);
        var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query);
        // The nonce is random; re-sign the vector with the client's algorithm and the vector's nonce.
        var pairs = query.AllKeys.Where(k => k != "Signature").Select(k => new KeyValuePair<string, string>(k!, k == "SignatureNonce" ? "0000000000000000000000000000000a" : query[k]!));
        var stringToSign = Domain.Signatures.SignatureV1.StringToSign("GET", pairs);
        Assert.Equal("Qqp//vfMCEQAjzMoA9/Xcz3fuFY=", Domain.Signatures.SignatureV1.Sign(Keys.AccessKeySecret, stringToSign));
        Assert.Equal("2025-01-01T00:00:00Z", query["Timestamp"]);
        Assert.Equal("HMAC-SHA1", query["SignatureMethod"]);
    }

    [Fact]
    public void V3_SignsTheWorkedExampleOfSdkWire()
    {
        var headers = new Dictionary<string, string>
        {
            ["host"] = "127.0.0.1:18080",
            ["x-acs-action"] = "AuthorizeSecurityGroup",
            ["x-acs-content-sha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ["x-acs-credentials-provider"] = "static_ak",
            ["x-acs-date"] = "2025-01-01T00:00:00Z",
            ["x-acs-signature-nonce"] = "00000000000000000000000000000000000000000000000000000000000000aa",
            ["x-acs-version"] = "2014-05-26",
        };
        var canonical = Domain.Signatures.SignatureV3.CanonicalRequest("POST", "/", WorkedExample, h => headers.GetValueOrDefault(h), [.. headers.Keys.Order(StringComparer.Ordinal)], []);
        var stringToSign = Domain.Signatures.SignatureV3.StringToSign(canonical);
        Assert.Equal("ACS3-HMAC-SHA256\nc086dcee8013b2a934c3a505f9086fb9c47d7f4d88f2d6e9973578a14e61a8d3", stringToSign);
        Assert.Equal("00307de334f5d1c13a89be0acdff81ce32e394afa00134ec30854b879aae4939", Domain.Signatures.SignatureV3.Sign(Keys.AccessKeySecret, stringToSign));
    }

    [Fact]
    public void Flatten_MakesEcsListShapes()
    {
        var flat = EcsClient.Flatten(new
        {
            RegionId = "cn-hangzhou",
            Permissions = new[] { new { IpProtocol = "tcp", Priority = 1 }, new { IpProtocol = "udp", Priority = 2 } },
            SecurityGroupRuleId = new[] { "sgr-a", "sgr-b" },
            DryRun = true,
            VpcId = (string?)null,
        });
        Assert.Equal(
            ["RegionId=cn-hangzhou", "Permissions.1.IpProtocol=tcp", "Permissions.1.Priority=1", "Permissions.2.IpProtocol=udp", "Permissions.2.Priority=2",
             "SecurityGroupRuleId.1=sgr-a", "SecurityGroupRuleId.2=sgr-b", "DryRun=true"],
            flat.Select(p => $"{p.Key}={p.Value}"));
    }
}
