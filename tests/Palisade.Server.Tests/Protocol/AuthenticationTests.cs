using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Palisade.Client;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using Palisade.Storage.Backup;
using Palisade.Storage.Records;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Every way a request can fail to prove who sent it gets its ECS code, and is refused before
/// anything runs: the whole store (action trail included, since such a request acts as nobody)
/// is byte-for-byte what it was. And no secret shows up in a log line or an answer.
/// </summary>
public sealed class AuthenticationTests : ControlPlaneTest
{
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private readonly CapturedLogs _logs = new();
    private Palisade.Storage.Accounts.AccountService.NewKey _key = null!;

    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(clock: _clock, logs: _logs);

    protected override Task SetUpAsync()
    {
        _key = Plane.NewAccount("auth");
        return Task.CompletedTask;
    }

    private EcsClient Api(SignatureStyle style = SignatureStyle.V3, Palisade.Storage.Accounts.AccountService.NewKey? key = null, TimeProvider? clock = null) =>
        Plane.Client(key ?? _key, style, clock ?? _clock);

    private static readonly object NewGroup = new { RegionId = Region, SecurityGroupName = "made-by-a-forgery" };

    private string Digest()
    {
        using var buffer = new MemoryStream();
        StoreBackup.Write(Plane.Store, buffer);
        return Convert.ToHexString(SHA256.HashData(buffer.ToArray()));
    }

    /// <summary>The call fails with the code, and nothing at all changed in the store.</summary>
    private async Task RefusedBeforeAnythingRuns(Func<Task> call, string code, int status)
    {
        var before = Digest();
        await ApiAssert.FailsAsync(call, code, status);
        Assert.Equal(before, Digest());
    }

    [Theory]
    [InlineData(SignatureStyle.V3)]
    [InlineData(SignatureStyle.V1Get)]
    [InlineData(SignatureStyle.V1Post)]
    public async Task WrongSecret_UnknownKey_ExpiredOrFutureTimestamp_AreRefused(SignatureStyle style)
    {
        var wrong = new EcsClient(Plane.Http, new ClientCredentials(_key.AccessKeyId, "not-the-secret-at-all-000000000"), style, _clock);
        await RefusedBeforeAnythingRuns(() => wrong.CallAsync("CreateSecurityGroup", NewGroup), "SignatureDoesNotMatch", 400);
        var unknown = new EcsClient(Plane.Http, new ClientCredentials("LTAI" + new string('x', 20), "whatever"), style, _clock);
        await RefusedBeforeAnythingRuns(() => unknown.CallAsync("CreateSecurityGroup", NewGroup), "InvalidAccessKeyId.NotFound", 404);
        await RefusedBeforeAnythingRuns(() => Api(style, clock: new ManualClock(_clock.GetUtcNow().AddMinutes(-16))).CallAsync("CreateSecurityGroup", NewGroup), "InvalidTimeStamp.Expired", 400);
        await RefusedBeforeAnythingRuns(() => Api(style, clock: new ManualClock(_clock.GetUtcNow().AddMinutes(16))).CallAsync("CreateSecurityGroup", NewGroup), "InvalidTimeStamp.Expired", 400);
        await Api(style).CallAsync("CreateSecurityGroup", NewGroup); // and the right one works
    }

    [Fact]
    public async Task MissingOrMalformedSignatureParts_AreRefused()
    {
        var api = Api(SignatureStyle.V1Get);
        string Without(string name, string? replacement = null)
        {
            using var request = api.Build("CreateSecurityGroup", EcsClient.Flatten(NewGroup), ApiVersions.Ecs);
            var query = request.RequestUri!.Query.TrimStart('?').Split('&').Where(p => !p.StartsWith(name + "=", StringComparison.Ordinal));
            return "/?" + string.Join('&', replacement is null ? query : query.Append($"{name}={replacement}"));
        }
        async Task Refused(string url, string code)
        {
            var before = Digest();
            var response = await Plane.Http.GetAsync(url);
            Assert.Equal(400, (int)response.StatusCode);
            Assert.Contains($"\"Code\":\"{code}\"", await response.Content.ReadAsStringAsync());
            Assert.Equal(before, Digest());
        }
        await Refused(Without("Signature"), "MissingParameter");
        await Refused(Without("SignatureNonce"), "MissingParameter");
        await Refused(Without("Timestamp"), "MissingParameter");
        await Refused(Without("Timestamp", "yesterday"), "InvalidTimeStamp.Format");
        await Refused(Without("SignatureMethod", "HMAC-MD5"), "InvalidParameter");
        // A parameter changed after signing.
        await Refused(Without("SecurityGroupName", "renamed-in-flight"), "SignatureDoesNotMatch");

        async Task TamperedV3(Action<HttpRequestMessage> tamper, string code)
        {
            var before = Digest();
            var response = await Api().SendAsync("CreateSecurityGroup", EcsClient.Flatten(NewGroup), tamper: tamper);
            Assert.Equal((400, code), (response.Status, response.Code));
            Assert.Equal(before, Digest());
        }
        await TamperedV3(r =>
        {
            r.Headers.Remove("Authorization");
            r.Headers.TryAddWithoutValidation("Authorization", "ACS3-HMAC-SHA256 Credential=" + _key.AccessKeyId);
        }, "IncompleteSignature");
        await TamperedV3(r => r.Headers.TryAddWithoutValidation("x-acs-unsigned", "1"), "IncompleteSignature");
        // The body (empty when it was signed) changed afterwards.
        await TamperedV3(r => r.Content = new ByteArrayContent([1, 2, 3]), "SignatureDoesNotMatch");
    }

