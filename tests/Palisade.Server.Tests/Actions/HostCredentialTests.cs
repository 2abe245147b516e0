using System.Globalization;
using Palisade.Agent.Following;
using Palisade.Client;
using Palisade.Domain.Errors;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The operator lists, rotates and revokes host credentials on the store (issue 18): a revoked or
/// rotated-out credential is refused from the commit on (not within the key cache's lifetime), a
/// long poll it has parked ends refused, and its agent is told its credential (not the network) is
/// the problem.
/// </summary>
public sealed class HostCredentialTests : IAsyncLifetime
{
    private TestControlPlane _server = null!;
    private Scenario _tenant = null!;
    private string _instance = null!;

    public async Task InitializeAsync()
    {
        _server = await TestControlPlane.StartAsync();
        _tenant = new Scenario(_server.Client(_server.NewAccount("tenant")));
        var vpc = await _tenant.VpcAsync();
        _instance = (await _tenant.RunAsync(await _tenant.GroupAsync(vpc), await _tenant.VSwitchAsync(vpc))).Single();
        _server.Bind(_instance, "node-1", "vnet0");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private EcsClient ClientOf(Storage.Hosts.HostService.NewCredential c) =>
        new(_server.Http, new ClientCredentials(c.AccessKeyId, c.AccessKeySecret));

    private static Task<System.Text.Json.JsonElement> Policy(EcsClient host) =>
        host.CallAsync("DescribeHostPolicy", new { RegionId = Region });

    [Fact]
    public async Task Credentials_AreListedWithTheirLastUse_AndARotatedOutOne_IsRefusedAtOnce()
    {
        var first = _server.Hosts.CreateCredential("node-1");
        var unused = _server.Hosts.CreateCredential("node-1");
        var other = _server.Hosts.CreateCredential("node-2");
        var agent = ClientOf(first);
        Assert.Single((await Policy(agent)).Items("HostInterfaces", "HostInterface"));

        var listed = _server.Hosts.ListCredentials("node-1");
        Assert.Equal(new[] { first.AccessKeyId, unused.AccessKeyId }.Order(StringComparer.Ordinal), listed.Select(c => c.AccessKeyId).Order(StringComparer.Ordinal));
        Assert.All(listed, c => Assert.Equal("node-1", c.HostName));
        var used = listed.Single(c => c.AccessKeyId == first.AccessKeyId).LastUsedAt;
        Assert.NotNull(used);
        Assert.InRange(used.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Null(listed.Single(c => c.AccessKeyId == unused.AccessKeyId).LastUsedAt);
        Assert.Equal(3, _server.Hosts.ListCredentials(null).Count);
        // The secret is kept encrypted, never in clear.
        Assert.All(_server.Hosts.ListCredentials(null), c => Assert.DoesNotContain(System.Text.Encoding.UTF8.GetString(c.SecretCiphertext), new[] { first.AccessKeySecret, unused.AccessKeySecret, other.AccessKeySecret }));

        // Rotation: one commit makes the new credential and revokes both old ones of node-1; the
        // old secret is refused on the very next call, well within the key cache's lifetime.
        var rotation = _server.Hosts.RotateCredential("node-1");
        Assert.Equal(new[] { first.AccessKeyId, unused.AccessKeyId }.Order(StringComparer.Ordinal), rotation.Revoked.Order(StringComparer.Ordinal));
        await ApiAssert.FailsAsync(() => Policy(agent), EcsErrorCodes.InvalidAccessKeyIdNotFound, 404);
        var rotated = ClientOf(rotation.Credential);
        Assert.Single((await Policy(rotated)).Items("HostInterfaces", "HostInterface"));
        Assert.Equal([rotation.Credential.AccessKeyId], _server.Hosts.ListCredentials("node-1").Select(c => c.AccessKeyId));
        // Another host's credential and the tenant's key are untouched.
        Assert.Empty((await Policy(ClientOf(other))).Items("HostInterfaces", "HostInterface"));
        Assert.Single((await _tenant.Api.CallAsync("DescribeHostInterfaces", new { RegionId = Region })).Items("HostInterfaces", "HostInterface"));

        // Revoking one credential: the same, at once.
        var revoked = _server.Hosts.RevokeCredential(rotation.Credential.AccessKeyId);
        Assert.Equal("node-1", revoked.HostName);
        await ApiAssert.FailsAsync(() => Policy(rotated), EcsErrorCodes.InvalidAccessKeyIdNotFound, 404);
        Assert.Empty(_server.Hosts.ListCredentials("node-1"));
    }

    [Fact]
    public void TheOperatorsBadInput_IsRefusedWithTheCataloguedCode_AndChangesNothing()
    {
        var tenantKey = _server.NewAccount("other");
        var before = _server.Store.CurrentRevision();
        var missing = Assert.Throws<EcsException>(() => _server.Hosts.RevokeCredential("LTAInotacredential000000"));
        Assert.Equal((EcsErrorCodes.InvalidAccessKeyIdNotFound, 404), (missing.Error.Code, missing.Error.HttpStatus));
        Assert.Contains("palisade host credential list", missing.Error.Message, StringComparison.Ordinal);
        // An account's AccessKey is not a host credential: the operator's revoke does not touch it.
        Assert.Equal(EcsErrorCodes.InvalidAccessKeyIdNotFound, Assert.Throws<EcsException>(() => _server.Hosts.RevokeCredential(tenantKey.AccessKeyId)).Error.Code);
        Assert.Equal(EcsErrorCodes.InvalidHostNameNotDeclared, Assert.Throws<EcsException>(() => _server.Hosts.RotateCredential("node-9")).Error.Code);
        Assert.Equal(EcsErrorCodes.InvalidHostNameMalformed, Assert.Throws<EcsException>(() => _server.Hosts.ListCredentials("node 1")).Error.Code);
        Assert.Equal(before, _server.Store.CurrentRevision());
        Assert.Empty(_server.Hosts.ListCredentials("node-9"));
    }

    /// <summary>An agent parked on its host's feed when its credential is revoked is woken by the revocation and refused.</summary>
    [Fact]
    public async Task ALongPollParkedWithARevokedCredential_EndsRefused_AtOnce()
    {
        var credential = _server.Hosts.CreateCredential("node-1");
        var agent = ClientOf(credential);
        var revision = (await Policy(agent)).GetProperty("Revision").GetInt64();
        var waiting = agent.CallAsync("DescribeChanges", new { AfterRevision = revision.ToString(CultureInfo.InvariantCulture), WaitSeconds = 50 });
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        var started = System.Diagnostics.Stopwatch.StartNew();
        _server.Hosts.RevokeCredential(credential.AccessKeyId);
        await ApiAssert.FailsAsync(() => waiting.WaitAsync(TimeSpan.FromSeconds(40)), EcsErrorCodes.InvalidAccessKeyIdNotFound, 404);
        // Woken by the revocation's commit, not by the end of the wait.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(40), $"the poll ended after {started.Elapsed}");
    }

    /// <summary>The agent's client tells a refused credential from an unreachable server: only the operator can mend it.</summary>
    [Fact]
    public async Task TheAgentsClient_SaysItsCredentialIsRefused()
    {
        var credential = _server.Hosts.CreateCredential("node-1");
        var plane = new EcsControlPlane(ClientOf(credential), Region);
        Assert.Single((await plane.FetchAsync("node-1", CancellationToken.None)).Parts);
        _server.Hosts.RotateCredential("node-1");
        var refused = await Assert.ThrowsAsync<HostCredentialRefusedException>(() => plane.FetchAsync("node-1", CancellationToken.None));
        Assert.Contains("InvalidAccessKeyId.NotFound", refused.Message, StringComparison.Ordinal);
        Assert.Contains("revoked or rotated", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<HostCredentialRefusedException>(() => plane.WaitForChangeAsync("node-1", 0, TimeSpan.FromSeconds(1), CancellationToken.None));
    }
}
