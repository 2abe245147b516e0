using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Palisade.Analysis.Reachability;
using Palisade.Domain.State;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// The "before" side of a dry run's impact (issue 19): the account's region as the analysis sees it
/// and its reachability matrix, kept per store, account and region while the account's revision
/// stands. Every new question about the same state compares against the same before, so the state
/// is loaded and its matrix built once per revision, not once per question — half the work and the
/// garbage of an impact. Keyed by the account's own revision read in the same consistent read as the
/// state (as <see cref="Hosts.AccountViews"/>): every change of an account's resources is a revision of
/// that account, and <see cref="StoredState.Load"/> reads that account's rows only, so the before of
/// revision N is what any read at account revision N would load. A read that sees an older revision
/// than the one kept (a slower concurrent read) loads its own and keeps nothing. An entry is one
/// account's and is found only under that account's ID: never served across accounts.
/// </summary>
internal sealed class ImpactBefores
{
    private static readonly ConditionalWeakTable<IStore, ImpactBefores> ByStore = new();

    /// <summary>The befores of a store (nodes have their own stores).</summary>
    public static ImpactBefores Of(IStore store) => ByStore.GetValue(store, _ => new ImpactBefores());

    /// <summary>At most this many (account, region) befores kept on a node; the least recently used go first.</summary>
    public const int MaxKept = 64;

    private readonly ConcurrentDictionary<(long Account, string Region), Before> _kept = new();
    private long _loads;

    /// <summary>States loaded (misses): what tests read to see that questions shared one.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>The before of the account's region as <paramref name="s"/> reads it: kept, or loaded (and kept).</summary>
    public Before Get(IStoreSession s, long accountId, string regionId)
    {
        var revision = s.LatestRevision(accountId);
        var key = (accountId, regionId);
        if (_kept.TryGetValue(key, out var kept) && kept.AccountRevision == revision)
        {
            kept.Used = Environment.TickCount64;
            return kept;
        }
        Interlocked.Increment(ref _loads);
        var loaded = new Before(accountId, revision, StoredState.Load(s, accountId, regionId));
        _kept.AddOrUpdate(key, loaded, (_, old) => old.AccountRevision > revision ? old : loaded);
        Trim();
        return loaded;
    }

    /// <summary>Forgets every before (tests; an operator's restore goes through a store with no account).</summary>
    public void Clear() => _kept.Clear();

    private void Trim()
    {
        if (_kept.Count <= MaxKept)
            return;
        foreach (var (key, _) in _kept.OrderBy(k => k.Value.Used).Take(_kept.Count - MaxKept).ToList())
            _kept.TryRemove(key, out _);
    }

    /// <summary>One account's region at one account revision, and (built on first use) its IPv4 matrix.</summary>
    internal sealed class Before(long accountId, long accountRevision, NetworkState state)
    {
        private ReachMatrix? _matrix;

        public long AccountId { get; } = accountId;

        public long AccountRevision { get; } = accountRevision;

        public NetworkState State { get; } = state;

        public long Used { get; set; } = Environment.TickCount64;

        /// <summary>
        /// A matrix fills caches as it is read (unions of classes, the internet's answers): whoever reads
        /// it holds this. An account's analyses run one at a time by default, so it is rarely waited on.
        /// </summary>
        public Lock Gate { get; } = new();

        /// <summary>The matrix of <see cref="State"/>, built the first time it is asked for; under <see cref="Gate"/>.</summary>
        public ReachMatrix Matrix() => _matrix ??= ReachMatrix.Build(State);
    }
}
