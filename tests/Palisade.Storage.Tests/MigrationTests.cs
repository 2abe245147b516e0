using Dapper;
using Microsoft.Data.Sqlite;
using Palisade.Storage.Sql;
using Palisade.Storage.Sqlite;

namespace Palisade.Storage.Tests;

/// <summary>Upgrades of a store made by an older version: what the migrations keep and what they add.</summary>
public sealed class MigrationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("palisade-migration-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>
    /// Migration 010 folds 008's <c>host_changes</c> (the hosts whose bindings a commit changed) into
    /// <c>revision_hosts</c>, and names every host on the newest commit made before it: an agent that
    /// is behind across the upgrade is woken once, whatever its host, and fetches what it missed.
    /// </summary>
    [Fact]
    public void RevisionHosts_KeepTheBindingChanges_AndTheNewestOlderCommitWakesEveryHost()
    {
        var path = Path.Combine(_directory, "old.db");
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            old.Open();
            Migrations.Apply(old, Dialect.Sqlite, TimeProvider.System, upTo: 9);
            old.Execute("INSERT INTO accounts (account_id, name, created_at) VALUES (1, 'a', '2026-12-01T00:00:00Z')");
            for (var r = 1; r <= 3; r++)
                old.Execute("INSERT INTO revisions (revision, account_id, action, committed_at, account_revision) VALUES (@r, 1, 'X', '2026-12-01T00:00:00Z', @r)", new { r });
            old.Execute("INSERT INTO host_changes (revision, host_name) VALUES (2, 'node-1')");
            Assert.Throws<SqliteException>(() => old.Query("SELECT * FROM revision_hosts").ToList());
        }
        using var store = new SqliteStore(path);
        Assert.Equal([2L, 3L], store.Read(s => s.ListHostRevisions("node-1", 0, 100)).Select(r => r.Revision));
        Assert.Equal([3L], store.Read(s => s.ListHostRevisions("node-2", 0, 100)).Select(r => r.Revision));
        Assert.Empty(store.Read(s => s.ListHostRevisions("node-2", 3, 100)));
        // 008's table is gone: one notion of a host's changes.
        using var upgraded = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        upgraded.Open();
        Assert.Equal(0L, upgraded.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'host_changes'"));
    }

    /// <summary>A backup written before migration 010 holds <c>host_changes</c>: a restore reads it as <c>revision_hosts</c>, and the restore itself wakes every host.</summary>
    [Fact]
    public void ABackupOfTheOlderFormat_RestoresItsHostChanges_AsRevisionHosts()
    {
        const string backup = """
            {"format":"palisade-backup","version":1,"source":"sqlite","revision":2,"tables":{
              "accounts":[{"account_id":1,"name":"a","created_at":"2026-12-01T00:00:00Z"}],
              "revisions":[{"revision":1,"account_id":1,"action":"X","committed_at":"2026-12-01T00:00:00Z","account_revision":1},
                           {"revision":2,"account_id":1,"action":"BindHostInterface","committed_at":"2026-12-01T00:00:00Z","account_revision":2}],
              "host_changes":[{"revision":2,"host_name":"node-1"}]}}
            """;
        using var store = new SqliteStore(Path.Combine(_directory, "restored.db"));
        Backup.StoreBackup.Restore(store, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(backup)));
        Assert.Equal([2L, 3L], store.Read(s => s.ListHostRevisions("node-1", 0, 100)).Select(r => r.Revision));
        Assert.Equal([3L], store.Read(s => s.ListHostRevisions("node-2", 0, 100)).Select(r => r.Revision));
    }
    /// <summary>
    /// Migration 013 adds the last use of host credentials: one made before it keeps working, shows
    /// no last use until a server notes one, and noting it makes no revision (bookkeeping).
    /// </summary>
    [Fact]
    public void HostCredentialsMadeBefore013_AreListed_WithoutALastUse_UntilOneIsNoted()
    {
        var path = Path.Combine(_directory, "old.db");
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            old.Open();
            Migrations.Apply(old, Dialect.Sqlite, TimeProvider.System, upTo: 12);
            old.Execute("INSERT INTO hosts (host_name, interface_patterns, address_space, created_at) VALUES ('node-1', 'vnet*', '10.0.0.0/8', '2026-12-01T00:00:00Z')");
            old.Execute("INSERT INTO host_credentials (access_key_id, host_name, secret_ciphertext, status, created_at) VALUES ('LTAIold', 'node-1', X'00', 'Active', '2026-12-01T00:00:00Z')");
            Assert.Throws<SqliteException>(() => old.Query("SELECT last_used_at FROM host_credentials").ToList());
        }
        using var store = new SqliteStore(path);
        var listed = Assert.Single(store.Read(s => s.ListHostCredentials("node-1")));
        Assert.Equal(("LTAIold", "node-1", (DateTimeOffset?)null), (listed.AccessKeyId, listed.HostName, listed.LastUsedAt));
        var revision = store.CurrentRevision();
        var at = new DateTimeOffset(2026, 12, 3, 12, 30, 0, TimeSpan.Zero);
        store.Write("UseHostCredential", null, s => { s.MarkHostCredentialUsed("LTAIold", at); return 0; });
        Assert.Equal(at, store.Read(s => s.FindHostCredential("LTAIold"))!.LastUsedAt);
        Assert.Equal(revision, store.CurrentRevision());
        Assert.Empty(store.Read(s => s.ListHostCredentials("node-2")));
    }
}
