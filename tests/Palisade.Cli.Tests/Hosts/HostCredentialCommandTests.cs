using System.Text.RegularExpressions;
using Palisade.Cli.Tests.Server;
using Palisade.Client;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Hosts;

/// <summary>
/// The operator's <c>palisade host credential list|rotate|revoke</c> on the data directory of a
/// running server (issue 18): IDs, hosts, creation and last use (never a secret); a rotated-out or
/// revoked credential is refused by the server on its next call.
/// </summary>
public sealed class HostCredentialCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static (string Id, string Secret) Read(string file)
    {
        var lines = File.ReadAllLines(file).Where(l => l.Contains('=', StringComparison.Ordinal)).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
        return (lines["access_key_id"], lines["access_key_secret"]);
    }

    private async Task<System.Text.Json.JsonElement> AgentCall((string Id, string Secret) credential)
    {
        using var http = new HttpClient { BaseAddress = new Uri(_server.Url) };
        return await new EcsClient(http, new ClientCredentials(credential.Id, credential.Secret)).CallAsync("DescribeHostPolicy", new { RegionId = "cn-hangzhou" });
    }

    [Fact]
    public async Task Credentials_AreListedRotatedAndRevoked_OnTheStore_IsGolden()
    {
        var data = _server.Data;
        var first = Path.Combine(data, "node-1.credentials");
        var second = Path.Combine(data, "node-1.credentials.new");
        _server.Run("host", "declare", "--host", "node-1", "--interfaces", "vnet*", "--addresses", "172.16.0.0/12", "--data", data);
        _server.Run("host", "credential", "create", "--host", "node-1", "--out", first, "--data", data);
        _server.Run("host", "credential", "list", "--data", data);
        var old = Read(first);
        await AgentCall(old);
        // Used: its last use is shown (to the minute, once per minute per server node).
        var listed = _server.Run("host", "credential", "list", "--host", "node-1", "--data", data);
        Assert.DoesNotContain(old.Secret, listed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(" -\n", listed.Output, StringComparison.Ordinal);

        _server.Run("host", "credential", "rotate", "--host", "node-1", "--out", second, "--data", data);
        var refused = await Assert.ThrowsAsync<EcsApiException>(() => AgentCall(old));
        Assert.Equal("InvalidAccessKeyId.NotFound", refused.Code);
        var rotated = Read(second);
        await AgentCall(rotated);
        // The file of a new credential is never one that exists: nothing is made or revoked then.
        _server.Run("host", "credential", "rotate", "--host", "node-1", "--out", second, "--data", data);
        await AgentCall(rotated);
        _server.Run("host", "credential", "rotate", "--host", "node-9", "--out", Path.Combine(data, "node-9.credentials"), "--data", data);
        Assert.False(File.Exists(Path.Combine(data, "node-9.credentials")));
        _server.Run("host", "credential", "list", "--data", data);

        _server.Run("host", "credential", "revoke", "--id", rotated.Id, "--data", data);
        Assert.Equal("InvalidAccessKeyId.NotFound", (await Assert.ThrowsAsync<EcsApiException>(() => AgentCall(rotated))).Code);
        _server.Run("host", "credential", "revoke", "--id", rotated.Id, "--data", data);
        _server.Run("host", "credential", "list", "--host", "node-1", "--data", data);
        // Credentials made within one test may be a second apart or not: every time is one placeholder.
        Golden.Assert("hosts/credentials.txt", Regex.Replace(_server.Transcript(), @"<time\d+>", "<time>"));
    }

    [Fact]
    public void Help_OfTheCredentialCommands_IsGolden()
    {
        foreach (var command in new[] { "host credential", "host credential list", "host credential rotate", "host credential revoke" })
            Golden.Assert($"help/{command.Replace(' ', '-')}.txt", CliTester.Run([.. command.Split(' '), "--help"]).Output);
    }
}
