using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// What a node needs to answer a host's <see cref="DescribeHostPolicy"/> without a store read (issue 17,
/// fourteenth session): per host, the inputs of its last answer on this node — the global revision it
/// was read at, the host's bindings, each account's own revision, and the host credential that read
/// it. With the commit watcher's <see cref="Storage.CommitLedger"/> (every commit since the node started,
/// in order, with the accounts and hosts it touched) the node proves them current:
/// <list type="bullet">
/// <item>the global revision is the ledger's after a look that began after the request came (every
/// commit before the request is in it, as a store read begun then would see);</item>
/// <item>an account's own revision is the ledger's latest for it, or the one held when it has not
/// committed since;</item>
/// <item>the bindings are the held ones unless an account's commit named the host since; then that
/// account's bindings come from its view at its new revision (a binding is made, undone or lost only
/// by a commit of its own account, which names the host: <see cref="AccountViews.View.BindingsOn"/>);</item>
/// <item>the credential is the held one, and no write of no account (a revocation, a rotation) named
/// the host since, nor did a commit name every host (a restore).</item>
/// </list>
/// Anything it cannot prove (a host not answered on this node yet, a view not loaded at the revision,
/// a rule not loaded, bindings of two accounts to merge, the ledger behind or the look failed) and the
/// fetch reads the store as before: <see cref="DescribeHostPolicy"/>'s store read is the slow twin,
/// and the answers are byte for byte the same (<c>HostScopeTests.AFetchServedFromMemory_IsTheStoreReadsAnswer_OrReadsTheStore</c>).
/// </summary>
internal sealed class HostFetches
{
    private static readonly ConditionalWeakTable<Storage.IStore, HostFetches> ByStore = new();

    /// <summary>The memory of a store (and so of a node: nodes have their own stores).</summary>
    public static HostFetches Of(Storage.IStore store) => ByStore.GetValue(store, _ => new HostFetches());

    /// <summary>At most this many hosts held (10,000 agents' hosts on one node fit many times); past it the memory starts again.</summary>
    public const int MaxHosts = 100_000;

    /// <summary>The inputs of a host's last answer on this node.</summary>
    internal sealed record Held(long Revision, string CredentialId, IReadOnlyList<HostBindingRecord> Bindings, IReadOnlyDictionary<long, long> AccountRevisions);

    private readonly ConcurrentDictionary<string, Held> _hosts = new(StringComparer.Ordinal);

    private long _served, _read;

    /// <summary>Fetches answered from memory (for the bench and tests).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Fetches that read the store.</summary>
    public long Read => Interlocked.Read(ref _read);

    internal void CountServed() => Interlocked.Increment(ref _served);

    internal void CountRead() => Interlocked.Increment(ref _read);

    /// <summary>Keeps a host's answer's inputs, unless this node holds a newer answer of the host already.</summary>
    public void Keep(string host, Held held)
    {
        if (_hosts.Count >= MaxHosts)
            _hosts.Clear();
        _hosts.AddOrUpdate(host, held, (_, old) => old.Revision > held.Revision ? old : held);
    }

    private readonly ConcurrentDictionary<(long Account, string Region, long Revision), Lazy<Task<bool>>> _loading = new();

    /// <summary>
    /// Loads an account's view at a revision once, however many fetches need it (issue 17: after one change
    /// a thousand hosts' fetches need the same new view): the first runs <paramref name="load"/>, the others
    /// await it, holding no thread and no store slot. True when the view is now kept at that revision.
    /// </summary>
    public async Task<bool> LoadOnceAsync((long Account, string Region, long Revision) view, Func<ValueTask<bool>> load)
    {
        // Lazy: a factory the dictionary calls twice in a race must not start two loads.
        var loading = _loading.GetOrAdd(view, _ => new Lazy<Task<bool>>(Run));
        return await loading.Value.ConfigureAwait(false);

        async Task<bool> Run()
        {
            await Task.Yield();
            try
            {
                return await load().ConfigureAwait(false);
            }
            catch (Exception e) when (e is Storage.StoreUnavailableException or NotInMemoryException)
            {
                return false;
            }
            finally
            {
                _loading.TryRemove(view, out _);
            }
        }
    }

    /// <summary>Forgets every host (tests: a node that just started).</summary>
    internal void Forget() => _hosts.Clear();

    /// <summary>
    /// The inputs of <paramref name="host"/>'s answer at the ledger's revision, proven from what the node
    /// holds; null when it cannot prove them (the caller reads the store).
    /// </summary>
    public Held? Current(Storage.CommitLedger ledger, AccountViews views, string host, string regionId, string credentialId) =>
        Current(ledger, views, host, regionId, credentialId, out _);

    /// <param name="missing">When null is returned because a view is not loaded at the revision it needs: that account and revision.</param>
    public Held? Current(Storage.CommitLedger ledger, AccountViews views, string host, string regionId, string credentialId, out (long Account, long Revision)? missing)
    {
        missing = null;
        if (!_hosts.TryGetValue(host, out var held) || held.CredentialId != credentialId)
            return null;
        if (ledger.ChangesFor(host, held.Revision, held.AccountRevisions.Keys) is not { } changes)
            return null;
        var revisions = new Dictionary<long, long>(held.AccountRevisions);
        foreach (var (account, revision) in changes.AccountRevisions)
            revisions[account] = revision;
        var bindings = held.Bindings;
        if (changes.TouchingAccounts.Count > 0)
        {
            // An account that named the host since may have bound or unbound a NIC there: its bindings
            // at its new revision, from its view; the others' are as held.
            var slices = new Dictionary<long, IReadOnlyList<HostBindingRecord>>();
            var same = true;
            foreach (var account in changes.TouchingAccounts)
            {
                if (!revisions.TryGetValue(account, out var revision))
                    return null;
                if (views.Kept(account, regionId, revision) is not { } view)
                {
                    missing = (account, revision);
                    return null;
                }
                var now = view.BindingsOn(host);
                slices[account] = now;
                same &= now.SequenceEqual(held.Bindings.Where(b => b.AccountId == account));
            }
            if (!same)
            {
                var merged = held.Bindings.Where(b => !slices.ContainsKey(b.AccountId)).Concat(slices.Values.SelectMany(b => b)).ToList();
                // The store orders a host's bindings by interface name in its own collation: one account's
                // come in that order from its view; bindings of several would have to be merged in it.
                if (merged.Select(b => b.AccountId).Distinct().Count() > 1)
                    return null;
                bindings = merged;
            }
        }
        var answered = bindings.Select(b => b.AccountId).Distinct().ToDictionary(a => a, a => revisions[a]);
        return new Held(changes.Revision, credentialId, bindings, answered);
    }
}

/// <summary>A host fetch served from memory needs what the node does not hold: it reads the store instead.</summary>
internal sealed class NotInMemoryException(string what) : Exception($"not in the node's memory: {what}")
{
    /// <summary>The account's view (account, revision) that was not kept, when that is what was missing.</summary>
    public (long Account, long Revision)? View { get; init; }
}
