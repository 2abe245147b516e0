using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Palisade.Server.Actions.Insight;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// An account's region as <see cref="DescribeHostPolicy"/> reads it, kept per store, account and
/// region while the account's revision stands (issue 17): after one change of an account with NICs on
/// a hundred hosts, the hundred hosts fetch at once, and the region is loaded, each part selected and
/// digested, and each resource rendered and hashed once on the node, not once per host. Keyed by the
/// account's own revision, read in the same consistent read as the request's state: every change of
/// an account's resources is a revision of that account (one transaction, one revision), so a view
/// of revision N holds exactly what any read at account revision N would load. A restore, the only
/// write of no account that changes resources, is refused on a store that has any account, so no
/// view can predate it. A request that reads an older revision than the view kept (a slower
/// concurrent read) computes its own and keeps nothing. Concurrent requests for a revision not kept
/// yet wait for one of them to load it. Each view is one account's, and a host is given the parts of
/// its own NICs only (what <see cref="DescribeHostPolicy"/> already grouped by account).
/// </summary>
internal sealed class AccountViews
{
    private static readonly ConditionalWeakTable<IStore, AccountViews> ByStore = new();

    /// <summary>The views of a store (and so of a node: nodes have their own stores).</summary>
    public static AccountViews Of(IStore store) => ByStore.GetValue(store, _ => new AccountViews());

    /// <summary>At most this many accounts' views kept on a node; the least recently used go first.</summary>
    public const int MaxAccounts = 64;

    private readonly ConcurrentDictionary<(long Account, string Region), Lazy<View>> _views = new();

    /// <summary>How many views were loaded (misses): what the bench and tests read to see that a hundred fetches shared one.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    private long _loads;

    /// <summary>The view of the account's region at <paramref name="accountRevision"/>, reading through <paramref name="s"/> what is not loaded yet.</summary>
    public View Get(IStoreSession s, long accountId, string regionId, long accountRevision)
    {
        var key = (accountId, regionId);
        while (true)
        {
            var lazy = _views.GetOrAdd(key, _ => Load(s, accountId, regionId, accountRevision));
            View view;
            try
            {
                view = lazy.Value;
            }
            catch
            {
                // A load that failed (the store could not answer) is not kept.
                _views.TryRemove(new KeyValuePair<(long, string), Lazy<View>>(key, lazy));
                throw;
            }
            if (view.AccountRevision == accountRevision)
            {
                view.Used = Environment.TickCount64;
                Trim();
                return view;
            }
            if (view.AccountRevision > accountRevision)
                return Load(s, accountId, regionId, accountRevision).Value;
            // Older than this read: replaced (by this request, or by a concurrent one for the same or a newer revision).
            _views.TryUpdate(key, Load(s, accountId, regionId, accountRevision), lazy);
        }
    }

    private Lazy<View> Load(IStoreSession s, long accountId, string regionId, long accountRevision) =>
        new(() =>
        {
            Interlocked.Increment(ref _loads);
            return new View(new StateExport.Source(s, accountId, regionId), accountRevision);
        }, LazyThreadSafetyMode.ExecutionAndPublication);

    private void Trim()
    {
        if (_views.Count <= MaxAccounts)
            return;
        // The least recently used go (a view being loaded stays: it is about to be used).
        foreach (var (key, _) in _views.Where(v => v.Value.IsValueCreated).OrderBy(v => v.Value.Value.Used).Take(_views.Count - MaxAccounts).ToList())
            _views.TryRemove(key, out _);
    }

    /// <summary>One account's region at one account revision, with its parts and resource hashes as first asked for.</summary>
    internal sealed class View
    {
        private readonly StateExport.Source _source;
        private readonly Dictionary<InstanceId, Storage.Records.InstanceRecord> _instances;
        private readonly ConcurrentDictionary<string, Lazy<PartEntry>> _parts = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<(char Kind, string Id), byte[]> _hashes = new();

        public View(StateExport.Source source, long accountRevision)
        {
            _source = source;
            AccountRevision = accountRevision;
            _instances = source.Instances.ToDictionary(i => i.Id);
        }

