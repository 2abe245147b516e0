using System.Text.Json;
using Palisade.Client;
using Palisade.Server.Tests.Support;
using Palisade.Storage;
using Palisade.Storage.Backup;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// A backup restored into another store answers every call as the original did: the same rule
/// IDs, creation times, tags, accounts and keys. In the PostgreSQL run the copy goes to SQLite, so
/// both directions between the stores are covered across the two runs.
/// </summary>
public sealed class BackupRestoreTests : IDisposable
{
    private readonly string _target = Path.Combine(Path.GetTempPath(), "palisade-restore-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_target))
            Directory.Delete(_target, recursive: true);
    }

    [Fact]
    public async Task ABackupRestoredElsewhere_AnswersTheSame()
    {
        await using var source = await TestControlPlane.StartAsync();
        var key = source.NewAccount("backed-up");
        var s = new Scenario(source.Client(key));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var web = await s.GroupAsync(vpc, "web");
        var db = await s.GroupAsync(vpc, "db");
        await s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = web, Description = "from the web tier" });
        await s.AuthorizeAsync(web, new { Permissions = new[] { new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" }, new { IpProtocol = "udp", PortRange = "53/53", SourceCidrIp = "10.0.0.1/8" } } });
        var instances = await s.RunAsync(web, vsw, 2);
        await s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { db }, Tag = new[] { new { Key = "env", Value = "prod" } } });
        // Issue 16: a prefix list and a port-range list, with entries, tags and a rule naming both.
        var pl = (await s.Api.CallAsync("CreatePrefixList", new { RegionId = Region, AddressFamily = "IPv4", MaxEntries = 3, PrefixListName = "office", Entry = new[] { new { Cidr = "203.0.113.0/24", Description = "hq" }, new { Cidr = "198.51.100.7", Description = "vpn" } }, Tag = new[] { new { Key = "team", Value = "net" } } })).Str("PrefixListId");
        var prl = (await s.Api.CallAsync("CreatePortRangeList", new { RegionId = Region, MaxEntries = 2, PortRangeListName = "admin", Entry = new[] { new { PortRange = "22/22", Description = "ssh" } } })).Str("PortRangeListId");
        await s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRangeListId = prl, SourcePrefixListId = pl });

        var calls = new (string Action, object Parameters, string Version)[]
        {
            ("DescribeSecurityGroups", new { RegionId = Region }, ApiVersions.Ecs),
            ("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = db }, ApiVersions.Ecs),
            ("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = web }, ApiVersions.Ecs),
            ("DescribeInstances", new { RegionId = Region }, ApiVersions.Ecs),
            ("ListTagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { db } }, ApiVersions.Ecs),
            ("DescribeVpcs", new { RegionId = Region }, ApiVersions.Vpc),
            ("DescribeVSwitches", new { RegionId = Region }, ApiVersions.Vpc),
            ("DescribeActionTrail", new { MaxResults = 100 }, ApiVersions.Ecs),
            ("DescribePrefixLists", new { RegionId = Region }, ApiVersions.Ecs),
            ("DescribePrefixListAttributes", new { RegionId = Region, PrefixListId = pl }, ApiVersions.Ecs),
            ("DescribePortRangeLists", new { RegionId = Region }, ApiVersions.Ecs),
            ("DescribePortRangeListEntries", new { RegionId = Region, PortRangeListId = prl }, ApiVersions.Ecs),
        };
        async Task<List<string>> Answers(EcsClient api)
        {
            var answers = new List<string>();
            foreach (var (action, parameters, version) in calls)
            {
                var body = (await api.CallAsync(action, parameters, version)).GetRawText();
                // Event IDs are renumbered by the restoring store (in the same order); everything else stays.
                answers.Add(EventIds().Replace(RequestIds().Replace(body, "<request-id>"), "<event-id>"));
            }
            return answers;
        }
        var before = await Answers(s.Api);

        var backup = new MemoryStream();
        StoreBackup.Write(source.Store, backup);

        // Into SQLite: from PostgreSQL in the PostgreSQL run, from SQLite in the other.
        Directory.CreateDirectory(_target);
        File.Copy(Path.Combine(source.Location.Directory, "master.key"), Path.Combine(_target, "master.key"));
        using (var target = StoreFactory.Open(null, _target))
        {
            backup.Position = 0;
            var summary = StoreBackup.Restore(target, backup);
            Assert.True(summary.Rows > 20);
            Assert.Throws<InvalidOperationException>(() => { backup.Position = 0; StoreBackup.Restore(target, backup); });
        }

        await using var restored = await TestControlPlane.StartOnAsync(_target, null);
        var after = await Answers(restored.Client(key));
        Assert.Equal(before, after);
        Assert.Contains(instances[0], after[3]);

        // The copy's own backup holds the same rows, and one more revision: the restore (which concerns every host).
        var again = new MemoryStream();
        StoreBackup.Write(restored.Store, again);
        using var first = JsonDocument.Parse(backup.ToArray());
        using var second = JsonDocument.Parse(again.ToArray());
        foreach (var table in first.RootElement.GetProperty("tables").EnumerateObject())
        {
            var copy = second.RootElement.GetProperty("tables").GetProperty(table.Name);
            if (table.Name == "revisions")
            {
                Assert.Equal(table.Value.GetArrayLength() + 1, copy.GetArrayLength());
                Assert.Equal("Restore", copy.EnumerateArray().Last().GetProperty("action").GetString());
                Assert.Equal(
                    table.Value.EnumerateArray().Select(e => e.GetRawText()),
                    copy.EnumerateArray().SkipLast(1).Select(e => e.GetRawText()));
                continue;
            }
            if (table.Name == "revision_hosts")
            {
                // The restore's revision concerns every host (its agents resync), as '*'.
                var restore = copy.EnumerateArray().Last();
                Assert.Equal("*", restore.GetProperty("host_name").GetString());
                Assert.Equal(second.RootElement.GetProperty("tables").GetProperty("revisions").EnumerateArray().Last().GetProperty("revision").GetInt64(), restore.GetProperty("revision").GetInt64());
                Assert.Equal(table.Value.EnumerateArray().Select(e => e.GetRawText()), copy.EnumerateArray().SkipLast(1).Select(e => e.GetRawText()));
                continue;
            }
            Assert.Equal(table.Value.GetRawText(), copy.GetRawText());
        }

        // And from that SQLite copy on to PostgreSQL, when the run has one: both directions.
        if (Palisade.TestKit.TestStores.NewDatabase() is { } database)
        {
            using (database)
            {
                using (var postgres = StoreFactory.Open(database.ConnectionString, _target))
                {
                    again.Position = 0;
                    StoreBackup.Restore(postgres, again);
                }
                await using var onPostgres = await TestControlPlane.StartOnAsync(_target, database.ConnectionString);
                Assert.Equal("postgres", onPostgres.Store.Kind);
                Assert.Equal(before, await Answers(onPostgres.Client(key)));
            }
        }
    }

    [Fact]
    public void ABrokenFile_ChangesNothing()
    {
        Directory.CreateDirectory(_target);
        using var target = StoreFactory.Open(null, _target);
        Assert.Throws<InvalidDataException>(() => StoreBackup.Restore(target, new MemoryStream("{\"format\":\"other\"}"u8.ToArray())));
        var bad = """{"format":"palisade-backup","version":1,"tables":{"accounts":[{"account_id":1,"name":"x","created_at":"2026-01-01T00:00:00Z"}],"access_keys":[{"access_key_id":"k","account_id":"not a number"}]}}""";
        Assert.Throws<InvalidDataException>(() => StoreBackup.Restore(target, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(bad))));
        Assert.Empty(target.Read(s => s.ListAccounts()));
        Assert.Equal(0, target.CurrentRevision());
    }

    private static System.Text.RegularExpressions.Regex EventIds() => new("\"EventId\":\"[0-9]+\"");

    private static System.Text.RegularExpressions.Regex RequestIds() => new("[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}");
}