    [Fact]
    public async Task AReplayedMutatingRequest_IsRefused_AndAForgedOneDoesNotBurnTheNonce()
    {
        using var signed = Api(SignatureStyle.V1Get).Build("CreateSecurityGroup", EcsClient.Flatten(NewGroup), ApiVersions.Ecs);
        var url = signed.RequestUri!.PathAndQuery;
        // The same nonce under a wrong signature first: refused, and the nonce stays unused.
        var forged = Regex.Replace(url, "Signature=[^&]+", "Signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D");
        Assert.Contains("SignatureDoesNotMatch", await (await Plane.Http.GetAsync(forged)).Content.ReadAsStringAsync());
        Assert.Equal(200, (int)(await Plane.Http.GetAsync(url)).StatusCode);
        var before = Digest();
        var replay = await Plane.Http.GetAsync(url);
        Assert.Equal(400, (int)replay.StatusCode);
        Assert.Contains("SignatureNonceUsed", await replay.Content.ReadAsStringAsync());
        Assert.Equal(before, Digest());
        Assert.Single((await Api().CallAsync("DescribeSecurityGroups", new { RegionId = Region })).Items("SecurityGroups", "SecurityGroup"));
    }

    [Fact]
    public async Task DisabledAndDeletedKeys_AreRefused_OnEveryStyle()
    {
        var key = Plane.Accounts.CreateAccessKey(_key.AccountId);
        await Api(key: key).CallAsync("DescribeRegions");
        Plane.Accounts.SetAccessKeyStatus(key.AccessKeyId, AccessKeyStatus.Inactive);
        _clock.Advance(Authenticator.KeyCacheLifetime + TimeSpan.FromSeconds(1));
        foreach (var style in new[] { SignatureStyle.V3, SignatureStyle.V1Get, SignatureStyle.V1Post })
            await RefusedBeforeAnythingRuns(() => Api(style, key).CallAsync("CreateSecurityGroup", NewGroup), "InvalidAccessKeyId.Inactive", 400);
        // The other key of the account is untouched.
        await Api().CallAsync("DescribeRegions");

        Plane.Accounts.SetAccessKeyStatus(key.AccessKeyId, AccessKeyStatus.Active);
        _clock.Advance(Authenticator.KeyCacheLifetime + TimeSpan.FromSeconds(1));
        await Api(key: key).CallAsync("DescribeRegions");

        Plane.Accounts.DeleteAccessKey(key.AccessKeyId);
        _clock.Advance(Authenticator.KeyCacheLifetime + TimeSpan.FromSeconds(1));
        foreach (var style in new[] { SignatureStyle.V3, SignatureStyle.V1Get, SignatureStyle.V1Post })
            await RefusedBeforeAnythingRuns(() => Api(style, key).CallAsync("CreateSecurityGroup", NewGroup), "InvalidAccessKeyId.NotFound", 404);
    }

    [Fact]
    public async Task Secrets_NeverAppear_InLogsAnswersOrTheTrail()
    {
        const string password = "Inst4nce-Pa55word-Secret";
        var answers = new List<string>();
        var s = new Scenario(Api());
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var sg = await s.GroupAsync(vpc, "secret");
        var run = EcsClient.Flatten(new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", SecurityGroupId = sg, VSwitchId = vsw, Password = password });
        foreach (var style in new[] { SignatureStyle.V3, SignatureStyle.V1Get, SignatureStyle.V1Post })
        {
            answers.Add((await Api(style).SendAsync("RunInstances", run)).Body);
            // A wrong signature: V1's answer echoes the string to sign, with the password masked.
            var wrong = new EcsClient(Plane.Http, new ClientCredentials(_key.AccessKeyId, "wrong"), style, _clock);
            var refused = await wrong.SendAsync("RunInstances", run);
            Assert.Equal("SignatureDoesNotMatch", refused.Code);
            answers.Add(refused.Body);
            answers.Add((await Api(style).SendAsync("RunInstances", [.. run, new("Amount", "1000")])).Body);
            answers.Add((await Api(style, clock: new ManualClock(_clock.GetUtcNow().AddHours(1))).SendAsync("RunInstances", run)).Body);
        }
        answers.Add((await Api().SendAsync("DescribeActionTrail", [new("MaxResults", "100")])).Body);
        var masterKey = File.ReadAllText(Path.Combine(Plane.Location.Directory, "master.key")).Trim();

        var everything = string.Join("\n", answers) + "\n" + _logs.All;
        var at = everything.IndexOf(password, StringComparison.Ordinal);
        Assert.True(at < 0, at < 0 ? "" : everything[Math.Max(0, at - 1500)..Math.Min(everything.Length, at + 100)]);
        Assert.Contains(_logs.Lines, l => l.Contains("RunInstances 200", StringComparison.Ordinal)); // the per-request lines were captured
        foreach (var secret in new[] { _key.AccessKeySecret, password, masterKey })
            Assert.DoesNotContain(secret, everything);
        Assert.Contains("Password%3D%252A%252A%252A%252A%252A%252A", everything); // the echo shows that a masked password was there
    }
}
