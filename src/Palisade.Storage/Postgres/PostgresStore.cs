using Dapper;
using Npgsql;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;

namespace Palisade.Storage.Postgres;

/// <summary>
/// The shared store for several server nodes: the same schema and the same SQL session as SQLite.
/// Writes are serialised per account, not globally (issue 17): every write of an account takes the
/// account's transaction-scoped advisory lock (and the global lock in shared mode), so two writes of
/// one account run one at a time on any node — every limit, all of which count one account's
/// resources, holds across nodes — while writes of different accounts run side by side. What
/// accounts share is serialised on its own key (<see cref="IStoreSession.SerializeWith"/>: a host's
/// interfaces, the public address pool), always after the account's lock, so locks are taken in one
/// order and never deadlock. A write of no account (an account's creation, a restore) takes the
/// global lock exclusively. Only the numbering at the end is global: a changing write takes the
/// commit lock just before it numbers its revision, so global revisions are gap-free, in commit
/// order, and each account's own revisions are gap-free under its lock.
/// </summary>
public sealed class PostgresStore : IStore
{
    /// <summary>The migrations' lock key lies next to this ("PALISADE" in ASCII, as a number); the write locks below use the two-key space, which never meets it.</summary>
    private const long WriteLock = 0x50414C4953414445;

    /// <summary>The write locks' first keys ("PAL" and a kind): the second key is the account, the resource's hash, or 0.</summary>
    private const int GlobalLock = 0x50414C01, AccountLock = 0x50414C02, CommitLock = 0x50414C03, ResourceLock = 0x50414C04;

    private readonly NpgsqlDataSource _source;
    private readonly NpgsqlDataSource _nonceSource;
    private readonly TimeProvider _clock;

