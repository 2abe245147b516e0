using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;
using Palisade.TestKit;
using Palisade.Domain.Ecs;

namespace Palisade.Cli.Tests.Resources;

/// <summary>
/// The resource commands against a real server on 127.0.0.1: a session of an operator, its
/// transcript (commands, exit codes, tables, JSON, errors) compared with a golden file after the
/// generated IDs are numbered in order of appearance.
/// </summary>
[Collection(Server.EnvironmentCollection.Name)]
public sealed partial class ResourceCommandTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-cli-" + Guid.NewGuid().ToString("N"));
    private WebApplication _server = null!;
    private string _url = "";
    private string _credentials = "";
    private EcsClient _api = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "master.key"), Convert.ToBase64String(new byte[32]));
        _server = PalisadeServer.Build(new ServeSettings { Urls = "http://127.0.0.1:0", DataDirectory = _data });
        await _server.StartAsync();
        _url = _server.Urls.First();
        var accounts = _server.Services.GetRequiredService<AccountService>();
        var key = accounts.CreateAccessKey(accounts.CreateAccount("cli").AccountId);
        _credentials = Path.Combine(_data, "cli-credentials");
        File.WriteAllText(_credentials, $"access_key_id={key.AccessKeyId}\naccess_key_secret={key.AccessKeySecret}\n");
        _api = new EcsClient(new HttpClient { BaseAddress = new Uri(_url) }, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
    }

    public async Task DisposeAsync()
    {
        await _server.StopAsync();
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task AnOperatorsSession_IsGolden()
    {
        var transcript = new StringBuilder();
        var ids = new Dictionary<string, string>();
        string Run(params string[] args)
        {
            var full = args.Concat(["--server", _url, "--credentials", _credentials]).ToArray();
            var outcome = CliTester.Run(full);
            transcript.Append("$ palisade ").AppendJoin(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a)).Append('\n');
            transcript.Append(outcome.Output).Append(outcome.Error).Append(System.Globalization.CultureInfo.InvariantCulture, $"[exit {outcome.ExitCode}]\n\n");
            return outcome.Output.Trim();
        }

        var vpc = Run("vpc", "create", "--cidr", "192.168.0.0/16", "--name", "prod");
        var vsw = Run("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "192.168.1.0/24", "--name", "apps");
        Run("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "10.0.0.0/24");
        Run("vpc", "list");
        Run("vswitch", "list", "--vpc", vpc);
        var web = Run("sg", "create", "--name", "web", "--vpc", vpc, "--description", "web tier");
        Run("tag", "add", web, "--type", "securitygroup", "--tag", "owner=web-team", "--tag", "env=prod");
        Run("tag", "remove", web, "--type", "securitygroup", "--key", "env");
        Run("tag", "list", "--type", "securitygroup", "--resource", web);
        var db = Run("sg", "create", "--name", "db", "--vpc", vpc);
        Run("sg", "authorize", web, "--rule", "tcp 443 0.0.0.0/0 desc https from anywhere", "--rule", "tcp 22 192.168.0.0/16 priority 10", "--rule", "tcp 22 0.0.0.0/0 drop priority 10");
        Run("sg", "authorize", db, "--rule", $"tcp 3306 {web}", "--rule", "all -1 ::/0 drop priority 100");
        Run("sg", "authorize", web, "--egress", "--rule", "udp 53 192.168.0.2/32");
        Run("sg", "authorize", web, "--rule", "tcp 70000 0.0.0.0/0");
        Run("sg", "authorize", web, "--rule", "tcp 22");
        Run("sg", "show", web);
        Run("sg", "list");
        Run("sg", "policy", db, "--inner-access", "drop");
        Run("sg", "show", db, "--output", "json");
        var instance = Run("instance", "run", "--group", web, "--vswitch", vsw, "--name", "web-1", "--private-ip", "192.168.1.10");
        Run("instance", "join", instance, "--group", db);
        Run("instance", "list", "--group", db);
        Run("instance", "leave", instance, "--group", db, "--yes");
        Run("instance", "leave", instance, "--group", web, "--yes");
        Run("sg", "delete", web);
        var rule = (await _api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = "cn-hangzhou", SecurityGroupId = web, Direction = "egress" }))
            .GetProperty("Permissions").GetProperty("Permission")[0].GetProperty("SecurityGroupRuleId").GetString()!;
        Run("sg", "revoke", web, "--egress", "--rule-id", rule, "--yes");
        Run("sg", "revoke", web);
        Run("instance", "show", "i-bp1doesnotexist0000");

        Golden.Assert("resources/session.txt", Numbered(transcript.ToString()));
    }

    [Fact]
    public void Help_OfTheResourceCommands_IsGolden()
    {
        Golden.Assert("help/sg.txt", CliTester.Run("sg", "--help").Output);
        Golden.Assert("help/sg-authorize.txt", CliTester.Run("sg", "authorize", "--help").Output);
        Golden.Assert("help/instance-leave.txt", CliTester.Run("instance", "leave", "--help").Output);
        Golden.Assert("help/configure.txt", CliTester.Run("configure", "--help").Output);
        foreach (var command in new[] { "sg modify-rule", "sg references", "instance", "instance modify", "region list", "zone list" })
            Golden.Assert($"help/{command.Replace(' ', '-')}.txt", CliTester.Run([.. command.Split(' '), "--help"]).Output);
    }

    [Fact]
    public void Configure_WritesAProfile_ThatTheCommandsUse()
    {
        var file = Path.Combine(_data, "config.json");
        Environment.SetEnvironmentVariable("PALISADE_CONFIG_FILE", file);
        try
        {
            var key = File.ReadAllLines(_credentials).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            // Issue 19: the secret never goes on the command line; it is read from stdin (or a prompt).
            var onCommandLine = CliTester.Run("configure", "--profile", "lab", "--endpoint", _url, "--access-key-id", key["access_key_id"], "--access-key-secret", key["access_key_secret"]);
            Assert.Equal(ExitCodes.BadInput, onCommandLine.ExitCode);
            Assert.Contains("shell history", onCommandLine.Error, StringComparison.Ordinal);
            Assert.False(File.Exists(file));
            var saved = CliTester.RunWithInput(key["access_key_secret"] + "\n", "configure", "--profile", "lab", "--endpoint", _url, "--access-key-id", key["access_key_id"]);
            Assert.Equal(0, saved.ExitCode);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var listed = CliTester.Run("sg", "list");
            Assert.True(listed.ExitCode == 0, listed.Error);
            Assert.StartsWith("ID", listed.Output, StringComparison.Ordinal);
            Assert.Equal(2, CliTester.Run("sg", "list", "--profile", "missing").ExitCode);
            Assert.Equal(2, CliTester.RunWithInput("b\n", "configure", "--endpoint", "ftp://x", "--access-key-id", "a").ExitCode);
            Assert.Equal(2, CliTester.RunWithInput("", "configure", "--endpoint", _url, "--access-key-id", "a").ExitCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PALISADE_CONFIG_FILE", null);
        }
    }

    private const string ImportedState = """
        {"RegionId": "cn-hangzhou",
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "SecurityGroupName": "web", "Description": "web tier", "VpcId": "vpc-a", "InnerAccessPolicy": "Accept",
            "Tags": {"Tag": [{"TagKey": "owner", "TagValue": "web-team"}]},
            "Permissions": {"Permission": [
              {"SecurityGroupRuleId": "sgr-w1", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0", "Priority": 1, "Description": "https"},
              {"SecurityGroupRuleId": "sgr-w2", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceGroupId": "sg-ops", "Priority": 5},
              {"SecurityGroupRuleId": "sgr-w3", "Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1", "Ipv6SourceCidrIp": "::/0", "Policy": "Drop", "Priority": 100},
              {"SecurityGroupRuleId": "sgr-w4", "Direction": "egress", "IpProtocol": "TCP", "PortRange": "5432/5432", "DestGroupId": "sg-db", "Priority": 1},
              {"SecurityGroupRuleId": "sgr-w5", "Direction": "ingress", "IpProtocol": "UDP", "PortRange": "53/53", "SourceCidrIp": "10.0.0.0/8", "SourcePortRange": "1024/65535", "DestCidrIp": "192.168.1.0/24", "Priority": 10}]}},
           {"SecurityGroupId": "sg-db", "SecurityGroupName": "db", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop",
            "Permissions": {"Permission": [
              {"SecurityGroupRuleId": "sgr-d1", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceGroupId": "sg-web", "Priority": 1}]}},
           {"SecurityGroupId": "sg-ops", "SecurityGroupName": "ops", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": []}},
           {"SecurityGroupId": "sg-lab", "SecurityGroupName": "lab", "VpcId": "vpc-b", "SecurityGroupType": "enterprise", "Permissions": {"Permission": [
              {"SecurityGroupRuleId": "sgr-l1", "Direction": "ingress", "IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "172.16.0.0/12", "Priority": 1}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "InstanceName": "web-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a1", "PrivateIpAddress": {"IpAddress": ["192.168.1.10"]}},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-web", "sg-ops"]}, "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}},
           {"InstanceId": "i-web2", "InstanceName": "web-2", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a1", "PrivateIpAddress": {"IpAddress": ["192.168.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-db1", "InstanceName": "db-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a2", "PrivateIpAddress": {"IpAddress": ["192.168.2.20"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}},
           {"InstanceId": "i-ops1", "InstanceName": "ops-1", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a2", "PrivateIpAddress": {"IpAddress": ["192.168.2.30"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-ops"]}},
           {"InstanceId": "i-lab1", "InstanceName": "lab-1", "VpcAttributes": {"VpcId": "vpc-b", "VSwitchId": "vsw-b1", "PrivateIpAddress": {"IpAddress": ["172.20.5.7"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-lab"]}}]}
        """;

    /// <summary>
    /// Issue 6: a state file imported into a server and exported again is the same configuration
    /// under new IDs, and every analysis answers the same: the reachability matrix of all instances,
    /// renamed back, is equal.
    /// </summary>
    [Fact]
    public async Task Import_ThenExport_IsTheSameConfiguration_UnderNewIds()
    {
        var file = Path.Combine(_data, "imported.json");
        File.WriteAllText(file, ImportedState);
        var imported = CliTester.Run("import", "--state", file, "--server", _url, "--credentials", _credentials, "--output", "json");
        Assert.True(imported.ExitCode == 0, imported.Error + imported.Output);
        using var answer = System.Text.Json.JsonDocument.Parse(imported.Output);
        var ids = answer.RootElement.GetProperty("Ids").EnumerateObject().ToDictionary(p => p.Value.GetString()!, p => p.Name);

        var store = _server.Services.GetRequiredService<Palisade.Storage.IStore>();
        var account = store.Read(s => s.ListAccounts()).Single(a => a.Name == "cli").AccountId;
        var exported = Path.Combine(_data, "exported.json");
        File.WriteAllText(exported, store.Read(s => Domain.State.StateFileWriter.Write(Palisade.Storage.State.StoredState.Load(s, account, "cn-hangzhou"))));
        var original = Domain.State.StateFileReader.Read(ImportedState);
        var back = Domain.State.StateFileReader.Read(File.ReadAllText(exported));
        string Old(string id) => ids.TryGetValue(id, out var old) ? old : id;

        foreach (var g in original.Groups)
        {
            var copy = back.Groups.Single(b => Old(b.Id.Value) == g.Id.Value);
            Assert.Equal((g.Name, g.Description, g.Type, g.EffectiveInnerAccessPolicy), (copy.Name, copy.Description, copy.Type, copy.EffectiveInnerAccessPolicy));
            Assert.Equal(g.Tags.OrderBy(t => t.Key), copy.Tags.OrderBy(t => t.Key));
            static string Rule(Domain.Rules.SecurityGroupRule r, Func<string, string> name) =>
                $"{r.Direction} {r.Protocol} {r.Ports} {r.SourcePorts} {r.Policy} {r.Priority.Value} {r.NicType} {(r.Peer is Domain.Rules.RulePeer.Group p ? name(p.GroupId.Value) : r.Peer.ToString())} {r.LocalCidr} {r.Description}";
            Assert.Equal(g.Rules.Select(r => Rule(r, x => x)).Order(), copy.Rules.Select(r => Rule(r, Old)).Order());
        }
        foreach (var i in original.Instances)
        {
            var copy = back.Instances.Single(b => Old(b.Id.Value) == i.Id.Value);
            Assert.Equal((i.Name, i.PrivateAddresses[0], string.Join(",", i.SecurityGroupIds)), (copy.Name, copy.PrivateAddresses[0], string.Join(",", copy.SecurityGroupIds.Select(x => Old(x.Value)))));
        }
        // The matrix lists pairs in ID order; renamed back, the same pairs with the same answers.
        var before = CliTester.Run("reach", "--state", file, "--matrix", "--by", "instance");
        var after = CliTester.Run("reach", "--state", exported, "--matrix", "--by", "instance");
        Assert.True(before.ExitCode == 0, before.Error);
        var renamed = ids.OrderByDescending(p => p.Key.Length).Aggregate(after.Output, (text, p) => text.Replace(p.Key, p.Value, StringComparison.Ordinal));
        static string Lines(string text) => string.Join("\n", text.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Order(StringComparer.Ordinal));
        Assert.Equal(Lines(before.Output), Lines(renamed));
    }

    /// <summary>Issue 16: a state file's prefix lists and port-range lists are created first, and the rules name the new IDs.</summary>
    [Fact]
    public async Task Import_CarriesPrefixListsAndPortRangeLists()
    {
        var file = Path.Combine(_data, "lists.json");
        File.WriteAllText(file, ImportedState.Replace("\"IpProtocol\": \"ICMP\", \"PortRange\": \"-1/-1\", \"SourceCidrIp\": \"172.16.0.0/12\"", "\"IpProtocol\": \"TCP\", \"PortRangeListId\": \"prl-x\", \"SourcePrefixListId\": \"pl-x\"", StringComparison.Ordinal)
            .Replace("\"Instances\": [", "\"PrefixLists\": [{\"PrefixListId\": \"pl-x\", \"PrefixListName\": \"office\", \"AddressFamily\": \"IPv4\", \"MaxEntries\": 4, \"Entries\": {\"Entry\": [{\"Cidr\": \"10.0.0.0/8\"}]}}], "
                + "\"PortRangeLists\": [{\"PortRangeListId\": \"prl-x\", \"PortRangeListName\": \"a b\", \"Entries\": {\"Entry\": [{\"PortRange\": \"22/22\"}, {\"PortRange\": \"80/81\"}]}}], \"Instances\": [", StringComparison.Ordinal));
        var imported = CliTester.Run("import", "--state", file, "--server", _url, "--credentials", _credentials, "--output", "json");
        Assert.True(imported.ExitCode == 0, imported.Error + imported.Output);
        using var answer = System.Text.Json.JsonDocument.Parse(imported.Output);
        var ids = answer.RootElement.GetProperty("Ids");
        var pl = ids.GetProperty("pl-x").GetString()!;
        var prl = ids.GetProperty("prl-x").GetString()!;
        var attributes = await _api.CallAsync("DescribePrefixListAttributes", new { RegionId = "cn-hangzhou", PrefixListId = pl });
        Assert.Equal(("office", 4, "10.0.0.0/8"), (attributes.Str("PrefixListName"), attributes.GetProperty("MaxEntries").GetInt32(), attributes.Items("Entries", "Entry").Single().Str("Cidr")));
        var ports = await _api.CallAsync("DescribePortRangeLists", new { RegionId = "cn-hangzhou" });
        var list = ports.GetProperty("PortRangeLists").EnumerateArray().Single();
        // "a b" is not a name the server takes: the list is named by its old ID.
        Assert.Equal((prl, "prl-x", 2), (list.Str("PortRangeListId"), list.Str("PortRangeListName"), list.GetProperty("MaxEntries").GetInt32()));
        var lab = ids.GetProperty("sg-lab").GetString()!;
        var rule = (await _api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = "cn-hangzhou", SecurityGroupId = lab })).Items("Permissions", "Permission").Single();
        Assert.Equal((pl, prl), (rule.Str("SourcePrefixListId"), rule.Str("PortRangeListId")));
    }

    [Fact]
    public async Task Import_ThatFails_LeavesNothingBehind()
    {
        var before = await _api.CallAsync("DescribeSecurityGroups", new { RegionId = "cn-hangzhou" });
        var file = Path.Combine(_data, "prefix.json");
        // 201 entries: a state file may hold them, a server's prefix list may not (MaxEntries 1–200).
        var entries = string.Join(", ", Enumerable.Range(0, 201).Select(i => $"{{\"Cidr\": \"10.{i}.0.0/16\"}}"));
        File.WriteAllText(file, ImportedState.Replace("\"SourceCidrIp\": \"172.16.0.0/12\"", "\"SourcePrefixListId\": \"pl-x\"", StringComparison.Ordinal)
            .Replace("\"Instances\": [", $"\"PrefixLists\": [{{\"PrefixListId\": \"pl-x\", \"AddressFamily\": \"IPv4\", \"Entries\": {{\"Entry\": [{entries}]}}}}], \"Instances\": [", StringComparison.Ordinal));
        var outcome = CliTester.Run("import", "--state", file, "--server", _url, "--credentials", _credentials);
        Assert.True(outcome.ExitCode == 2, outcome.Error + outcome.Output);
        Assert.Contains("MaxEntries", outcome.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("could not delete", outcome.Error, StringComparison.Ordinal);
        var after = await _api.CallAsync("DescribeSecurityGroups", new { RegionId = "cn-hangzhou" });
        Assert.Equal(before.GetProperty("TotalCount").GetInt32(), after.GetProperty("TotalCount").GetInt32());
        var vpcs = await _api.CallAsync("DescribeVpcs", new { RegionId = "cn-hangzhou" }, ApiVersions.Vpc);
        Assert.Equal(0, vpcs.GetProperty("TotalCount").GetInt32());
    }

    /// <summary>Generated IDs, request IDs and times become numbered placeholders, in order of appearance.</summary>
    private string Numbered(string text)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        text = text.Replace(_url, "URL", StringComparison.Ordinal).Replace(_credentials, "CREDENTIALS", StringComparison.Ordinal);
        return GeneratedId().Replace(text, m =>
        {
            if (m.Value.Contains("doesnotexist", StringComparison.Ordinal))
                return m.Value;
            if (!seen.TryGetValue(m.Value, out var name))
            {
                var kind = m.Groups["kind"].Success ? m.Groups["kind"].Value : m.Groups["guid"].Success ? "request" : "time";
                name = $"<{kind}{seen.Count(s => s.Value.StartsWith($"<{kind}", StringComparison.Ordinal)) + 1}>";
                seen[m.Value] = name;
            }
            return name;
        });
    }

    [GeneratedRegex(@"\b(?<kind>sg|sgr|i|vpc|vsw|pl|prl)-[a-z0-9]{10,}\b|\b(?<guid>[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})\b|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z")]
    private static partial Regex GeneratedId();
}
