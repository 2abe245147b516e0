using System.Text;
using System.Text.Json.Nodes;
using Palisade.Cli.Pull;
using Palisade.Cli.Tests.Server;
using Palisade.Domain.State;

namespace Palisade.Cli.Tests.Pull;

/// <summary>
/// <c>palisade pull</c> against a real server: an account larger than one page of everything it
/// reads, pulled through the standard API alone (the server's own request log says which actions
/// were called), answers every analysis exactly as the server's export does.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class PullCommandTests : IAsyncLifetime
{
    private readonly RequestLog _requests = new();
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync(_requests);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>24 VPC groups (one with 30 rules), a classic group with rules of both NIC types, 25 instances: more than a page of 10 of each.</summary>
    private static string LargeAccount()
    {
        var groups = new JsonArray();
        for (var g = 0; g < 24; g++)
        {
            var rules = new JsonArray();
            var count = g == 0 ? 30 : 2;
            for (var r = 0; r < count; r++)
                rules.Add(new JsonObject
                {
                    ["Direction"] = r % 2 == 0 ? "ingress" : "egress",
                    ["IpProtocol"] = "TCP",
                    ["PortRange"] = $"{1000 + r}/{1000 + r}",
                    [r % 2 == 0 ? "SourceCidrIp" : "DestCidrIp"] = r % 5 == 0 ? "0.0.0.0/0" : "10.0.0.0/8",
                    ["Priority"] = 1 + r % 3,
                });
            if (g > 0)
                rules.Add(new JsonObject { ["Direction"] = "ingress", ["IpProtocol"] = "TCP", ["PortRange"] = "5432/5432", ["SourceGroupId"] = $"sg-g{g - 1:D2}" });
            if (g == 1)
                rules.Add(new JsonObject { ["Direction"] = "ingress", ["IpProtocol"] = "TCP", ["PortRangeListId"] = "prl-web", ["SourcePrefixListId"] = "pl-office" });
            groups.Add(new JsonObject
            {
                ["SecurityGroupId"] = $"sg-g{g:D2}", ["SecurityGroupName"] = $"tier-{g:D2}", ["VpcId"] = "vpc-a",
                ["Permissions"] = new JsonObject { ["Permission"] = rules },
            });
        }
        groups.Add(new JsonObject
        {
            ["SecurityGroupId"] = "sg-classic", ["SecurityGroupName"] = "classic",
            ["Permissions"] = new JsonObject
            {
                ["Permission"] = new JsonArray(
                    new JsonObject { ["Direction"] = "ingress", ["IpProtocol"] = "TCP", ["PortRange"] = "22/22", ["SourceCidrIp"] = "0.0.0.0/0", ["NicType"] = "internet" },
                    new JsonObject { ["Direction"] = "ingress", ["IpProtocol"] = "TCP", ["PortRange"] = "3306/3306", ["SourceCidrIp"] = "10.1.0.0/16", ["NicType"] = "intranet" }),
            },
        });
        var instances = new JsonArray();
        for (var i = 0; i < 24; i++)
            instances.Add(new JsonObject
            {
                ["InstanceId"] = $"i-n{i:D2}", ["InstanceName"] = $"node-{i:D2}",
                ["VpcAttributes"] = new JsonObject { ["VpcId"] = "vpc-a", ["VSwitchId"] = "vsw-a", ["PrivateIpAddress"] = new JsonObject { ["IpAddress"] = new JsonArray($"10.0.{i}.10") } },
                ["SecurityGroupIds"] = new JsonObject { ["SecurityGroupId"] = new JsonArray($"sg-g{i:D2}") },
            });
        instances.Add(new JsonObject
        {
            ["InstanceId"] = "i-classic", ["InstanceName"] = "old-db", ["InstanceNetworkType"] = "classic",
            ["InnerIpAddress"] = new JsonObject { ["IpAddress"] = new JsonArray("10.1.2.3") },
            ["PublicIpAddress"] = new JsonObject { ["IpAddress"] = new JsonArray("198.19.7.7") },
            ["SecurityGroupIds"] = new JsonObject { ["SecurityGroupId"] = new JsonArray("sg-classic") },
        });
        var prefixLists = new JsonArray(new JsonObject
        {
            ["PrefixListId"] = "pl-office", ["PrefixListName"] = "office", ["AddressFamily"] = "IPv4", ["MaxEntries"] = 3,
            ["Entries"] = new JsonObject { ["Entry"] = new JsonArray(new JsonObject { ["Cidr"] = "203.0.113.0/24" }, new JsonObject { ["Cidr"] = "198.51.100.0/24" }) },
        });
        var portRangeLists = new JsonArray(new JsonObject
        {
            ["PortRangeListId"] = "prl-web", ["PortRangeListName"] = "web", ["MaxEntries"] = 2,
            ["Entries"] = new JsonArray(new JsonObject { ["PortRange"] = "80/80" }, new JsonObject { ["PortRange"] = "8000/8010" }),
        });
        return new JsonObject
        {
            ["RegionId"] = "cn-hangzhou", ["SecurityGroups"] = groups, ["Instances"] = instances, ["PrefixLists"] = prefixLists, ["PortRangeLists"] = portRangeLists,
        }.ToJsonString();
    }

    [Fact]
    public void Pull_ReadsEveryPage_ThroughTheStandardApiOnly_AndAnswersAsTheExport()
    {
        var source = Path.Combine(_server.Data, "source.json");
        File.WriteAllText(source, LargeAccount());
        var imported = _server.Run("import", "--state", source);
        Assert.True(imported.ExitCode == 0, imported.Output + imported.Error);
        var exported = Path.Combine(_server.Data, "exported.json");
        Assert.Equal(0, _server.Run("export", "--out", exported).ExitCode);

        var before = _requests.Actions.Count;
        var pulled = Path.Combine(_server.Data, "pulled.json");
        var pull = _server.RunUnrecorded("pull", "--endpoint", _server.Url, "--credentials", _server.Credentials, "--region", "cn-hangzhou", "--page-size", "10", "--out", pulled);
        Assert.True(pull.ExitCode == 0, pull.Output + pull.Error);
        Assert.Equal($"cn-hangzhou: 25 security groups, 102 rules, 25 instances, 1 prefix list, 1 port-range list -> {pulled}\n", pull.Output);

        // What the server saw: standard ECS actions only, and more than one page of each list.
        var called = _requests.Actions.Skip(before).ToList();
        Assert.All(called, action => Assert.Contains(action, AccountReader.Actions));
        Assert.Equal(3, called.Count(a => a == "DescribeSecurityGroups"));   // 25 groups in pages of 10
        Assert.Equal(3, called.Count(a => a == "DescribeInstances"));        // 25 instances in pages of 10
        // sg-g00's 30 rules in pages of 10, one page for each of the 23 other VPC groups, both NIC types of the classic group.
        Assert.Equal(3 + 23 + 2, called.Count(a => a == "DescribeSecurityGroupAttribute"));
        Assert.DoesNotContain("ExportSecurityState", called);
        Assert.Equal(1, called.Count(a => a == "DescribePrefixListAttributes"));
        Assert.Equal(1, called.Count(a => a == "DescribePortRangeListEntries"));

        // The same account, read both ways.
        var fromExport = StateFileReader.Read(File.ReadAllText(exported));
        var fromPull = StateFileReader.Read(File.ReadAllText(pulled));
        Assert.Equal(Describe(fromExport), Describe(fromPull));

        // And every analysis answers the same on both files.
        foreach (var question in new[] { new[] { "audit" }, ["reach", "--matrix"], ["eval", "--src", "10.0.3.10", "--dst", "10.0.4.10", "--protocol", "tcp", "--port", "5432"] })
        {
            var onExport = CliTester.Run([.. question, "--state", exported]);
            var onPull = CliTester.Run([.. question, "--state", pulled]);
            Assert.True(onExport.ExitCode is 0 or 1 && onExport.Output.Length > 0, $"{string.Join(' ', question)}: {onExport.Error}");
            Assert.Equal(onExport.ExitCode, onPull.ExitCode);
            Assert.Equal(onExport.Output, onPull.Output);
        }
    }

    /// <summary>Every group with its rules and every instance with its groups and addresses, one line each, in ID order.</summary>
    private static string Describe(NetworkState state)
    {
        var text = new StringBuilder();
        foreach (var g in state.Groups.OrderBy(g => g.Id.Value, StringComparer.Ordinal))
        {
            text.AppendLine($"{g.Id} {g.Name} {g.VpcId} {g.Type} {g.InnerAccessPolicy}");
            foreach (var r in g.Rules.OrderBy(r => r.Id.Value, StringComparer.Ordinal))
                text.AppendLine($"  {r}");
        }
        foreach (var l in state.PrefixLists)
            text.AppendLine($"{l.Name} {l.IsV6} {l.MaxEntries} {string.Join(',', l.Entries)}");
        foreach (var l in state.PortRangeLists)
            text.AppendLine($"{l.Name} {l.MaxEntries} {string.Join(',', l.Entries)}");
        foreach (var i in state.Instances.OrderBy(i => i.Id.Value, StringComparer.Ordinal))
            text.AppendLine($"{i.Id} {i.Name} {string.Join(',', i.SecurityGroupIds)} {string.Join(',', i.PrivateAddresses)} {string.Join(',', i.PublicAddresses)}");
        return text.ToString();
    }

    [Fact]
    public void Pull_OfSeveralRegions_NeedsARegionInTheFileName()
    {
        var outcome = _server.RunUnrecorded("pull", "--endpoint", _server.Url, "--credentials", _server.Credentials, "--region", "cn-hangzhou", "--region", "cn-beijing", "--out", Path.Combine(_server.Data, "x.json"));
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        Assert.Equal("error: 2 regions to write: --out must hold {region} (e.g. state-{region}.json)\n", outcome.Error);
    }

    [Fact]
    public void Pull_OfEveryRegion_WritesAFileEach_AndAReadOnlyKeyIsEnough()
    {
        var readOnly = Path.Combine(_server.Data, "read-only");
        var key = _server.App.Services.GetService(typeof(Storage.Accounts.AccountService)) as Storage.Accounts.AccountService;
        var created = key!.CreateAccessKey(_server.Key.AccountId, readOnly: true);
        File.WriteAllText(readOnly, $"access_key_id={created.AccessKeyId}\naccess_key_secret={created.AccessKeySecret}\n");
        var pattern = Path.Combine(_server.Data, "all-{region}.json");
        var outcome = _server.RunUnrecorded("pull", "--endpoint", _server.Url, "--credentials", readOnly, "--all-regions", "--out", pattern);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        var written = Directory.GetFiles(_server.Data, "all-*.json");
        Assert.True(written.Length > 1, $"one file per region served, got {written.Length}");
        Assert.All(written, f => StateFileReader.Read(File.ReadAllText(f)));
        Assert.Equal(written.Length, outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Pull_OfAnEndpointThatIsNotOne_SaysSo_AndWritesNothing()
    {
        var target = Path.Combine(_server.Data, "never.json");
        var outcome = _server.RunUnrecorded("pull", "--endpoint", "ftp://example", "--credentials", _server.Credentials, "--out", target);
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        Assert.Equal("error: 'ftp://example' is not an endpoint: give an http(s) URL or a host name\n", outcome.Error);
        Assert.False(File.Exists(target));
    }
}