    public PostgresStore(string connection, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _source = NpgsqlDataSource.Create(ToConnectionString(connection));
        ConnectionLimit = new NpgsqlConnectionStringBuilder(ToConnectionString(connection)).MaxPoolSize;
        // Nonces are bookkeeping: losing the last few to a crash of the database server is the same
        // bargain as the SQLite side file, and not waiting for a WAL flush on every request is what
        // lets reads scale. Their own connections carry that setting; the control plane's do not.
        _nonceSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ToConnectionString(connection)) { Options = "-c synchronous_commit=off" }.ConnectionString);
        using var c = Open();
        // Two nodes starting at once must not both migrate.
        c.Execute("SELECT pg_advisory_lock(@key)", new { key = WriteLock - 1 });
        try
        {
            Migrations.Apply(c, Dialect.Postgres, _clock);
        }
        finally
        {
            c.Execute("SELECT pg_advisory_unlock(@key)", new { key = WriteLock - 1 });
        }
        Commits = new CommitWatcher(after => Read(s => ((SqlSession)s).CommittedAfter(after, CommitWatcher.ReadBatch)), CurrentRevision(), CommitWatcher.DefaultSafetyInterval);
        // Its own connection, kept open and probed: a silently dead one would only lose signals, which the safety look covers.
        _listenSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ToConnectionString(connection)) { KeepAlive = 15, Pooling = false }.ConnectionString);
        _listener = Task.Run(() => ListenAsync(_stopListening.Token));
    }

    public string Kind => "postgres";

    /// <summary>The main pool's size (<c>Maximum Pool Size</c>, 100 unless the connection string says).</summary>
    public int? ConnectionLimit { get; }

    /// <summary>A connection of the main pool, the wait for it recorded (<see cref="StoreMetrics.Open{T}"/>).</summary>
    private NpgsqlConnection Open() => RecordsMetrics ? StoreMetrics.Open("postgres", _source.OpenConnection) : _source.OpenConnection();

    /// <summary>Whether this store's transactions and connection waits are recorded in the process-wide store meter (as <see cref="Sqlite.SqliteStore.RecordsMetrics"/>).</summary>
    public bool RecordsMetrics { get; init; } = true;

    private T Timed<T>(string operation, Func<T> work) => RecordsMetrics ? StoreMetrics.Time("postgres", operation, work) : work();

    /// <summary>Accepts <c>postgres://user:pass@host:port/db</c> URLs as well as Npgsql connection strings.</summary>
    public static string ToConnectionString(string text)
    {
        if (!text.StartsWith("postgres://", StringComparison.Ordinal) && !text.StartsWith("postgresql://", StringComparison.Ordinal))
            return text;
        var uri = new Uri(text);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } db ? Uri.UnescapeDataString(db) : "postgres",
        };
        // Options in the query (sslmode=require, …) are kept: dropping them would silently weaken the connection.
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new ArgumentException($"the store URL option '{pair}' is not name=value");
            builder[Uri.UnescapeDataString(pair[..eq])] = Uri.UnescapeDataString(pair[(eq + 1)..]);
        }
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1)
                builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        return builder.ConnectionString;
    }

    public long CurrentRevision() => Guard(() =>
    {
        using var c = Open();
        return c.ExecuteScalar<long>("SELECT COALESCE(MAX(revision), 0) FROM revisions");
    });

    /// <summary>An unreachable server, a broken connection or an exhausted pool is temporary: the caller may retry.</summary>
    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DiskFull)
        {
            throw new StoreFullException("PostgreSQL has no disk space left", e);
        }
        catch (NpgsqlException e) when (e.IsTransient || e.InnerException is TimeoutException || e.Message.Contains("pool", StringComparison.OrdinalIgnoreCase))
        {
            throw new StoreUnavailableException("PostgreSQL is not available right now", e);
        }
        catch (TimeoutException e)
        {
            throw new StoreUnavailableException("PostgreSQL did not answer in time", e);
        }
        catch (ObjectDisposedException e)
        {
            // A request still running while the node shuts down (its store closed): a 503 the client
            // retries elsewhere, not a fault (the fleet bench's 1,000 agents met it at every stop).
            throw new StoreUnavailableException("the node is shutting down", e);
        }
    }

    private long _nextPurge;

    public bool TryUseNonce(string accessKeyId, string nonce, DateTimeOffset expiresAt, DateTimeOffset now) => Guard(() =>
    {
        using var c = _nonceSource.OpenConnection();
        // One autocommit statement: the key of the table settles which of two nodes saw it first.
        var used = c.Execute("INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (@accessKeyId, @nonce, @at) ON CONFLICT DO NOTHING",
            new { accessKeyId, nonce, at = Time.Format(expiresAt) }) == 1;
        var minute = now.ToUnixTimeSeconds() / 60;
        if (Interlocked.Exchange(ref _nextPurge, minute + 1) <= minute)
            c.Execute("DELETE FROM nonces WHERE expires_at < @now", new { now = Time.Format(now) });
        return used;
    });

    /// <summary>
    /// The batch in one autocommit statement (<c>INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING
    /// RETURNING</c>): the table's key still decides between nodes, and a nonce is the first use exactly
    /// when its row is returned. A nonce twice in the batch is sent once: the earlier use is the first.
    /// </summary>
    public IReadOnlyList<bool> TryUseNonces(IReadOnlyList<NonceUse> uses, DateTimeOffset now) => Guard(() =>
    {
        var first = new Dictionary<(string, string), int>();
        for (var i = 0; i < uses.Count; i++)
            first.TryAdd((uses[i].AccessKeyId, uses[i].Nonce), i);
        // Every node's batches insert in one order: two statements holding some of each other's nonces
        // (a replay sent to both nodes at once) then wait for each other in turn, never in a cycle.
        var sent = first.Values.OrderBy(i => uses[i].AccessKeyId, StringComparer.Ordinal).ThenBy(i => uses[i].Nonce, StringComparer.Ordinal).ToArray();
        using var c = _nonceSource.OpenConnection();
        using var insert = new NpgsqlCommand(
            "INSERT INTO nonces (access_key_id, nonce, expires_at) SELECT * FROM unnest(@k, @n, @e) ON CONFLICT DO NOTHING RETURNING access_key_id, nonce", c);
        insert.Parameters.Add(new NpgsqlParameter<string[]>("k", [.. sent.Select(i => uses[i].AccessKeyId)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("n", [.. sent.Select(i => uses[i].Nonce)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("e", [.. sent.Select(i => Time.Format(uses[i].ExpiresAt))]));
        var inserted = new HashSet<(string, string)>();
        using (var reader = insert.ExecuteReader())
        {
            while (reader.Read())
                inserted.Add((reader.GetString(0), reader.GetString(1)));
        }
        var used = new bool[uses.Count];
        foreach (var i in sent)
            used[i] = inserted.Contains((uses[i].AccessKeyId, uses[i].Nonce));
        var minute = now.ToUnixTimeSeconds() / 60;
        if (Interlocked.Exchange(ref _nextPurge, minute + 1) <= minute)
            c.Execute("DELETE FROM nonces WHERE expires_at < @now", new { now = Time.Format(now) });
        return used;
    });

    /// <summary>A refusal's record, in one autocommit statement on the nonce connections (no WAL flush wait): it changed nothing.</summary>
    public void RecordTrail(ActionTrailEntry entry) => Guard(() =>
    {
        using var c = _nonceSource.OpenConnection();
        SqlSession.InsertTrail(c, null, entry, null);
        return 0;
    });

    /// <summary>Bookkeeping, not a change: no revision, and outside the write lock (every node may purge; the DELETE is idempotent).</summary>
    public int PurgeTrail(DateTimeOffset before) => Guard(() =>
    {
        using var c = _nonceSource.OpenConnection();
        return c.Execute("DELETE FROM action_trail WHERE event_time < @before", new { before = Time.Format(before) }, commandTimeout: 300);
    });

    public T Read<T>(Func<IStoreSession, T> work) => Timed("read", () => Guard(() => ReadUnguarded(work)));

    private T ReadUnguarded<T>(Func<IStoreSession, T> work)
    {
        using var c = Open();
        using var t = c.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        var result = work(new SqlSession(c, t, Dialect.Postgres));
        t.Commit();
        return result;
    }

    // Writers of one account on this node queue here, so that at most one of its connections waits
    // on the account's lock; and at most MaxConcurrentWrites of the node's connections write at once,
    // so the pool is left for reads. One account's burst thus waits behind itself, not before others.
    // Correctness does not depend on either: the database's locks do.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, SemaphoreSlim> _accountQueues = new();
    private readonly SemaphoreSlim _writers = new(MaxConcurrentWrites, MaxConcurrentWrites);

    /// <summary>Writes of one node in flight at once (over all accounts).</summary>
    public const int MaxConcurrentWrites = 16;

    private T Queued<T>(long? accountId, Func<T> write)
    {
        var own = accountId is { } id ? _accountQueues.GetOrAdd(id, _ => new SemaphoreSlim(1, 1)) : null;
        own?.Wait();
        try
        {
            _writers.Wait();
            try
            {
                return write();
            }
            finally
            {
                _writers.Release();
            }
        }
        finally
        {
            own?.Release();
        }
    }

    /// <summary>Learns of every node's commits through <c>LISTEN</c> on <see cref="CommitChannel"/>, and of this node's at once.</summary>
    public CommitWatcher Commits { get; }

    /// <summary>The channel every commit notifies (in its transaction, so the notice goes out exactly when it commits).</summary>
    internal const string CommitChannel = "palisade_commits";

    private readonly NpgsqlDataSource _listenSource;
    private readonly CancellationTokenSource _stopListening = new();
    private readonly Task _listener;

    /// <summary>Whether the listening connection is up (for tests and diagnostics).</summary>
    public bool Listening { get; private set; }

    private async Task ListenAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var c = await _listenSource.OpenConnectionAsync(stop);
                c.Notification += (_, e) =>
                {
                    // Another node's commit (or this one's) with what it changed, before the watcher looks.
                    AccountCommits.Of(this).Notified(e.Payload);
                    Commits.Signal();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {CommitChannel}", c))
                    await listen.ExecuteNonQueryAsync(stop);
                Listening = true;
                // Commits made while the connection was down notified nobody: look once now.
                Commits.Signal();
                while (true)
                    await c.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // The database went away: the safety look goes on; listen again when it is back.
                Listening = false;
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public T Write<T>(string action, long? accountId, Func<IStoreSession, T> work) =>
        Timed("write", () => Queued(accountId, () => Guard(() => WriteLocked(action, accountId, work))));

    public T WriteOn<T>(string action, string resource, Func<IStoreSession, T> work) =>
        Timed("write", () => Queued(null, () => Guard(() => WriteOnLocked(action, resource, work))));

    /// <summary>The global lock shared (a write of no account still waits for a restore) and the resource's lock; no account's.</summary>
    private T WriteOnLocked<T>(string action, string resource, Func<IStoreSession, T> work)
    {
        using var c = Open();
        using var t = c.BeginTransaction(System.Data.IsolationLevel.ReadCommitted);
        c.Execute("SELECT pg_advisory_xact_lock_shared(@global, 0), pg_advisory_xact_lock(@kind, @key)",
            new { global = GlobalLock, kind = ResourceLock, key = ResourceKey(resource) }, t, commandTimeout: 300);
        var session = new SqlSession(c, t, Dialect.Postgres,
            other => c.Execute("SELECT pg_advisory_xact_lock(@kind, @key)", new { kind = ResourceLock, key = ResourceKey(other) }, t, commandTimeout: 300),
            others => LockAll(c, t, others));
        var result = work(session);
        if (session.Changed)
            throw new InvalidOperationException($"{action} on {resource} changed the control plane's state; only an account's write (or a write of no account) may");
        session.WriteTrail(null);
        t.Commit();
        return result;
    }

    /// <summary>
    /// The locks of several resources in one round trip, in the order of their keys (so two such
    /// writes never wait for each other crosswise); a key taken twice (two names colliding) is held
    /// twice, which an advisory lock allows.
    /// </summary>
    private static void LockAll(System.Data.IDbConnection c, System.Data.IDbTransaction t, IReadOnlyCollection<string> resources)
    {
        if (resources.Count == 0)
            return;
        var keys = resources.Select(ResourceKey).Distinct().Order().ToArray();
        c.Execute("SELECT count(pg_advisory_xact_lock(@kind, k)) FROM (SELECT k FROM unnest(@keys) AS k ORDER BY k) AS ordered",
            new { kind = ResourceLock, keys }, t, commandTimeout: 300);
    }

    /// <summary>A stable 32-bit key for a shared resource's name (the same on every node, unlike string hash codes).</summary>
    private static int ResourceKey(string resource) =>
        BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(resource)));

    private static int AccountKey(long accountId) => (int)(accountId ^ (accountId >>> 32));

    private T WriteLocked<T>(string action, long? accountId, Func<IStoreSession, T> work)
    {
        using var c = Open();
        using var t = c.BeginTransaction(System.Data.IsolationLevel.ReadCommitted);
        // Waiting here is queueing behind other writes of the account (or, for a write of no account,
        // behind all writes), not a fault: allow it longer than a statement. Two keys that collide
        // (two accounts with one 32-bit key) only queue together; nothing is lost.
        if (accountId is { } id)
            c.Execute("SELECT pg_advisory_xact_lock_shared(@global, 0), pg_advisory_xact_lock(@account, @key)", new { global = GlobalLock, account = AccountLock, key = AccountKey(id) }, t, commandTimeout: 300);
        else
            c.Execute("SELECT pg_advisory_xact_lock(@global, 0)", new { global = GlobalLock }, t, commandTimeout: 300);
        var session = new SqlSession(c, t, Dialect.Postgres,
            resource => c.Execute("SELECT pg_advisory_xact_lock(@kind, @key)", new { kind = ResourceLock, key = ResourceKey(resource) }, t, commandTimeout: 300));
        var result = work(session);
        if (!session.Changed)
        {
            session.WriteTrail(null);
            t.Commit();
            return result;
        }
        // Which hosts the change concerns, the account's own revision (gap-free under the account's
        // lock) and the trail are decided and written before the one global step, not under it.
        session.AffectedHosts();
        long? accountRevision = accountId is { } account ? session.LatestRevision(account) + 1 : null;
        session.WriteTrail(accountRevision);
        // The numbering is the one global step: the commit lock held from the batch that numbers the
        // revision (one round trip) to the commit, so revisions are gap-free and committed in their
        // order (the commit watcher reads "after the last seen"); the NOTIFY goes out at the commit.
        // What it changed, for this node's account views and (with the notice) the other nodes' (issue 17, fifteenth session).
        AccountCommits.Commit? made = accountId is { } changed ? new(changed, accountRevision!.Value, action, session.Touches()) : null;
        session.NumberRevisionUnderCommitLock(accountId, accountRevision, action, _clock.GetUtcNow(), CommitLock, CommitChannel, made is null ? null : AccountCommits.Payload(made));
        t.Commit();
        if (made is not null)
            AccountCommits.Of(this).Record(made);
        Commits.Signal();
        return result;
    }

    public void Dispose()
    {
        if (!_stopListening.IsCancellationRequested)
            _stopListening.Cancel();
        try
        {
            _listener.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        Commits.Dispose();
        _listenSource.Dispose();
        _nonceSource.Dispose();
        _source.Dispose();
    }
}