        public long AccountRevision { get; }

        public long Used { get; set; } = Environment.TickCount64;

        /// <summary>The loaded region, reading what is not loaded yet through the asking request's session.</summary>
        public StateExport.Source Source(IStoreSession s) => _source.Through(s);

        /// <summary>A part and what it is made of: its records, its digest and its resources with their hashes.</summary>
        internal sealed record PartEntry(StateExport.Part Part, string Digest, PartMemory.Resource[] Resources);

        /// <summary>The part of <paramref name="instance"/>'s bound ENIs, shared by every instance with the same groups.</summary>
        public PartEntry PartOf(StateExport.Source source, InstanceId instance)
        {
            var key = PartKey(instance);
            var lazy = _parts.GetOrAdd(key, _ => new Lazy<PartEntry>(() => Compute(source, instance), LazyThreadSafetyMode.ExecutionAndPublication));
            try
            {
                return lazy.Value;
            }
            catch
            {
                _parts.TryRemove(new KeyValuePair<string, Lazy<PartEntry>>(key, lazy));
                throw;
            }
        }

        /// <summary>The hash of a resource's rendering (its first <see cref="PartMemory.HashBytes"/> bytes of SHA-256).</summary>
        public byte[] HashOf(char kind, string id) => _hashes[(kind, id)];

        private byte[] HashOf(char kind, string id, Func<EcsObject> render) =>
            _hashes.TryGetValue((kind, id), out var hash) ? hash
                : _hashes.GetOrAdd((kind, id), SHA256.HashData(ResponseWriter.Json(render()))[..PartMemory.HashBytes]);

        private PartEntry Compute(StateExport.Source source, InstanceId instance)
        {
            var part = StateExport.Select(source, new HashSet<InstanceId> { instance });
            var members = new List<PartMemory.Resource>();
            foreach (var g in part.Groups)
                members.Add(new('g', g.Id.Value, HashOf('g', g.Id.Value, () => StateExport.GroupItem(source, g))));
            foreach (var i in part.Instances)
                members.Add(new('i', i.Id.Value, HashOf('i', i.Id.Value, () => StateExport.InstanceItem(source, i))));
            foreach (var e in part.Interfaces)
                members.Add(new('e', e.Id.Value, HashOf('e', e.Id.Value, () => StateExport.InterfaceItem(source, e))));
            foreach (var l in part.PrefixLists)
                members.Add(new('p', l.Id.Value, HashOf('p', l.Id.Value, () => PrefixLists.PrefixListRequests.Attributes(l))));
            foreach (var l in part.PortRangeLists)
                members.Add(new('r', l.Id.Value, HashOf('r', l.Id.Value, () => PortRangeLists.PortRangeListRequests.Attributes(l))));
            // The part's digest: its resources' kinds, IDs and hashes in its order — it changes
            // exactly when the part's rendering would.
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var m in members)
            {
                digest.AppendData([(byte)m.Kind]);
                digest.AppendData(System.Text.Encoding.UTF8.GetBytes(m.Id));
                digest.AppendData(m.Hash);
            }
            var hex = Convert.ToHexStringLower(digest.GetHashAndReset())[..32];
            var resources = members.ToArray();
            PartMemory.Remember(hex, resources);
            return new PartEntry(part, hex, resources);
        }

        /// <summary>
        /// What decides an instance's part: its groups (its own and its ENIs'). Every instance is in its
        /// part through them, so two instances with the same groups have the same part. An instance in
        /// no group (none is, in ECS) or not in the region has a part of its own.
        /// </summary>
        private string PartKey(InstanceId instance)
        {
            if (!_instances.TryGetValue(instance, out var record))
                return "i:" + instance.Value;
            var groups = record.SecurityGroupIds.Concat(_source.Addresses.Interfaces(instance).SelectMany(e => e.SecurityGroupIds))
                .Select(g => g.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            return groups.Count == 0 ? "i:" + instance.Value : "g:" + string.Join(",", groups);
        }
    }
}
