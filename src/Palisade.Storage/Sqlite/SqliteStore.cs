using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;

namespace Palisade.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Writes take the database's write lock at
/// BEGIN (IMMEDIATE), so limits checked inside a write hold however many requests race.
/// <c>synchronous=FULL</c> makes every acknowledged commit survive a crash of the process or the machine.
/// </summary>
public sealed class SqliteStore : IStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _clock;

    public SqliteStore(string path, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
            PrivateFiles.Directory(directory);
        // Made 0600 before SQLite opens it: its -wal and -shm files then get the same mode.
        PrivateFiles.Prepare(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        DatabasePath = path;
        _writes = WriteQueue.For(path);
        using var connection = Open();
        connection.Execute("PRAGMA journal_mode=WAL;");
        Migrations.Apply(connection, Dialect.Sqlite, _clock);
        Commits = new CommitWatcher(after => Read(s => ((SqlSession)s).CommittedAfter(after, CommitWatcher.ReadBatch)), CurrentRevision(), CommitWatcher.DefaultSafetyInterval);
        _writes.Committed += Commits.Signal;
    }

    public string DatabasePath { get; }

    public string Kind => "sqlite";

    /// <summary>
    /// A cap on the database file's size, in bytes (null: none). Past it, writes fail as on a full
    /// disk (<see cref="StoreFullException"/>) while reads go on; it keeps the control plane from
    /// filling a disk it shares, and lets tests fill "the disk" without filling one. Takes effect
    /// on the next transaction.
    /// </summary>
    public long? MaxBytes { get; set; }

    private volatile bool _everCapped;

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Per connection: these are not stored in the file.
        connection.Execute("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;");
        if (MaxBytes is { } cap)
        {
            _everCapped = true;
            var pageSize = connection.ExecuteScalar<long>("PRAGMA page_size;");
            // SQLite never sets the cap below the pages in use; a cap of 0 pages means "no cap" to it, hence at least 1.
            connection.Execute($"PRAGMA max_page_count={Math.Max(1, cap / pageSize)};");
        }
        else if (_everCapped)
        {
            // A pooled connection keeps the cap it was given: lift it (SQLite's largest value that every version takes).
            connection.Execute("PRAGMA max_page_count=1073741823;");
        }
        return connection;
    }

    private readonly Lock _revisionGate = new();
    private SqliteConnection? _revisionConnection;
    private SqliteCommand? _revisionCommand;

    /// <summary>One connection and one prepared statement kept for this question alone: asked on every cached read.</summary>
    public long CurrentRevision()
    {
        lock (_revisionGate)
        {
            if (_revisionCommand is null)
            {
                _revisionConnection = new SqliteConnection(_connectionString);
                _revisionConnection.Open();
                _revisionCommand = _revisionConnection.CreateCommand();
                _revisionCommand.CommandText = "SELECT COALESCE(MAX(revision), 0) FROM revisions";
                _revisionCommand.Prepare();
            }
            return (long)_revisionCommand.ExecuteScalar()!;
        }
    }

    /// <summary>A database locked for longer than the busy timeout is a temporary condition, not a failure.</summary>
    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)
        {
            throw new StoreUnavailableException("the SQLite database stayed locked for too long", e);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 13)
        {
            // SQLITE_FULL: the transaction is rolled back whole; nothing of it is left behind.
            throw new StoreFullException("the SQLite database is full (the disk, or MaxBytes)", e);
        }
    }

    /// <summary>Works, but a SQLite server keeps its nonces in a side file instead (LocalNonceRegistry), off the main database.</summary>
    public bool TryUseNonce(string accessKeyId, string nonce, DateTimeOffset expiresAt, DateTimeOffset now) =>
        Write("UseNonce", null, s =>
        {
            s.PurgeNonces(now);
            return s.TryUseNonce(accessKeyId, nonce, expiresAt);
        });

    /// <summary>The batch in one write, each nonce inserted in order (SQLite servers use LocalNonceRegistry instead).</summary>
    public IReadOnlyList<bool> TryUseNonces(IReadOnlyList<NonceUse> uses, DateTimeOffset now) =>
        Write("UseNonce", null, s =>
        {
            s.PurgeNonces(now);
            return uses.Select(u => s.TryUseNonce(u.AccessKeyId, u.Nonce, u.ExpiresAt)).ToArray();
        });

    /// <summary>
    /// A refusal changed nothing, so its record is not worth an fsync: synchronous=NORMAL keeps it
    /// through a crash of the process (WAL), and only a crash of the machine may lose the last ones.
    /// It still queues with the writers, who hold the database's one write lock.
    /// </summary>
    public void RecordTrail(ActionTrailEntry entry) =>
        _writes.Run(() => Guard(() =>
        {
            using var connection = Open();
            connection.Execute("PRAGMA synchronous=NORMAL;");
            SqlSession.InsertTrail(connection, null, entry, null);
            return 0;
        }));

    /// <summary>Bookkeeping, not a change: no revision, and (like a refusal's event) no fsync of its own.</summary>
    public int PurgeTrail(DateTimeOffset before) =>
        _writes.Run(() => Guard(() =>
        {
            using var connection = Open();
            connection.Execute("PRAGMA synchronous=NORMAL;");
            return connection.Execute("DELETE FROM action_trail WHERE event_time < @before", new { before = Time.Format(before) });
        }));

    /// <summary>
    /// Whether this store's transactions are recorded in <c>palisade.store.duration</c> (a process-wide
    /// meter): not for a store of the server's own warm-up, whose statements are no node's.
    /// </summary>
    public bool RecordsMetrics { get; init; } = true;

    private T Timed<T>(string operation, Func<T> work) => RecordsMetrics ? StoreMetrics.Time("sqlite", operation, work) : work();

    public T Read<T>(Func<IStoreSession, T> work) => Timed("read", () => Guard(() => ReadUnguarded(work)));

    private T ReadUnguarded<T>(Func<IStoreSession, T> work)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: true);
        var session = new SqlSession(connection, transaction, Dialect.Sqlite);
        var result = work(session);
        transaction.Commit();
        return result;
    }

    // Writers of this process queue here instead of polling SQLite's lock with sleeps, which made
    // tail latency unfair. The database lock still guards correctness (other processes, the CLI).
    private readonly WriteQueue _writes;

    /// <summary>
    /// Learns of the commits of every store of this process on the file at once (they share the
    /// write queue), and of other processes' (the CLI on the data directory) by its safety look.
    /// </summary>
    public CommitWatcher Commits { get; }

    public T Write<T>(string action, long? accountId, Func<IStoreSession, T> work) =>
        Timed("write", () => _writes.Run(() => Guard(() => WriteLocked(action, accountId, work))));

    // One writer at a time on SQLite whatever the scope: a resource's write is a write of no account that may not change the state.
    public T WriteOn<T>(string action, string resource, Func<IStoreSession, T> work) =>
        Timed("write", () => _writes.Run(() => Guard(() => WriteLocked(action, null, work, resource))));

    private T WriteLocked<T>(string action, long? accountId, Func<IStoreSession, T> work, string? resource = null)
    {
        using var connection = Open();
        using DbTransaction transaction = connection.BeginTransaction(deferred: false);
        var session = new SqlSession(connection, transaction, Dialect.Sqlite);
        var result = work(session);
        if (resource is not null && session.Changed)
            throw new InvalidOperationException($"{action} on {resource} changed the control plane's state; only an account's write (or a write of no account) may");
        var (revision, accountRevision) = session.Changed ? session.AddRevision(accountId, action, _clock.GetUtcNow()) : ((long?)null, (long?)null);
        session.WriteTrail(accountRevision);
        transaction.Commit();
        if (accountId is { } changed && accountRevision is { } made)
            AccountCommits.Of(this).Record(new(changed, made, action, session.Touches()));
        if (revision is not null)
            _writes.NotifyCommitted();
        return result;
    }

    public void Dispose()
    {
        _writes.Committed -= Commits.Signal;
        Commits.Dispose();
        lock (_revisionGate)
        {
            _revisionCommand?.Dispose();
            _revisionConnection?.Dispose();
            _revisionCommand = null;
            _revisionConnection = null;
        }
        SqliteConnection.ClearAllPools();
    }
}
