using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Palisade.Domain.State;
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
    public static AccountViews Of(IStore store) => ByStore.GetValue(store, s => new AccountViews(Storage.AccountCommits.Of(s)));

    private readonly Storage.AccountCommits _commits;

    private AccountViews(Storage.AccountCommits commits) => _commits = commits;

    /// <summary>At most this many accounts' views kept on a node; the least recently used go first.</summary>
    public const int MaxAccounts = 64;

    private readonly ConcurrentDictionary<(long Account, string Region), Lazy<View>> _views = new();

    /// <summary>How many views were loaded (misses): what the bench and tests read to see that a hundred fetches shared one.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>How many views were brought forward from the previous revision's by the commits between (issue 17, fifteenth session), not loaded whole.</summary>
    public long Forwards => Interlocked.Read(ref _forwards);

    private long _loads, _forwards, _loadTicks, _forwardTicks;

    /// <summary>The time spent loading views whole and bringing them forward, in <see cref="System.Diagnostics.Stopwatch"/> ticks (for the bench).</summary>
    public (long Loading, long Forwarding) Ticks => (Interlocked.Read(ref _loadTicks), Interlocked.Read(ref _forwardTicks));

    /// <summary>
    /// The actions whose writes are all named by what they touch, as <see cref="View.Forward"/> reads
    /// them again: a rule added, removed or modified, or a group's own attributes (the group's row and its
    /// rules: <c>Group</c>); an instance or ENI joining or leaving a group (its memberships:
    /// <c>Instance</c>, <c>NetworkInterface</c>); an instance run or deleted (sixteenth session: its row,
    /// addresses, memberships, ENIs, tags and EIP, and the bindings its deletion took with it —
    /// <c>Instance</c>, its primary ENI's <c>NetworkInterface</c>, <c>Binding</c>); a binding made or undone
    /// (the operator's: the bindings on the hosts it names, <c>Host</c>, and on those that carried the
    /// instance's NICs, <c>Binding</c>). Any other action, or one of these that touched anything else, and
    /// the view is reloaded whole (tags, lists, ENIs made, attached or detached). A group made or deleted, or
    /// renamed (seventeenth session: the group's row, <c>Group</c>; a deletion also names its members,
    /// <c>Members</c>, which it may not have), is read again too: one made is put at its place with its tags.
    /// A tag written with an instance is not touched (tags change no host's policy): the step reads a
    /// touched instance's tags again, so the actions here must tag nothing else.
    /// </summary>
    private static readonly Dictionary<string, string[]> Forwardable = new(StringComparer.Ordinal)
    {
        ["AuthorizeSecurityGroup"] = ["Group"],
        ["AuthorizeSecurityGroupEgress"] = ["Group"],
        ["RevokeSecurityGroup"] = ["Group"],
        ["RevokeSecurityGroupEgress"] = ["Group"],
        ["ModifySecurityGroupRule"] = ["Group"],
        ["ModifySecurityGroupEgressRule"] = ["Group"],
        ["ModifySecurityGroupPolicy"] = ["Group"],
        ["ModifySecurityGroupAttribute"] = ["Group"],
        ["CreateSecurityGroup"] = ["Group"],
        ["DeleteSecurityGroup"] = ["Group", "Members"],
        ["JoinSecurityGroup"] = ["Instance", "NetworkInterface"],
        ["LeaveSecurityGroup"] = ["Instance", "NetworkInterface"],
        ["RunInstances"] = ["Instance", "NetworkInterface"],
        ["CreateInstance"] = ["Instance", "NetworkInterface"],
        ["DeleteInstance"] = ["Instance", "NetworkInterface", "Binding"],
        ["DeleteInstances"] = ["Instance", "NetworkInterface", "Binding"],
        ["BindHostInterface"] = ["Binding", "Host"],
        ["UnbindHostInterface"] = ["Binding", "Host"],
    };

    /// <summary>At most this many commits brought forward at once; further behind, a whole load is as cheap.</summary>
    public const int MaxForward = 64;

    /// <summary>
    /// What commits changed of an account's views: the groups (their rows and rules), the instances and ENIs
    /// (their rows, memberships, ENIs, tags and EIPs; instances run or deleted), the instances whose bindings
    /// were made or undone, and the hosts bound to.
    /// </summary>
    internal sealed record Changed(
        HashSet<Domain.Identifiers.SecurityGroupId> Groups,
        HashSet<Domain.Identifiers.InstanceId> Instances,
        HashSet<Domain.Identifiers.NetworkInterfaceId> Interfaces,
        HashSet<Domain.Identifiers.InstanceId> Bindings,
        HashSet<string> Hosts)
    {
        public Changed()
            : this([], [], [], [], new HashSet<string>(StringComparer.Ordinal))
        {
        }
    }

    /// <summary>
    /// What the commits after <paramref name="from"/> up to <paramref name="to"/> of the account changed of
    /// its views, when this node knows each of them and it is an action <see cref="Forwardable"/>; null when any is not.
    /// </summary>
    private Changed? Changes(long accountId, long from, long to)
    {
        if (to <= from || to - from > MaxForward)
            return null;
        var changed = new Changed();
        for (var revision = from + 1; revision <= to; revision++)
        {
            if (_commits.Find(accountId, revision) is not { Touched: { } touched } commit || !Forwardable.TryGetValue(commit.Action, out var kinds))
                return null;
            foreach (var (kind, id) in touched)
            {
                if (!kinds.Contains(kind))
                    return null;
                switch (kind)
                {
                    case "Group":
                    case "Members":
                        changed.Groups.Add(Domain.Identifiers.SecurityGroupId.Parse(id));
                        break;
                    case "Instance":
                        changed.Instances.Add(Domain.Identifiers.InstanceId.Parse(id));
                        break;
                    case "NetworkInterface":
                        changed.Interfaces.Add(Domain.Identifiers.NetworkInterfaceId.Parse(id));
                        break;
                    case "Binding":
                        changed.Bindings.Add(Domain.Identifiers.InstanceId.Parse(id));
                        break;
                    default:
                        changed.Hosts.Add(id);
                        break;
                }
            }
        }
        return changed;
    }

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
            // Older than this read: replaced (by this request, or by a concurrent one for the same or a newer
            // revision) — brought forward from it when this node knows what the commits between changed.
            _views.TryUpdate(key, Load(s, accountId, regionId, accountRevision, view), lazy);
        }
    }

    private Lazy<View> Load(IStoreSession s, long accountId, string regionId, long accountRevision, View? previous = null) =>
        new(() =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (previous is not null && Changes(accountId, previous.AccountRevision, accountRevision) is { } changes
                && previous.Forward(s, accountRevision, changes) is { } forward)
            {
                Interlocked.Increment(ref _forwards);
                Interlocked.Add(ref _forwardTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
                return forward;
            }
            var whole = Whole(s, accountId, regionId, accountRevision);
            Interlocked.Add(ref _loadTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
            return whole;
        }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The account's view loaded whole by one read at <paramref name="accountRevision"/> (the slow twin of a
    /// view brought forward: <c>HostScopeTests.AViewBroughtForward_AnswersAsTheWholeReload</c>).
    /// </summary>
    internal View Whole(IStoreSession s, long accountId, string regionId, long accountRevision)
    {
        Interlocked.Increment(ref _loads);
        var source = new StateExport.Source(s, accountId, regionId);
        // Everything a fetch served from memory needs, from this one read (issue 17, fourteenth
        // session): every group's rules (one query) and the account's bindings on every host.
        source.LoadRules(s);
        return new View(source, accountRevision, s.ListHostBindings(accountId, null));
    }

    /// <summary>
    /// The view of the account's region at <paramref name="accountRevision"/> if this node keeps it loaded,
    /// else null (a host fetch served from memory then reads the store, which loads it).
    /// </summary>
    public View? Kept(long accountId, string regionId, long accountRevision)
    {
        if (!_views.TryGetValue((accountId, regionId), out var lazy) || !lazy.IsValueCreated)
            return null;
        View view;
        try
        {
            view = lazy.Value;
        }
        catch
        {
            return null;
        }
        if (view.AccountRevision != accountRevision)
            return null;
        view.Used = Environment.TickCount64;
        return view;
    }

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
        private readonly ConcurrentDictionary<string, Lazy<PartEntry>> _parts = new(StringComparer.Ordinal);
        // Not readonly: a view brought forward is given the previous view's, read through (Forward), before it is shared.
        private Renderings _rendered = new(0);

        /// <summary>
        /// Each instance's key in the region's order (ascending as the list goes; seventeenth session: keys with
        /// room between them, so that an instance run is put at its place without renumbering the others), its
        /// record and its groups (its own and its ENIs'). Never written after the view is built.
        /// </summary>
        private readonly Dictionary<InstanceId, Entry> _entries;

        /// <summary>Each group's members (instances through their own or an ENI's membership), by key, ascending; a list may be empty.</summary>
        private readonly Dictionary<SecurityGroupId, List<Member>> _members;

        /// <param name="PartKey">What decides the instance's part (<see cref="PartKeyOf"/>): made with the entry, once per instance a view indexes anew, and shared with the entries a stepped view keeps.</param>
        internal readonly record struct Entry(long Key, InstanceRecord Record, SecurityGroupId[] Groups, string PartKey)
        {
            public static Entry Of(long key, InstanceRecord record, SecurityGroupId[] groups) => new(key, record, groups, PartKeyOf(record.Id, groups));
        }

        internal readonly record struct Member(long Key, InstanceId Id);

        private sealed class ByKey : IComparer<Member>
        {
            public static readonly ByKey Instance = new();

            public int Compare(Member a, Member b) => a.Key.CompareTo(b.Key);
        }

        /// <summary>The room left between two instances' keys when the indexes are built: 2^32 (thirty-two instances run between the same two before a rebuild).</summary>
        internal const long KeyGap = 1L << 32;

        private static long _indexesStepped, _indexesBuilt;

        /// <summary>How many views' indexes were stepped from the previous view's and how many built over the whole region (for the bench and tests).</summary>
        public static (long Stepped, long Built) Indexes => (Interlocked.Read(ref _indexesStepped), Interlocked.Read(ref _indexesBuilt));

        /// <summary>The account's bindings (of every region: a binding names its instance), by host, in <c>ListBindingsOnHost</c>'s order.</summary>
        private readonly ILookup<string, Storage.Records.HostBindingRecord> _bindings;

        public View(StateExport.Source source, long accountRevision, IReadOnlyList<Storage.Records.HostBindingRecord>? bindings = null)
        {
            _source = source;
            AccountRevision = accountRevision;
            _bindings = (bindings ?? []).ToLookup(b => b.HostName, StringComparer.Ordinal);
            // The indexes a part's selection walks (issue 17): the groups an instance is in and the
            // members of a group, built once per view, so that selecting a part costs the part, not
            // the region (StateExport.Select, the slow twin, scans every instance for every part).
            (_entries, _members) = Build(source);
            Interlocked.Increment(ref _indexesBuilt);
        }

        /// <summary>The indexes over the whole region (the slow twin of <see cref="Stepped"/>).</summary>
        private static (Dictionary<InstanceId, Entry>, Dictionary<SecurityGroupId, List<Member>>) Build(StateExport.Source source)
        {
            var entries = new Dictionary<InstanceId, Entry>(source.Instances.Count);
            var members = new Dictionary<SecurityGroupId, List<Member>>();
            for (var index = 0; index < source.Instances.Count; index++)
            {
                var instance = source.Instances[index];
                var entry = Entry.Of(index * KeyGap, instance, GroupsOf(source, instance));
                entries[instance.Id] = entry;
                foreach (var g in entry.Groups)
                {
                    if (!members.TryGetValue(g, out var list))
                        members[g] = list = [];
                    list.Add(new Member(entry.Key, instance.Id));
                }
            }
            return (entries, members);
        }

        private static SecurityGroupId[] GroupsOf(StateExport.Source source, InstanceRecord instance) =>
            instance.SecurityGroupIds.Concat(source.Addresses.Interfaces(instance.Id).SelectMany(e => e.SecurityGroupIds)).Distinct().ToArray();

        private View(StateExport.Source source, long accountRevision, ILookup<string, Storage.Records.HostBindingRecord> bindings)
            : this(source, accountRevision) => _bindings = bindings;

        /// <summary>
        /// A view of the same instances with the same groups and ENIs as <paramref name="same"/> (brought
        /// forward by rule changes alone): its indexes, and the part keys in their entries, are these, shared
        /// (never written after they are built).
        /// </summary>
        private View(StateExport.Source source, long accountRevision, View same, ILookup<string, Storage.Records.HostBindingRecord> bindings)
        {
            _source = source;
            AccountRevision = accountRevision;
            _bindings = bindings;
            _entries = same._entries;
            _members = same._members;
        }

        private View(StateExport.Source source, long accountRevision, Dictionary<InstanceId, Entry> entries, Dictionary<SecurityGroupId, List<Member>> members,
            ILookup<string, Storage.Records.HostBindingRecord> bindings)
        {
            _source = source;
            AccountRevision = accountRevision;
            _bindings = bindings;
            _entries = entries;
            _members = members;
        }

        /// <summary>
        /// The view over <paramref name="source"/> (this view's region with <paramref name="touched"/> read again,
        /// <see cref="StateExport.Source.Forward"/>) with this view's indexes stepped, not built again (seventeenth
        /// session: a 1,000-host join rebuilt them for 10,000 instances): a touched instance that went is taken
        /// out of its groups' member lists, one that stayed keeps its key, one run is given a key between its
        /// neighbours' in the list, and each present is put in its groups' lists at its key. The other
        /// instances' entries are shared; the dictionaries and the touched groups' lists are copies (this view
        /// is still read by the requests that hold it). Null when there is no room between two keys: the
        /// caller builds the indexes whole (<see cref="Build"/>, the slow twin;
        /// <c>HostScopeTests.AViewBroughtForward_AnswersAsTheWholeReload</c> checks the two alike after every step).
        /// </summary>
        private View? Stepped(StateExport.Source source, long accountRevision, IReadOnlySet<InstanceId> touched, ILookup<string, Storage.Records.HostBindingRecord> bindings)
        {
            var entries = new Dictionary<InstanceId, Entry>(_entries);
            var members = new Dictionary<SecurityGroupId, List<Member>>(_members);
            var copied = new HashSet<SecurityGroupId>();
            List<Member> Writable(SecurityGroupId g)
            {
                if (copied.Add(g))
                    return members[g] = members.TryGetValue(g, out var shared) ? [.. shared] : [];
                return members[g];
            }
            foreach (var id in touched)
            {
                if (!entries.Remove(id, out var was))
                    continue;
                foreach (var g in was.Groups)
                {
                    var list = Writable(g);
                    list.RemoveAt(list.BinarySearch(new Member(was.Key, id), ByKey.Instance));
                }
            }
            // The touched instances present now, in the list's order: a neighbour before one run is placed first.
            for (var k = 0; k < source.Instances.Count; k++)
            {
                var record = source.Instances[k];
                if (!touched.Contains(record.Id))
                    continue;
                long key;
                if (_entries.TryGetValue(record.Id, out var was))
                {
                    key = was.Key;
                }
                else
                {
                    long? low = k > 0 ? KeyOf(source.Instances[k - 1].Id) : null, high = null;
                    for (var j = k + 1; j < source.Instances.Count && high is null; j++)
                        high = KeyOf(source.Instances[j].Id);
                    switch (low, high)
                    {
                        case (null, null):
                            key = 0;
                            break;
                        case ({ } l, null):
                            if (l > long.MaxValue - KeyGap)
                                return null;
                            key = l + KeyGap;
                            break;
                        case (null, { } h):
                            if (h < long.MinValue + KeyGap)
                                return null;
                            key = h - KeyGap;
                            break;
                        case ({ } l, { } h):
                            if (h - l < 2)
                                return null;
                            key = l + (h - l) / 2;
                            break;
                    }
                }
                var entry = Entry.Of(key, record, GroupsOf(source, record));
                entries[record.Id] = entry;
                foreach (var g in entry.Groups)
                {
                    var list = Writable(g);
                    var at = list.BinarySearch(new Member(key, record.Id), ByKey.Instance);
                    list.Insert(at < 0 ? ~at : at, new Member(key, record.Id));
                }
            }
            Interlocked.Increment(ref _indexesStepped);
            return new View(source, accountRevision, entries, members, bindings);

            // An instance's key: placed already, or one that stayed (its key kept); null for one run not placed yet.
            long? KeyOf(InstanceId id) =>
                entries.TryGetValue(id, out var e) ? e.Key : _entries.TryGetValue(id, out var p) ? p.Key : null;
        }

        /// <summary>
        /// How this view's indexes differ from those built over its region whole (<see cref="Build"/>), or null
        /// when they agree: the same instances with the same records and groups, keys in the list's order, and
        /// each group's members the same instances in that order (for <c>HostScopeTests</c>).
        /// </summary>
        internal string? IndexesDifferFromABuild()
        {
            var (entries, members) = Build(_source);
            if (entries.Count != _entries.Count)
                return $"{_entries.Count} instances indexed, {entries.Count} in the region";
            long? last = null;
            foreach (var instance in _source.Instances)
            {
                if (!_entries.TryGetValue(instance.Id, out var mine))
                    return $"{instance.Id} not indexed";
                if (!ReferenceEquals(mine.Record, instance) || !mine.Groups.ToHashSet().SetEquals(entries[instance.Id].Groups))
                    return $"{instance.Id}'s record or groups differ";
                if (mine.PartKey != PartKeySlow(instance.Id, entries[instance.Id].Groups))
                    return $"{instance.Id}'s part key is {mine.PartKey}, its groups' {PartKeySlow(instance.Id, entries[instance.Id].Groups)}";
                if (last is { } l && mine.Key <= l)
                    return $"{instance.Id}'s key is out of the list's order";
                last = mine.Key;
            }
            foreach (var (g, list) in members)
            {
                var ids = string.Join(" ", list.Select(m => m.Id.Value));
                var kept = _members.TryGetValue(g, out var k) ? string.Join(" ", k.Select(m => m.Id.Value)) : "";
                if (ids != kept)
                    return $"{g}'s members differ: {kept} vs {ids}";
                if (k!.Any(m => _entries[m.Id].Key != m.Key))
                    return $"{g}'s member keys differ from the instances'";
            }
            var extra = _members.Where(m => m.Value.Count > 0 && !members.ContainsKey(m.Key)).Select(m => m.Key.Value).FirstOrDefault();
            return extra is null ? null : $"{extra} has members indexed, none in the region";
        }

        public long AccountRevision { get; }

        /// <summary>
        /// This view brought forward to <paramref name="accountRevision"/> by commits that changed only the rows
        /// and rules of <paramref name="groups"/> and the memberships of <paramref name="instances"/> and
        /// <paramref name="interfaces"/> (the bench's view cost: <see cref="Forward(IStoreSession, long, Changed)"/>).
        /// </summary>
        internal View? Forward(IStoreSession s, long accountRevision, IReadOnlySet<Domain.Identifiers.SecurityGroupId> groups,
            IReadOnlySet<Domain.Identifiers.InstanceId> instances, IReadOnlySet<Domain.Identifiers.NetworkInterfaceId> interfaces) =>
            Forward(s, accountRevision, new Changed([.. groups], [.. instances], [.. interfaces], [], new HashSet<string>(StringComparer.Ordinal)));

        /// <summary>
        /// This view brought forward to <paramref name="accountRevision"/> by commits that changed only what
        /// <paramref name="changed"/> names (issue 17, fifteenth and sixteenth sessions): those read again through
        /// <paramref name="s"/>, a read at that revision, in a few small queries instead of the account's whole
        /// region — the touched groups' rows and rules; the touched instances (and those a touched ENI was or is
        /// attached to) with their ENIs, tags and EIP, an instance run put at its place and one deleted taken
        /// out; the touched ENIs' tags and EIPs; the bindings on the hosts named and on those that carried a
        /// touched instance's NICs. Every other record and binding is shared, and every rendering that none of
        /// them changed kept (a group's rendering is its row, tags and rules; an instance's its row, tags, ENIs
        /// and EIP; an ENI's its row, tags and EIP). Parts are selected again (from the kept renderings). Null
        /// when a touched group appeared or went, or an instance's place is not certain: the caller loads whole.
        /// </summary>
        internal View? Forward(IStoreSession s, long accountRevision, Changed changed)
        {
            // An ENI's groups show in its instance's view (its ENIs) while it is attached; one attached to nothing is in no view.
            var owners = new HashSet<Domain.Identifiers.InstanceId>(changed.Instances);
            foreach (var e in changed.Interfaces)
            {
                if (s.NetworkInterfaces.Find(_source.AccountId, e) is { InstanceId: { } owner })
                    owners.Add(owner);
                if (_source.Addresses.OwnerOf(e) is { } before)
                    owners.Add(before);
            }
            if (_source.Forward(s, changed.Groups, owners, changed.Interfaces) is not { } source)
                return null;
            // The bindings read again only on the hosts a commit may have changed them on: those it bound to,
            // and those that carried a NIC of an instance whose binding was undone or moved, or which went.
            var hosts = new HashSet<string>(changed.Hosts, StringComparer.Ordinal);
            if (changed.Bindings.Count > 0 || owners.Count > 0)
            {
                foreach (var b in _bindings.SelectMany(g => g))
                {
                    if (changed.Bindings.Contains(b.InstanceId) || owners.Contains(b.InstanceId))
                        hosts.Add(b.HostName);
                }
            }
            var bindings = _bindings;
            if (hosts.Count > 0)
            {
                var again = hosts.ToDictionary(h => h, h => s.ListHostBindings(_source.AccountId, h), StringComparer.Ordinal);
                bindings = _bindings.Where(g => !again.ContainsKey(g.Key)).SelectMany(g => g).Concat(again.Values.SelectMany(b => b))
                    .ToLookup(b => b.HostName, StringComparer.Ordinal);
            }
            // The indexes shared when no instance changed; else stepped over the instances that did (built
            // again, 10,000 instances: 20–40 ms, only when a run instance finds no room for its key).
            var next = owners.Count == 0 ? new View(source, accountRevision, this, bindings)
                : Stepped(source, accountRevision, owners, bindings) ?? new View(source, accountRevision, bindings);
            var stale = new HashSet<(char, string)>();
            foreach (var g in changed.Groups)
                stale.Add(('g', g.Value));
            foreach (var e in changed.Interfaces)
                stale.Add(('e', e.Value));
            foreach (var i in owners)
            {
                stale.Add(('i', i.Value));
                foreach (var e in _source.Addresses.Interfaces(i).Concat(source.Addresses.Interfaces(i)))
                    stale.Add(('e', e.Id.Value));
            }
            // The renderings none of them changed: read through this view's (nineteenth session: copying the
            // 20,000 of the 1,000-host account into a new table was ~85 % of a join's step, 20-30 ms a node), or
            // copied into a table sized at once (seventeenth session) after MaxLayers steps, or always (the twin).
            next._rendered = LayersRenderings && _rendered.Depth < MaxLayers ? new Renderings(_rendered, stale) : _rendered.Flattened(stale);
            Interlocked.Increment(ref next._rendered.Depth > 0 ? ref _renderingsLayered : ref _renderingsCopied);
            if (KeepsParts)
                next.KeepParts(this, stale, owners);
            return next;
        }

        /// <summary>
        /// Whether a view brought forward keeps the previous view's parts that no commit between touched
        /// (<see cref="KeepParts"/>); false selects and digests every part again (the slow twin, as before the
        /// nineteenth session: <c>HostScopeTests.AViewBroughtForward_AnswersAsTheWholeReload</c> compares both
        /// with the whole reload).
        /// </summary>
        internal static bool KeepsParts { get; set; } = true;

        /// <summary>
        /// Whether a view brought forward reads the previous view's renderings through (<see cref="Renderings"/>)
        /// instead of copying them; false copies them every step (the slow twin, as before the nineteenth session).
        /// </summary>
        internal static bool LayersRenderings { get; set; } = true;

        /// <summary>Layers of renderings read through at most (tests lower it): a part of a thousand hosts' group looks up ~2,000 resources.</summary>
        internal static int MaxLayers { get; set; } = 8;

        private static long _renderingsLayered, _renderingsCopied;

        /// <summary>How many views brought forward read the previous view's renderings through, and how many copied them (for tests).</summary>
        public static (long Layered, long Copied) RenderingSteps => (Interlocked.Read(ref _renderingsLayered), Interlocked.Read(ref _renderingsCopied));

        /// <summary>
        /// A view's renderings and their hashes (issue 17): its own, and — for a view brought forward — the
        /// previous view's read through, but those of the resources the commits between changed (the step's
        /// stale set: a group's rules or row, an instance's row, ENIs, tags or EIP, an ENI's). What a reader
        /// finds is what the copy of every rendering not stale into a table of the view's own found (the slow
        /// twin, <see cref="Flattened"/>): a rendering added to the previous view later (its requests still
        /// compute parts) is of a resource not stale, the same at both revisions. At most <see cref="MaxLayers"/>
        /// deep (a look costs one lookup a layer); the step after copies them into one table.
        /// </summary>
        private sealed class Renderings
        {

            private readonly ConcurrentDictionary<(char Kind, string Id), Rendered> _own;
            private readonly Renderings? _under;
            private readonly HashSet<(char, string)>? _stale;

            public Renderings(int capacity) => _own = new(Environment.ProcessorCount, capacity);

            public Renderings(Renderings under, HashSet<(char, string)> stale)
            {
                _own = new();
                (_under, _stale, Depth) = (under, stale, under.Depth + 1);
            }

            /// <summary>How many views' renderings are read through under this one's.</summary>
            public int Depth { get; }

            public bool TryGetValue((char Kind, string Id) key, out Rendered rendered)
            {
                for (var layer = this; layer is not null; layer = layer._stale!.Contains(key) ? null : layer._under)
                {
                    if (layer._own.TryGetValue(key, out rendered!))
                        return true;
                    if (layer._under is null)
                        break;
                }
                rendered = null!;
                return false;
            }

            public Rendered this[(char Kind, string Id) key] => TryGetValue(key, out var rendered) ? rendered : throw new KeyNotFoundException($"{key} is not rendered in this view");

            /// <summary>The rendering found, or <paramref name="rendered"/> as this view's own (of two at once, one wins).</summary>
            public Rendered GetOrAdd((char Kind, string Id) key, Rendered rendered) => TryGetValue(key, out var known) ? known : _own.GetOrAdd(key, rendered);

            /// <summary>Every rendering a reader finds here but those of <paramref name="stale"/>, copied into one table sized at once.</summary>
            public Renderings Flattened(HashSet<(char, string)> stale)
            {
                var size = 0;
                for (var layer = this; layer is not null; layer = layer._under)
                    size += layer._own.Count;
                var flat = new Renderings(size);
                CollectInto(flat._own, stale);
                return flat;
            }

            /// <summary>What a reader finds here but <paramref name="blocked"/> keys: the upper layer's first (a key added once keeps its first rendering).</summary>
            private void CollectInto(ConcurrentDictionary<(char Kind, string Id), Rendered> into, HashSet<(char, string)> blocked)
            {
                foreach (var (key, rendered) in _own)
                {
                    if (!blocked.Contains(key))
                        into.TryAdd(key, rendered);
                }
                _under?.CollectInto(into, _stale!.Count == 0 ? blocked : [.. blocked, .. _stale]);
            }
        }

        private static long _partsKept;

        /// <summary>How many parts views brought forward kept from the previous view (for the bench and tests).</summary>
        public static long PartsKept => Interlocked.Read(ref _partsKept);

        /// <summary>
        /// Takes over <paramref name="previous"/>'s parts that the commits between did not touch (issue 17,
        /// nineteenth session: a join into a group of a thousand hosts selected and digested each of the
        /// account's hundred other parts again, each the same). A part is what its instance's groups decide
        /// (<see cref="PartKey"/>): the groups they name in their rules (<see cref="Select"/>), the members of
        /// those groups, their groups, ENIs, lists and renderings. It is the same in this view when none of its
        /// resources was read again (<paramref name="stale"/>: a group's rules, an instance's or ENI's row,
        /// memberships, ENIs, tags or EIP) and no touched instance (<paramref name="touched"/>) is or was in one
        /// of its groups (the members of a group it selects through would differ; a touched instance's own
        /// part lists its own groups, so it is never kept either). Lists (prefix and port range) changed only
        /// in commits a view is loaded whole after. Its digest is then the same function of the same hashes.
        /// </summary>
        private void KeepParts(View previous, HashSet<(char, string)> stale, IReadOnlySet<InstanceId> touched)
        {
            var moved = new HashSet<SecurityGroupId>();
            foreach (var i in touched)
            {
                if (previous._entries.TryGetValue(i, out var was))
                    moved.UnionWith(was.Groups);
                if (_entries.TryGetValue(i, out var now))
                    moved.UnionWith(now.Groups);
            }
            foreach (var (key, lazy) in previous._parts)
            {
                if (!lazy.IsValueCreated)
                    continue;
                PartEntry part;
                try
                {
                    part = lazy.Value;
                }
                catch
                {
                    continue;
                }
                if (Array.Exists(part.Resources, r => stale.Contains((r.Kind, r.Id))) || part.Part.Groups.Any(g => moved.Contains(g.Id)))
                    continue;
                if (_parts.TryAdd(key, lazy))
                    Interlocked.Increment(ref _partsKept);
            }
        }

        /// <summary>
        /// The account's NICs bound to <paramref name="host"/> at this account revision: a binding is made,
        /// undone or lost with its instance only by a write of its own account, so it is the account's state
        /// (issue 17: what a host fetch served from memory reads instead of <c>ListBindingsOnHost</c>).
        /// </summary>
        public IReadOnlyList<Storage.Records.HostBindingRecord> BindingsOn(string host) => [.. _bindings[host]];

        public long Used { get; set; } = Environment.TickCount64;

        /// <summary>The loaded region, reading what is not loaded yet through the asking request's session.</summary>
        public StateExport.Source Source(IStoreSession? s) => _source.Through(s);

        /// <summary>A part and what it is made of: its records, its digest and its resources with their hashes.</summary>
        internal sealed record PartEntry(StateExport.Part Part, string Digest, PartMemory.Resource[] Resources)
        {
            /// <summary>
            /// The part's entry of an answer's <c>Parts</c> (its digest and ID lists), built once and
            /// shared by every answer that lists the part (the writers only read it).
            /// </summary>
            public EcsObject Listed => _listed ??= DescribeHostPolicy.AddLists(new EcsObject { { "Digest", Digest } }, Part);

            private EcsObject? _listed;

            private readonly ConcurrentDictionary<string, EcsObject?> _differences = new(StringComparer.Ordinal);

            /// <summary>
            /// The part's entry of an answer's <c>Parts</c> as a difference from a base part the agent
            /// holds (<see cref="DescribeHostPolicy.AddDifference"/>), built once per base and shared by
            /// every answer naming that base (the hundred hosts that held the same part before one
            /// change share one); null when the node no longer remembers the base, or the lists are
            /// no smaller whole.
            /// </summary>
            public EcsObject? DifferenceFrom(string baseDigest) =>
                _differences.GetOrAdd(baseDigest, b => PartMemory.Recall(b) is { } held ? DescribeHostPolicy.AddDifference(this, b, held) : null);
        }

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

        /// <summary>At most this many answers' states shared per view; beyond, each answer renders its own.</summary>
        public const int MaxSharedStates = 256;

        private readonly ConcurrentDictionary<string, Lazy<EcsObject>> _states = new(StringComparer.Ordinal);

        private static long _statesRendered, _statesShared;

        /// <summary>How many answers' states were rendered and how many were another answer's, shared (for the bench and tests).</summary>
        public static (long Rendered, long Shared) States => (Interlocked.Read(ref _statesRendered), Interlocked.Read(ref _statesShared));

        /// <summary>
        /// The <c>State</c> of an answer that <paramref name="key"/> decides (issue 17, sixteenth session: the
        /// changed parts and the held digests, <see cref="DescribeHostPolicy.AddParts"/>), rendered once per
        /// view by the first answer that asks and shared by every other (the writers only read it; a thousand
        /// hosts fetching after one change ask a few keys). At most <see cref="MaxSharedStates"/> kept.
        /// </summary>
        public EcsObject StateFor(string key, Func<EcsObject> render)
        {
            if (_states.TryGetValue(key, out var known))
            {
                Interlocked.Increment(ref _statesShared);
                return known.Value;
            }
            if (_states.Count >= MaxSharedStates)
            {
                Interlocked.Increment(ref _statesRendered);
                return render();
            }
            var mine = new Lazy<EcsObject>(() =>
            {
                Interlocked.Increment(ref _statesRendered);
                return render();
            }, LazyThreadSafetyMode.ExecutionAndPublication);
            var lazy = _states.GetOrAdd(key, mine);
            if (!ReferenceEquals(lazy, mine))
                Interlocked.Increment(ref _statesShared);
            try
            {
                return lazy.Value;
            }
            catch
            {
                _states.TryRemove(new KeyValuePair<string, Lazy<EcsObject>>(key, lazy));
                throw;
            }
        }

        /// <summary>At most this many (part, held digest) lists kept per view; beyond, each is computed for its answer.</summary>
        public const int MaxNotHeld = 4096;

        private readonly ConcurrentDictionary<(string Part, string Held), PartMemory.Resource[]> _notHeld = new();

        /// <summary>
        /// The resources of <paramref name="part"/> that the held digest <paramref name="heldDigest"/> (whose
        /// index is <paramref name="held"/>) does not hold as they are, in the part's order: computed once per
        /// view and pair (a function of the two digests: both are content addressed), shared by every answer
        /// that sends the part to an agent holding that digest (<see cref="DescribeHostPolicy.AddParts"/>).
        /// </summary>
        public PartMemory.Resource[] NotHeldBy(PartEntry part, string heldDigest, IReadOnlyDictionary<(char Kind, string Id), byte[]> held)
        {
            if (_notHeld.TryGetValue((part.Digest, heldDigest), out var known))
                return known;
            var missing = Array.FindAll(part.Resources, m => !(held.TryGetValue((m.Kind, m.Id), out var hash) && hash.AsSpan().SequenceEqual(m.Hash)));
            if (_notHeld.Count < MaxNotHeld)
                _notHeld.TryAdd((part.Digest, heldDigest), missing);
            return missing;
        }

        /// <summary>A resource as the state file holds it, and the hash of that rendering (its first <see cref="PartDigest.HashBytes"/> bytes of SHA-256).</summary>
        internal sealed record Rendered(EcsObject Item, byte[] Hash);

        /// <summary>The hash of a resource's rendering, of a resource some part of this view holds.</summary>
        public byte[] HashOf(char kind, string id) => _rendered[(kind, id)].Hash;

        /// <summary>
        /// A resource's rendering, of a resource some part of this view holds: rendered once per view
        /// (to hash it) and sent as it is by every answer that sends it — the hundred answers after
        /// one change share one object (the writers only read it).
        /// </summary>
        public EcsObject ItemOf(char kind, string id) => _rendered[(kind, id)].Item;

        private byte[] HashOf<T>(char kind, string id, StateExport.Source source, T record, Func<StateExport.Source, T, EcsObject> render)
        {
            if (_rendered.TryGetValue((kind, id), out var known))
                return known.Hash;
            var item = render(source, record);
            return _rendered.GetOrAdd((kind, id), new Rendered(item, PartDigest.ResourceHash(ResponseWriter.Json(item)))).Hash;
        }

        /// <summary>
        /// What <paramref name="instance"/>'s policies depend on, selected through the view's indexes:
        /// the same records in the same order as <see cref="StateExport.Select"/> for that instance
        /// alone (the slow twin; <c>HostScopeTests</c> holds them equal over random changes).
        /// </summary>
        internal StateExport.Part Select(StateExport.Source source, InstanceId instance)
        {
            if (!_entries.TryGetValue(instance, out var self))
                return StateExport.Select(source, new HashSet<InstanceId> { instance });
            var own = self.Groups;
            var relevant = own.Concat(own.SelectMany(g => source.RulesOf(g)).Select(r => r.Peer).OfType<Domain.Rules.RulePeer.Group>().Select(p => p.GroupId)).ToHashSet();
            var included = new Dictionary<InstanceId, long> { [instance] = self.Key };
            foreach (var g in relevant)
            {
                if (_members.TryGetValue(g, out var members))
                {
                    foreach (var m in members)
                        included.TryAdd(m.Id, m.Key);
                }
            }
            var entries = included.OrderBy(i => i.Value).Select(i => _entries[i.Key]).ToList();
            var instances = entries.ConvertAll(e => e.Record);
            var listed = relevant.Concat(entries.SelectMany(e => e.Groups)).ToHashSet();
            var groups = source.Groups.Where(g => listed.Contains(g.Id)).ToList();
            var interfaces = instances.SelectMany(i => source.Addresses.Interfaces(i.Id)).ToList();
            var named = groups.SelectMany(g => source.RulesOf(g.Id)).ToList();
            var prefixLists = named.Select(r => r.Peer).OfType<Domain.Rules.RulePeer.PrefixList>().Select(p => p.PrefixListId).ToHashSet();
            var portRangeLists = named.Where(r => r.PortRangeListId is not null).Select(r => r.PortRangeListId!.Value).ToHashSet();
            return new StateExport.Part(groups, instances, interfaces,
                [.. source.PrefixLists.Where(l => prefixLists.Contains(l.Id))],
                [.. source.PortRangeLists.Where(l => portRangeLists.Contains(l.Id))]);
        }

        private PartEntry Compute(StateExport.Source source, InstanceId instance)
        {
            var part = Select(source, instance);
            // Sized at once, and no closure per resource: nearly every resource is rendered already (issue 17,
            // eighteenth session: a part of a thousand hosts' group holds ~2,000 resources).
            var members = new List<PartMemory.Resource>(part.Groups.Count + part.Instances.Count + part.Interfaces.Count + part.PrefixLists.Count + part.PortRangeLists.Count);
            foreach (var g in part.Groups)
                members.Add(new('g', g.Id.Value, HashOf('g', g.Id.Value, source, g, static (s, x) => StateExport.GroupItem(s, x))));
            foreach (var i in part.Instances)
                members.Add(new('i', i.Id.Value, HashOf('i', i.Id.Value, source, i, static (s, x) => StateExport.InstanceItem(s, x))));
            foreach (var e in part.Interfaces)
                members.Add(new('e', e.Id.Value, HashOf('e', e.Id.Value, source, e, static (s, x) => StateExport.InterfaceItem(s, x))));
            foreach (var l in part.PrefixLists)
                members.Add(new('p', l.Id.Value, HashOf('p', l.Id.Value, source, l, static (_, x) => PrefixLists.PrefixListRequests.Attributes(x))));
            foreach (var l in part.PortRangeLists)
                members.Add(new('r', l.Id.Value, HashOf('r', l.Id.Value, source, l, static (_, x) => PortRangeLists.PortRangeListRequests.Attributes(x))));
            // The part's digest: its resources' kinds, IDs and hashes in its order — it changes
            // exactly when the part's rendering would (the agent checks a part it rebuilt from a
            // difference with the same function).
            var hex = PartDigest.Of(members.Select(m => (m.Kind, m.Id, m.Hash)));
            var resources = members.ToArray();
            PartMemory.Remember(hex, resources);
            return new PartEntry(part, hex, resources);
        }

        /// <summary>The key of <paramref name="instance"/>'s part (<see cref="PartKeyOf"/>): its entry's, or its own for an instance not in the region.</summary>
        private string PartKey(InstanceId instance) => _entries.TryGetValue(instance, out var entry) ? entry.PartKey : "i:" + instance.Value;

        /// <summary>
        /// What decides an instance's part: its groups (its own and its ENIs'). Every instance is in its
        /// part through them, so two instances with the same groups have the same part. An instance in
        /// no group (none is, in ECS) or not in the region has a part of its own. Made at its length
        /// (twenty-third session: a join's new view asked it anew of every bound instance, each through a
        /// sort query, a list and a join, on every node); <see cref="PartKeySlow"/> is the slow twin.
        /// </summary>
        internal static string PartKeyOf(InstanceId instance, SecurityGroupId[] groups)
        {
            if (groups.Length == 0)
                return "i:" + instance.Value;
            if (groups.Length == 1)
                return "g:" + groups[0].Value;
            var sorted = new string[groups.Length];
            var length = 2 + groups.Length - 1;
            for (var i = 0; i < sorted.Length; i++)
                length += (sorted[i] = groups[i].Value).Length;
            Array.Sort(sorted, StringComparer.Ordinal);
            return string.Create(length, sorted, static (span, sorted) =>
            {
                span[0] = 'g';
                span[1] = ':';
                var at = 2;
                for (var i = 0; i < sorted.Length; i++)
                {
                    if (i > 0)
                        span[at++] = ',';
                    sorted[i].CopyTo(span[at..]);
                    at += sorted[i].Length;
                }
            });
        }

        /// <summary>The slow twin of <see cref="PartKeyOf"/>: the groups' IDs sorted by a query and joined.</summary>
        internal static string PartKeySlow(InstanceId instance, IEnumerable<SecurityGroupId> groups)
        {
            var sorted = groups.Select(g => g.Value).Order(StringComparer.Ordinal).ToList();
            return sorted.Count == 0 ? "i:" + instance.Value : "g:" + string.Join(",", sorted);
        }
    }
}
