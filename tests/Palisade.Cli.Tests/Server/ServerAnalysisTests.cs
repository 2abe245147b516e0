using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Domain.State;
using Palisade.Storage.Accounts;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// The analysis commands without <c>--state</c>, against a real server holding an imported state:
/// a golden transcript, and each answer the same as the offline command gives on the server's export.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ServerAnalysisTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string State = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "SecurityGroupName": "web", "Description": "front end", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0", "Description": "http"},
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Priority": 5}]}},
           {"SecurityGroupId": "sg-redis", "SecurityGroupName": "redis", "Description": "cache", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-redis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6380", "SourceGroupId": "sg-web", "Description": "from web"},
             {"SecurityGroupRuleId": "sgr-noredis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6380/6380", "SourceCidrIp": "10.0.0.0/8", "Policy": "Drop"},
             {"SecurityGroupRuleId": "sgr-ping", "Direction": "ingress", "IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "10.0.0.0/8"}]}},
           {"SecurityGroupId": "sg-ops", "SecurityGroupName": "ops", "VpcId": "vpc-a"}],
         "Instances": [
           {"InstanceId": "i-web1", "InstanceName": "web-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-redis1", "InstanceName": "redis-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.20"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}},
           {"InstanceId": "i-batch1", "InstanceName": "batch-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.3.30"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}}],
         "PrefixLists": [
           {"PrefixListId": "pl-oldvpn", "PrefixListName": "old-vpn", "AddressFamily": "IPv4", "MaxEntries": 4, "Entries": {"Entry": [{"Cidr": "192.0.2.0/24"}]}}]}
        """;

    [Fact]
    public void TheAnalysis_AgainstAServer_IsGolden_AndAnswersAsOnItsExport()
    {
        var file = Path.Combine(_server.Data, "state.json");
        File.WriteAllText(file, State);
        var imported = _server.Run("import", "--state", file, "--output", "json");
        Assert.True(imported.ExitCode == 0, imported.Error);
        using var ids = JsonDocument.Parse(imported.Output);
        var id = ids.RootElement.GetProperty("Ids").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

        // The export of the server is the local store's state: the local export (StateFileWriter)
        // is the server's read and written again, byte for byte; the server's answer adds only
        // ECS's descriptive fields.
        var exported = Path.Combine(_server.Data, "exported.json");
        Assert.Equal(0, _server.Run("export", "--out", exported).ExitCode);
        var local = Path.Combine(_server.Data, "local.json");
        Assert.Equal(0, CliTester.Run("export", "--account", "cli", "--data", _server.Data, "--out", local).ExitCode);
        Assert.Equal(File.ReadAllText(local), StateFileWriter.Write(StateFileReader.Read(File.ReadAllText(exported))) + "\n");
        var redisRule = StateFileReader.Read(File.ReadAllText(exported)).FindGroup(Domain.Identifiers.SecurityGroupId.Parse(id["sg-redis"]))!
            .Rules.Single(r => r.Ports.From == 6379).Id.Value;

        // Each question against the server, and the same on the export: the same answer. The golden
        // transcript holds those whose answer has one order; the others list instances and groups in
        // ID order, and the IDs are new on each run.
        string[][] golden =
        [
            ["eval", "--src", id["i-web1"], "--dst", id["i-redis1"], "--protocol", "tcp", "--port", "6379"],
            ["eval", "--src", id["i-web1"], "--dst", id["i-redis1"], "--protocol", "tcp", "--port", "6380"],
            ["eval", "--src", "10.9.9.9", "--dst", id["i-web1"], "--protocol", "tcp", "--port", "22", "--json"],
            ["reach", "--from", id["i-batch1"], "--protocol", "tcp"],
            ["whatif", "modify", "--rule", redisRule, "--ports", "6379/6379"],
            ["whatif", "delete-group", "--group", id["sg-ops"]],
            ["whatif", "authorize", "--group", id["sg-web"], "--protocol", "tcp", "--ports", "8080/8080", "--peer", "10.0.2.20/32"],
        ];
        string[][] compared =
        [
            // The same-priority conflict of sg-redis is reported on the first of its members in the
            // state's order, which is ID order: which of the two that is changes with the new IDs.
            ["audit"],
            ["audit", "--json"],
            ["reach", "--to", id["i-redis1"]],
            ["reach", "--from", id["sg-web"], "--json"],
            ["reach", "--matrix"],
            ["reach", "--matrix", "--by", "instance", "--protocol", "tcp"],
            ["whatif", "revoke", "--rule", redisRule],
            ["whatif", "authorize", "--group", id["sg-redis"], "--protocol", "tcp", "--ports", "6390/6391", "--peer", id["sg-web"]],
            ["whatif", "join", "--instance", id["i-batch1"], "--group", id["sg-web"]],
            ["whatif", "policy", "--group", id["sg-redis"], "--inner-access", "accept", "--json"],
            ["whatif", "prefix-list", "--list", id["pl-oldvpn"], "--add", "10.0.1.0/24", "--remove", "192.0.2.0/24"],
        ];
        foreach (var question in golden.Concat(compared))
        {
            var online = golden.Contains(question) ? _server.Run(question) : _server.RunUnrecorded(question);
            var offline = CliTester.Run([.. question, "--state", exported]);
            Assert.True((offline.ExitCode, offline.Output, offline.Error) == (online.ExitCode, online.Output, online.Error),
                $"{string.Join(' ', question)}:\nserver ({online.ExitCode}):\n{online.Output}{online.Error}\nexport ({offline.ExitCode}):\n{offline.Output}{offline.Error}");
        }

        // The audit over the server: sg-web's SSH is open to the internet in its rules although i-web1 has no
        // public address (risky-port-open), and sg-redis's accept from sg-web overlaps its drop from
        // 10.0.0.0/8 at one priority through i-web1's address (same-priority-conflict).
        var audit = _server.RunUnrecorded("audit");
        // Names beside IDs, as the offline audit shows them.
        Assert.Contains($"risky-port-open                web-1 ({id["i-web1"]})  web ({id["sg-web"]}) rule ", audit.Output, StringComparison.Ordinal);
        Assert.Contains($"same-priority-conflict         ", audit.Output, StringComparison.Ordinal);
        Assert.Contains($" redis ({id["sg-redis"]}) rule {redisRule}\n", audit.Output, StringComparison.Ordinal);
        // A prefix list no rule names (unused-prefix-list), by its name as offline (the server's DescribePrefixLists).
        Assert.Contains($"unused-prefix-list             old-vpn ({id["pl-oldvpn"]})\n", audit.Output, StringComparison.Ordinal);

        // What only a server says: it checks the change as the action would.
        Assert.Equal(2, _server.Run("whatif", "leave", "--instance", id["i-web1"], "--group", id["sg-web"]).ExitCode);
        Assert.Equal(2, _server.Run("whatif", "join", "--instance", id["i-web1"], "--group", "sg-bp1nothere000000000").ExitCode);
        Assert.Equal(2, _server.Run("whatif", "revoke", "--rule", redisRule, "--ipv6").ExitCode);
        Assert.Equal(2, _server.Run("eval", "--src", "i-bp1nothere000000000", "--dst", id["i-web1"], "--protocol", "tcp", "--port", "22").ExitCode);
        Assert.Equal(2, _server.Run("reach", "--to", id["i-web1"], "--region", "cn-beijing").ExitCode);
        Assert.Equal(4, _server.Run("audit", "--server", "http://127.0.0.1:1", "--credentials", _server.Credentials).ExitCode);
        Golden.Assert("server/analysis.txt", _server.Transcript());
    }

    [Fact]
    public void WithoutAStateOrAServer_TheAnalysisSaysWhatIsMissing()
    {
        var outcome = CliTester.Run("audit");
        Assert.Equal((ExitCodes.BadInput, "", "error: no state: give --state FILE, or a server (--server URL, $PALISADE_SERVER or 'palisade configure')\n"), (outcome.ExitCode, outcome.Output, outcome.Error));
        var export = CliTester.Run("export", "--out", Path.Combine(_server.Data, "x.json"));
        Assert.Equal(ExitCodes.BadInput, export.ExitCode);
        Assert.StartsWith("error: no source: give --server URL", export.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AKey_ManagesItsOwnAccountsKeys_OverTheServer_IsGolden()
    {
        var accounts = _server.App.Services.GetRequiredService<AccountService>();
        var other = accounts.CreateAccessKey(accounts.CreateAccount("other").AccountId);
        _server.Run("accesskey", "list");
        var created = _server.Run("accesskey", "create", "--read-only");
        var fields = created.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
        var reader = Path.Combine(_server.Data, "reader-credentials");
        File.WriteAllText(reader, created.Output);
        var newKey = fields["access_key_id"];
        _server.Run("accesskey", "list", "--output", "json");
        _server.Run("accesskey", "disable", "--id", newKey);
        _server.Run("accesskey", "list");
        _server.Run("accesskey", "enable", "--id", newKey);
        // The read-only key reads (once enabled again) and cannot change keys.
        _server.Run("accesskey", "list", "--server", _server.Url, "--credentials", reader);
        _server.Run("accesskey", "create", "--server", _server.Url, "--credentials", reader);
        // Mistakes: the signing key itself, another account's key, two places at once, no account for the local store.
        _server.Run("accesskey", "delete", "--id", _server.Key.AccessKeyId);
        _server.Run("accesskey", "disable", "--id", _server.Key.AccessKeyId);
        _server.Run("accesskey", "disable", "--id", other.AccessKeyId);
        _server.Run("accesskey", "list", "--data", _server.Data, "--server", _server.Url);
        _server.Run("accesskey", "create", "--data", _server.Data);
        _server.Run("accesskey", "delete", "--id", newKey);
        _server.Run("accesskey", "list");
        // The operator's view of the same account, from the data directory.
        _server.Run("accesskey", "list", "--account", "cli", "--data", _server.Data);
        Assert.Equal("Active", accounts.ListAccessKeys(other.AccountId).Single().Status.ToString());
        // Keys made in one test may be a second apart or not: every time is one placeholder.
        Golden.Assert("server/accesskeys.txt", System.Text.RegularExpressions.Regex.Replace(_server.Transcript(), @"<time\d+>", "<time>"));
    }

    [Fact]
    public void Help_OfTheCommandsWithAServerMode_IsGolden()
    {
        foreach (var command in new[] { "reach", "audit", "whatif", "whatif leave", "export", "accesskey", "accesskey list", "accesskey disable" })
            Golden.Assert($"help/{command.Replace(' ', '-')}.txt", CliTester.Run([.. command.Split(' '), "--help"]).Output);
    }
}

/// <summary>Tests that read or set process-wide environment variables (PALISADE_CONFIG_FILE, PALISADE_SERVER) run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class EnvironmentCollection
{
    public const string Name = "environment";
}
