using Palisade.Domain.Signatures;
using Microsoft.Data.Sqlite;

namespace Palisade.Server.Protocol;

/// <summary>Remembers the nonces signed requests used, for as long as their timestamp is acceptable.</summary>
internal interface INonceRegistry
{
    /// <summary>False when the key has used this nonce before (a replay).</summary>
    bool TryUse(string accessKeyId, string nonce, DateTimeOffset expiresAt);

    /// <summary>
    /// <see cref="TryUse"/> without holding a thread while the answer is out (a registry in the shared
    /// store batches them: <see cref="StoreNonceRegistry"/>); the local side file answers at once.
    /// </summary>
    ValueTask<bool> TryUseAsync(string accessKeyId, string nonce, DateTimeOffset expiresAt, CancellationToken cancel) =>
        new(TryUse(accessKeyId, nonce, expiresAt));
}

/// <summary>
/// Nonces of a single node, in a side file (<c>nonces.db</c>) so that a restart does not forget
/// them, and not in memory, which 15 minutes of traffic would fill (5,000 requests/s is 4.5 million
/// nonces). The side file is written without fsync: it is kept across a crash of the process (the
/// OS has the pages), and only a crash of the machine within the 15-minute window could forget a
/// nonce. It is separate from the control-plane database so that checking a nonce never waits for
/// the write lock of a change.
/// </summary>
internal sealed class LocalNonceRegistry : INonceRegistry, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly TimeProvider _clock;
    private DateTimeOffset _nextSweep;

    public LocalNonceRegistry(string path, TimeProvider clock)
    {
        _clock = clock;
        Storage.PrivateFiles.Prepare(path);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _connection.Open();
        Run("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
        Run("CREATE TABLE IF NOT EXISTS nonces (access_key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (access_key_id, nonce))");
        Run($"DELETE FROM nonces WHERE expires_at < {clock.GetUtcNow().ToUnixTimeSeconds()}");
        _insert = _connection.CreateCommand();
        _insert.CommandText = "INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES ($k, $n, $e) ON CONFLICT DO NOTHING";
        _insert.Parameters.Add("$k", SqliteType.Text);
        _insert.Parameters.Add("$n", SqliteType.Text);
        _insert.Parameters.Add("$e", SqliteType.Integer);
        _insert.Prepare();
    }

    private readonly SqliteCommand _insert;

    public bool TryUse(string accessKeyId, string nonce, DateTimeOffset expiresAt)
    {
        lock (_gate)
        {
            _insert.Parameters["$k"].Value = accessKeyId;
            _insert.Parameters["$n"].Value = nonce;
            _insert.Parameters["$e"].Value = expiresAt.ToUnixTimeSeconds();
            if (_insert.ExecuteNonQuery() == 0)
                return false;
            Sweep();
        }
        return true;
    }

    private void Sweep()
    {
        var now = _clock.GetUtcNow();
        if (now < _nextSweep)
            return;
        _nextSweep = now.AddMinutes(1);
        Run($"DELETE FROM nonces WHERE expires_at < {now.ToUnixTimeSeconds()}");
    }

    private void Run(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _insert.Dispose();
        _connection.Dispose();
    }
}
