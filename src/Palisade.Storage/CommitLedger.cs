namespace Palisade.Storage;

/// <summary>
/// What the node's commit watcher learned of every commit since it started (issue 17, the host fetch
/// served from memory): each account's latest own revision, and per host the latest revision of each
/// account that touched it, of a write of no account that touched it, and of a commit that touched
/// every host. The watcher reads every commit after the last it saw, in commit order and without gaps
/// (revisions are numbered under the commit lock on PostgreSQL, by the one writer on SQLite), so the
/// ledger is complete for the commits in (<see cref="Since"/>, <see cref="Seen"/>]: a fetch answered at
/// an earlier revision can be proven unchanged at <see cref="Seen"/> from it, or not (then it reads
/// the store). Updated under one lock per look; read under it, so a reader sees one consistent
/// revision. Its size is the hosts and accounts that changed since the node started, a few dozen
/// bytes each.
/// </summary>
public sealed class CommitLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (long Revision, long AccountRevision)> _accounts = [];
    private readonly Dictionary<string, HostTouches> _hosts = new(StringComparer.Ordinal);
    private long _everyHost;
    // The last revision that touched each scope (host, account, every host): what a parked poll's scope asks.
    private readonly Dictionary<string, long> _lastTouched = new(StringComparer.Ordinal);
    private long _seen;

    internal CommitLedger(long since)
    {
        Since = since;
        _seen = since;
    }

    /// <summary>The global revision the watcher started after: the ledger knows nothing of the commits up to it.</summary>
    public long Since { get; }

    /// <summary>The newest global revision recorded (every commit up to it is).</summary>
    public long Seen
    {
        get
        {
            lock (_lock)
                return _seen;
        }
    }

    /// <summary>Per host: the latest revision of each account that touched it, and of a write of no account that did.</summary>
    private sealed class HostTouches(long feedFrom)
    {
        public readonly Dictionary<long, long> ByAccount = [];
        public long WithoutAccount;

        /// <summary>
        /// The host's feed as the store answers it (<c>ListHostRevisions</c>): the commits that named the
        /// host, oldest first, complete for the revisions after <see cref="FeedFrom"/> (the ledger's start,
        /// or the newest entry dropped to bound it, or a commit read without its action).
        /// </summary>
        public readonly List<Records.RevisionRecord> Feed = [];

        public long FeedFrom = feedFrom;
    }

    /// <summary>The most commits kept per host for its feed; past it the older half is dropped (a poll that far behind reads the store).</summary>
    internal const int FeedPerHost = 64;

    /// <summary>Records the commits of one look, oldest first (the watcher's, before it wakes anyone).</summary>
    internal void Record(IReadOnlyList<CommittedRevision> committed)
    {
        if (committed.Count == 0)
            return;
        lock (_lock)
        {
            foreach (var revision in committed)
            {
                if (revision.Revision <= _seen)
                    continue;
                if (revision.AccountId is { } account)
                    _accounts[account] = (revision.Revision, revision.AccountRevision ?? 0);
                // One record per commit, shared by the feeds of every host it named (a 1,000-host change: one, not a thousand).
                var record = revision.Action is { } action ? new Records.RevisionRecord(revision.Revision, revision.AccountId, action, revision.CommittedAt) : null;
                foreach (var scope in revision.Scopes)
                {
                    _lastTouched[scope.Key] = revision.Revision;
                    if (scope == CommitScope.EveryHost)
                        _everyHost = revision.Revision;
                    else if (scope.Key.StartsWith("h:", StringComparison.Ordinal))
                    {
                        var host = scope.Key[2..];
                        if (!_hosts.TryGetValue(host, out var touches))
                            _hosts[host] = touches = new HostTouches(Since);
                        if (revision.AccountId is { } a)
                            touches.ByAccount[a] = revision.Revision;
                        else
                            touches.WithoutAccount = revision.Revision;
                        if (record is not null)
                        {
                            touches.Feed.Add(record);
                            if (touches.Feed.Count > FeedPerHost)
                            {
                                touches.FeedFrom = touches.Feed[FeedPerHost / 2 - 1].Revision;
                                touches.Feed.RemoveRange(0, FeedPerHost / 2);
                            }
                        }
                        else
                        {
                            // Not read with its action: the feed up to here is unknown.
                            touches.Feed.Clear();
                            touches.FeedFrom = revision.Revision;
                        }
                    }
                }
                _seen = revision.Revision;
            }
        }
    }

    /// <summary>
    /// Whether no commit after global revision <paramref name="after"/> touched any of
    /// <paramref name="scopes"/> (issue 17: a host's renewal answered without its store read):
    /// <paramref name="after"/> is no older than the ledger's start and no newer than what it recorded,
    /// and no revision it recorded since touched them. Then a poll from <paramref name="after"/> would
    /// read an empty feed; a commit not recorded yet wakes the poll once the watcher sees it, as for any
    /// parked poll. False when it cannot say.
    /// </summary>
    public bool UntouchedSince(IReadOnlyList<CommitScope> scopes, long after)
    {
        lock (_lock)
        {
            if (after < Since || after > _seen)
                return false;
            foreach (var scope in scopes)
            {
                if (_lastTouched.TryGetValue(scope.Key, out var last) && last > after)
                    return false;
            }
            return true;
        }
    }

    /// <summary>
    /// What changed for <paramref name="host"/> after global revision <paramref name="after"/>, up to
    /// <see cref="Seen"/>, in one consistent view; null when the ledger cannot tell (it started after
    /// <paramref name="after"/>, or has not recorded up to it yet), when a write of no account touched
    /// the host (its credentials), or a commit touched every host (a restore).
    /// </summary>
    /// <param name="accounts">The accounts whose latest revision the caller needs (those it held at <paramref name="after"/>).</param>
    public HostChanges? ChangesFor(string host, long after, IEnumerable<long> accounts)
    {
        lock (_lock)
        {
            if (after < Since || after > _seen || _everyHost > after)
                return null;
            var touching = new List<long>();
            if (_hosts.TryGetValue(host, out var touches))
            {
                if (touches.WithoutAccount > after)
                    return null;
                touching.AddRange(touches.ByAccount.Where(t => t.Value > after).Select(t => t.Key));
            }
            var revisions = new Dictionary<long, long>();
            foreach (var account in accounts.Concat(touching))
            {
                // An account with no commit after `after` keeps the revision the caller held.
                if (_accounts.TryGetValue(account, out var latest) && latest.Revision > after)
                    revisions[account] = latest.AccountRevision;
            }
            return new HostChanges(_seen, touching, revisions);
        }
    }

    /// <summary>
    /// The host's feed after global revision <paramref name="after"/> up to <see cref="Seen"/>, as a store
    /// read at <see cref="Seen"/> answers it (<c>ListHostRevisions</c>, at most <paramref name="max"/>),
    /// when the ledger can prove it (issue 17, fifteenth session: the woken host poll answered without a
    /// read): the ledger knows every commit after <paramref name="after"/> and after
    /// <paramref name="credentialFoundAt"/>, none of them touched every host or was a write of no account
    /// naming the host (a credential revoked or rotated: the store decides), and the host's feed was kept
    /// that far back. Null when it cannot: the caller reads the store.
    /// </summary>
    /// <param name="credentialFoundAt">The global revision at which a read last found the caller's credential for this host.</param>
    public (long Revision, IReadOnlyList<Records.RevisionRecord> Changes)? HostFeed(string host, long after, long credentialFoundAt, int max)
    {
        lock (_lock)
        {
            var since = Math.Min(after, credentialFoundAt);
            if (since < Since || after > _seen || credentialFoundAt > _seen || _everyHost > since)
                return null;
            if (!_hosts.TryGetValue(host, out var touches))
                return (_seen, []);
            if (touches.WithoutAccount > since || touches.FeedFrom > after)
                return null;
            return (_seen, [.. touches.Feed.Where(r => r.Revision > after).Take(max)]);
        }
    }

    /// <summary>
    /// What the ledger says of a host between a revision and <see cref="Revision"/>: the accounts that
    /// touched the host (a binding made or undone is one of its own account's commits that names the
    /// host), and the latest own revision of each asked-for or touching account that committed since.
    /// </summary>
    public sealed record HostChanges(long Revision, IReadOnlyList<long> TouchingAccounts, IReadOnlyDictionary<long, long> AccountRevisions);
}
