using Palisade.Domain.Ecs;
using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Signatures;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Requests as the tools ECS users run send them: the <c>aliyun</c> CLI's V1 POST with every
/// parameter in the query, an empty form body and an empty, signed <c>SignatureType=</c>; and STS's
/// GetCallerIdentity, which <c>aliyun configure</c>, Terraform, Steampipe and Prowler call first.
/// </summary>
public sealed class ToolShapeTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Palisade.Storage.Accounts.AccountService.NewKey _key = null!;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _key = _plane.NewAccount("tools");
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    /// <summary>One request in the aliyun CLI's shape: the answer's status and JSON body.</summary>
    private Task<(int Status, JsonElement Body)> AliyunCli(string action, string version, params (string Name, string Value)[] extra) =>
        AliyunCli(action, version, sendSignatureType: true, extra);

    private async Task<(int Status, JsonElement Body)> AliyunCli(string action, string version, bool sendSignatureType, params (string Name, string Value)[] extra)
    {
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("Action", action), new("Version", version), new("RegionId", Region), new("AccessKeyId", _key.AccessKeyId), new("Format", "JSON"),
            new("SignatureMethod", "HMAC-SHA1"), new("SignatureNonce", Guid.NewGuid().ToString()), new("SignatureType", ""), new("SignatureVersion", "1.0"),
            new("Timestamp", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)),
        };
        parameters.AddRange(extra.Select(e => new KeyValuePair<string, string>(e.Name, e.Value)));
        parameters.Add(new("Signature", SignatureV1.Sign(_key.AccessKeySecret, SignatureV1.StringToSign("POST", parameters))));
        var query = string.Join('&', parameters.Where(p => sendSignatureType || p.Key != "SignatureType").Select(p => $"{PercentEncoding.Encode(p.Key)}={PercentEncoding.Encode(p.Value)}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/?" + query) { Content = new StringContent("", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
        using var response = await _plane.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        return ((int)response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    [Fact]
    public async Task TheAliyunClisShape_IsServed_AsJson()
    {
        var created = await AliyunCli("CreateSecurityGroup", ApiVersions.Ecs, ("SecurityGroupName", "from-the-cli"), ("VpcId", await new Scenario(_plane.Client(_key)).VpcAsync()));
        Assert.Equal(200, created.Status);
        var listed = await AliyunCli("DescribeSecurityGroups", ApiVersions.Ecs, ("PageSize", "50"));
        Assert.Equal(200, listed.Status);
        Assert.Equal(created.Body.Str("SecurityGroupId"), Assert.Single(listed.Body.Items("SecurityGroups", "SecurityGroup")).Str("SecurityGroupId"));

        // The empty SignatureType is signed: dropping it breaks the signature like any other byte.
        var wrong = await AliyunCli("DescribeSecurityGroups", ApiVersions.Ecs, sendSignatureType: false);
        Assert.Equal((400, "SignatureDoesNotMatch"), (wrong.Status, wrong.Body.Str("Code")));
    }

    [Fact]
    public async Task GetCallerIdentity_IsTheSigningKeysAccount()
    {
        var other = _plane.NewAccount("someone-else");
        foreach (var style in new[] { SignatureStyle.V3, SignatureStyle.V1Get, SignatureStyle.V1Post })
        {
            var me = await _plane.Client(_key, style).CallAsync("GetCallerIdentity", new { }, "2015-04-01");
            var id = _key.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(("Account", id, id, id, $"acs:ram::{id}:root"),
                (me.Str("IdentityType"), me.Str("AccountId"), me.Str("UserId"), me.Str("PrincipalId"), me.Str("Arn")));
            Assert.False(string.IsNullOrEmpty(me.Str("RequestId")));
            var them = await _plane.Client(other, style).CallAsync("GetCallerIdentity", new { }, "2015-04-01");
            Assert.NotEqual(me.Str("AccountId"), them.Str("AccountId"));
        }
        var cli = await AliyunCli("GetCallerIdentity", "2015-04-01");
        Assert.Equal(200, cli.Status);
        Assert.Equal(_key.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture), cli.Body.Str("AccountId"));

        // A read-only key may ask who it is; a wrong secret may not.
        var readOnly = _plane.NewAccount("reader", readOnly: true);
        Assert.Equal("Account", (await _plane.Client(readOnly).CallAsync("GetCallerIdentity", new { }, "2015-04-01")).Str("IdentityType"));
        var forged = new EcsClient(_plane.Http, new ClientCredentials(_key.AccessKeyId, _key.AccessKeySecret + "x"));
        await ApiAssert.FailsAsync(() => forged.CallAsync("GetCallerIdentity", new { }, "2015-04-01"), "SignatureDoesNotMatch", 400);
        // STS has no other action here, and GetCallerIdentity is not an ECS action.
        await ApiAssert.FailsAsync(() => _plane.Client(_key).CallAsync("GetCallerIdentity", new { }, ApiVersions.Ecs), "InvalidAction.NotFound", 404);
    }
}
