using Microsoft.Data.Sqlite;
using Palisade.Domain.Identifiers;

namespace Palisade.Storage.Tests;

/// <summary>
/// Migration 011 (issue 16 item 6) on a control plane made before it: the schema of migrations
/// 001–010 with a VPC instance and a classic instance bound to a host; opening the store applies 011,
/// and the VPC instance's binding is its primary ENI's, the classic one's (no ENI) stays the instance's.
/// </summary>
public sealed class HostBindingMigrationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("palisade-migrate-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static IEnumerable<(int Version, string Name, string Sql)> MigrationsBefore(int version)
    {
        var assembly = typeof(IStore).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.Contains(".Schema.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = resource[(resource.IndexOf(".Schema.", StringComparison.Ordinal) + ".Schema.".Length)..];
            var number = int.Parse(file[..3], System.Globalization.CultureInfo.InvariantCulture);
            if (number >= version)
                continue;
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            // As the store's runner spells PostgreSQL's types for SQLite.
            yield return (number, file, reader.ReadToEnd().Replace("BYTEA", "BLOB", StringComparison.Ordinal)
                .Replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal));
        }
    }

    /// <summary>A SQLite store in <paramref name="directory"/> made by the migrations before <paramref name="version"/>, holding <paramref name="rows"/>.</summary>
    internal static void StoreMadeBefore(string directory, int version, string rows)
    {
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "palisade.db")}"))
        {
            connection.Open();
            void Run(string sql)
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.ExecuteNonQuery();
            }
            Run("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
            foreach (var (number, name, sql) in MigrationsBefore(version))
            {
                Run(sql);
                Run($"INSERT INTO schema_migrations VALUES ({number}, '{name}', '2026-12-01T00:00:00Z')");
            }
            Run(rows);
        }
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public void BindingsMadeBefore011_BecomeTheirInstancesPrimaryEnis()
    {
        StoreMadeBefore(_directory, 11, """
                INSERT INTO accounts (account_id, name, created_at) VALUES (7, 'old', '2026-12-01T00:00:00Z');
                INSERT INTO vpcs VALUES ('vpc-old', 7, 'cn-hangzhou', '198.18.0.0/16', 'v', '', 'Available', '2026-12-01T00:00:00Z');
                INSERT INTO vswitches VALUES ('vsw-old', 7, 'cn-hangzhou', 'vpc-old', 'cn-hangzhou-h', '198.18.1.0/24', 's', '', 'Available', '2026-12-01T00:00:00Z');
                INSERT INTO instances (instance_id, account_id, region_id, zone_id, name, description, network_type, vpc_id, vswitch_id, status, image_id, instance_type, created_at)
                    VALUES ('i-vpcold', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'a', '', 'vpc', 'vpc-old', 'vsw-old', 'Running', 'img', 'ecs.g7.large', '2026-12-01T00:00:00Z');
                INSERT INTO instances (instance_id, account_id, region_id, zone_id, name, description, network_type, vpc_id, vswitch_id, status, image_id, instance_type, created_at)
                    VALUES ('i-classicold', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'c', '', 'classic', NULL, NULL, 'Running', 'img', 'ecs.g7.large', '2026-12-01T00:00:00Z');
                INSERT INTO network_interfaces (network_interface_id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, interface_type, name, description, created_at, resource_group_id)
                    VALUES ('eni-vpcold', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'vpc-old', 'vsw-old', 'i-vpcold', 'Primary', '', '', '2026-12-01T00:00:00Z', '');
                INSERT INTO hosts VALUES ('node-1', '*', '0.0.0.0/0 ::/0', '2026-12-01T00:00:00Z');
                INSERT INTO host_bindings (instance_id, account_id, host_name, interface_name, bound_at) VALUES ('i-vpcold', 7, 'node-1', 'vnet0', '2026-12-01T00:00:00Z');
                INSERT INTO host_bindings (instance_id, account_id, host_name, interface_name, bound_at) VALUES ('i-classicold', 7, 'node-1', 'vnet1', '2026-12-01T00:00:00Z');
                INSERT INTO agent_reports VALUES (7, 'node-1', 'i-vpcold', 3, '2026-12-01T00:00:00Z');
                """);

        using var store = StoreFactory.Open(null, _directory);
        var bindings = store.Read(s => s.ListBindingsOnHost("node-1"));
        Assert.Equal([("vnet0", "eni-vpcold", "i-vpcold"), ("vnet1", "i-classicold", "i-classicold")], bindings.Select(b => (b.InterfaceName, b.Nic, b.InstanceId.Value)));
        Assert.Equal(NetworkInterfaceId.Parse("eni-vpcold"), store.Read(s => s.FindHostBinding(InstanceId.Parse("i-vpcold")))!.NetworkInterfaceId);
        Assert.Null(store.Read(s => s.FindHostBinding(InstanceId.Parse("i-classicold")))!.NetworkInterfaceId);
        // Agent reports are bookkeeping the agents send again: the old ones are gone, not mistaken for an ENI's.
        Assert.Empty(store.Read(s => s.ListAgentReports(7, null)));
    }
}
