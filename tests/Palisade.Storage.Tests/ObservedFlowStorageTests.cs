using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Palisade.Domain.Identifiers;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// Observed flows per ENI (issue 20, migration 014), on SQLite, or on PostgreSQL when the run asks for
/// it (<see cref="TestStores"/>): flows to two ENIs of one instance are kept apart, a classic NIC's have
/// no ENI, a backup keeps the ENI, and flows kept before 014 (or in a backup made before it) become
/// their instance's primary ENI's.
/// </summary>
public sealed class ObservedFlowStorageTests : IDisposable
{
    private static readonly DateTimeOffset Minute = new(2026, 12, 3, 10, 15, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("palisade-flows-").FullName;
    private readonly List<TestStores.PostgresDatabase> _databases = [];

    public void Dispose()
    {
        foreach (var database in _databases)
            database.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private string? NewDatabase()
    {
        if (TestStores.NewDatabase() is not { } database)
            return null;
        _databases.Add(database);
        return database.ConnectionString;
    }

    private IStore Open(string? database, string name) => StoreFactory.Open(database, Path.Combine(_directory, name));

    /// <summary>A store at schema 013 with account 7, a VPC instance (primary ENI eni-vpcold, secondary eni-second), a classic instance and one flow to each instance.</summary>
    private (string? Database, string Directory) OldStore()
    {
        var database = NewDatabase();
        var directory = Path.Combine(_directory, "old");
        Directory.CreateDirectory(directory);
        using DbConnection connection = database is null
            ? new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "palisade.db"), Pooling = false }.ToString())
            : new NpgsqlConnection(database);
        connection.Open();
        Migrations.Apply(connection, database is null ? Dialect.Sqlite : Dialect.Postgres, TimeProvider.System, upTo: 13);
        connection.Execute("""
            INSERT INTO accounts (account_id, name, created_at) VALUES (7, 'old', '2026-12-01T00:00:00Z');
            INSERT INTO vpcs (vpc_id, account_id, region_id, cidr_block, name, description, status, created_at) VALUES ('vpc-old', 7, 'cn-hangzhou', '198.18.0.0/16', 'v', '', 'Available', '2026-12-01T00:00:00Z');
            INSERT INTO vswitches (vswitch_id, account_id, region_id, vpc_id, zone_id, cidr_block, name, description, status, created_at) VALUES ('vsw-old', 7, 'cn-hangzhou', 'vpc-old', 'cn-hangzhou-h', '198.18.1.0/24', 's', '', 'Available', '2026-12-01T00:00:00Z');
            INSERT INTO instances (instance_id, account_id, region_id, zone_id, name, description, network_type, vpc_id, vswitch_id, status, image_id, instance_type, created_at)
                VALUES ('i-vpcold', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'a', '', 'vpc', 'vpc-old', 'vsw-old', 'Running', 'img', 'ecs.g7.large', '2026-12-01T00:00:00Z');
            INSERT INTO instances (instance_id, account_id, region_id, zone_id, name, description, network_type, vpc_id, vswitch_id, status, image_id, instance_type, created_at)
                VALUES ('i-classicold', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'c', '', 'classic', NULL, NULL, 'Running', 'img', 'ecs.g7.large', '2026-12-01T00:00:00Z');
            INSERT INTO network_interfaces (network_interface_id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, interface_type, name, description, created_at, resource_group_id)
                VALUES ('eni-vpcold', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'vpc-old', 'vsw-old', 'i-vpcold', 'Primary', '', '', '2026-12-01T00:00:00Z', '');
            INSERT INTO network_interfaces (network_interface_id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, interface_type, name, description, created_at, resource_group_id)
                VALUES ('eni-second', 7, 'cn-hangzhou', 'cn-hangzhou-h', 'vpc-old', 'vsw-old', 'i-vpcold', 'Secondary', '', '', '2026-12-01T00:00:00Z', '');
            INSERT INTO observed_flows (account_id, instance_id, source_ip, ip_protocol, port, minute_start, host_name, connections)
                VALUES (7, 'i-vpcold', '198.18.0.7', 'TCP', 22, '2026-12-03T10:15:00Z', 'node-1', 4);
            INSERT INTO observed_flows (account_id, instance_id, source_ip, ip_protocol, port, minute_start, host_name, connections)
                VALUES (7, 'i-classicold', '198.18.0.7', 'TCP', 22, '2026-12-03T10:15:00Z', 'node-1', 2);
            """);
        return (database, directory);
    }

    private static List<(string Instance, string? Eni, string Source, int Port, long Connections)> Flows(IStore store, long account, params string[] instances) =>
        [.. store.Read(s => s.ListObservedFlows(account, [.. instances.Select(InstanceId.Parse)], DateTimeOffset.UnixEpoch))
            .Select(f => (f.InstanceId.Value, f.NetworkInterfaceId?.Value, f.SourceIp, f.Port, f.Connections))];

    private static ObservedFlowRecord Flow(string instance, string? eni, long connections) =>
        new(InstanceId.Parse(instance), "198.18.0.7", "TCP", 22, Minute, connections) { NetworkInterfaceId = eni is null ? null : NetworkInterfaceId.Parse(eni) };

    [Fact]
    public void FlowsMadeBefore014_BecomeTheirInstancesPrimaryEnis_AndNewOnesAreKeptPerEni()
    {
        var (database, directory) = OldStore();
        SqliteConnection.ClearAllPools();
        using var store = StoreFactory.Open(database, directory);
        Assert.Equal([("i-vpcold", "eni-vpcold", "198.18.0.7", 22, 4L)], Flows(store, 7, "i-vpcold"));
        Assert.Equal([("i-classicold", null, "198.18.0.7", 22, 2L)], Flows(store, 7, "i-classicold"));

        // The same source, port and minute to the secondary ENI is another row; to the primary, the same one.
        store.Write("Report", null, s =>
        {
            s.AddObservedFlows(7, "node-1", [Flow("i-vpcold", "eni-second", 3), Flow("i-vpcold", "eni-vpcold", 1), Flow("i-classicold", null, 1)]);
            return 0;
        });
        Assert.Equal([("i-vpcold", "eni-second", "198.18.0.7", 22, 3L), ("i-vpcold", "eni-vpcold", "198.18.0.7", 22, 5L)], Flows(store, 7, "i-vpcold"));
        Assert.Equal([("i-classicold", null, "198.18.0.7", 22, 3L)], Flows(store, 7, "i-classicold"));

        // A backup keeps each flow's ENI.
        using var backup = new MemoryStream();
        Backup.StoreBackup.Write(store, backup);
        backup.Position = 0;
        using var restored = Open(NewDatabase(), "restored");
        Backup.StoreBackup.Restore(restored, backup);
        Assert.Equal(Flows(store, 7, "i-vpcold", "i-classicold"), Flows(restored, 7, "i-vpcold", "i-classicold"));
    }

    /// <summary>A backup written before 014 has no network_interface_id in its flows: a restore credits them to the primary ENI, as the migration does.</summary>
    [Fact]
    public void ABackupMadeBefore014_RestoresItsFlows_AsTheirPrimaryEnis()
    {
        var (database, directory) = OldStore();
        SqliteConnection.ClearAllPools();
        using var old = StoreFactory.Open(database, directory);
        using var written = new MemoryStream();
        Backup.StoreBackup.Write(old, written);
        // The same backup as an older Palisade wrote it: its flows name no ENI.
        var json = System.Text.Json.Nodes.JsonNode.Parse(written.ToArray())!;
        foreach (var row in json["tables"]!["observed_flows"]!.AsArray())
        {
            row!.AsObject().Remove("network_interface_id");
            Assert.Null(row["network_interface_id"]);
        }
        Assert.Equal(2, json["tables"]!["observed_flows"]!.AsArray().Count);
        using var restored = Open(NewDatabase(), "restored-old");
        Backup.StoreBackup.Restore(restored, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString())));
        Assert.Equal([("i-vpcold", "eni-vpcold", "198.18.0.7", 22, 4L)], Flows(restored, 7, "i-vpcold"));
        Assert.Equal([("i-classicold", null, "198.18.0.7", 22, 2L)], Flows(restored, 7, "i-classicold"));
    }
}
