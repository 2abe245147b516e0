using System.Globalization;
using Palisade.Domain.State;
using Palisade.Server.Actions.Insight;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, read by <c>palisade agent</c> with its host credential (issue 18), for its
/// own host only: in one consistent read, the NICs bound to the host — of every account — and, per
/// account, the part of its region those NICs' policies depend on as a state file (the document
/// <c>palisade export</c> writes), from which the agent compiles each NIC's policy with the engine
/// the server itself uses. <c>Revision</c> is the host's: the server's global revision at that
/// read, which orders every account's changes and is what the agent waits after on its feed and
/// reports as applied. No account's key may call it. Each bound ENI is its own NIC
/// (<c>NetworkInterfaceId</c>, empty only for a classic instance's NIC): the agent enforces its own
/// groups on its own interface; the state holds its instance with every ENI.
/// <para>
/// With <c>PerNic=true</c> (issue 17, the incremental fetch) each bound instance's part (what the
/// policies of its bound ENIs depend on, in its account's state) has a digest: each account's <c>Nics.Nic[]{InstanceId,
/// Digest, Changed}</c>. The agent sends the digests it holds (<c>KnownNic.N.InstanceId</c>,
/// <c>KnownNic.N.Digest</c>); each changed part (NICs with the same groups share one) is listed once
/// in the account's <c>Parts.Part[]{Digest, …Ids}</c> with the IDs it holds (<c>SecurityGroupsIds</c>,
/// <c>InstancesIds</c>, <c>NetworkInterfacesIds</c>, <c>PrefixListsIds</c>, <c>PortRangeListsIds</c>:
/// the state file's list names), and the account's <c>State</c> holds the changed parts' resources,
/// each once, but those the agent holds as they are (<see cref="PartMemory"/>). An account's part is
/// the union of its NICs' parts, so the agent rebuilds it from what it holds and what came; without
/// digests it is a full fetch.
/// </para>
/// <para>
/// With <c>PartDifferences=true</c> (the agent rebuilds a part from a difference) a changed part whose
/// NIC the agent names by a digest the node remembers is listed as the IDs removed from and added to
/// that base part's lists (<see cref="AddDifference"/>): a join into a group a thousand hosts' parts
/// name sends them one instance's IDs, not the thousand members again.
/// </para>
/// </summary>
internal sealed class DescribeHostPolicy() : ReadAction(cacheable: false), IAsyncEcsAction, IHostAgentAction
{
    public bool HostOnly => true;

    /// <summary>
    /// The fetch reads its host credential itself (issue 17, fourteenth session): in its store read, or
    /// from memory only while no write of no account (a revocation, a rotation) has named the host since
    /// the credential was read (<see cref="HostFetches"/>). So the authenticator verifies the signature
    /// with the secret it holds for the ID and asks the store nothing: after every change each host's
    /// first request had read the revision twice and the key once.
    /// </summary>
    public bool ReadsItsCredential => true;

    /// <summary>At most this many digests in one request (more NICs than a host carries).</summary>
    private const int MaxKnownNics = 1000;

    /// <summary>How long a fetch waits for the commit watcher's look before it reads the store instead.</summary>
    internal static readonly TimeSpan LookTimeout = TimeSpan.FromSeconds(1);

    /// <summary>A fetch's parameters, checked at the edge.</summary>
    internal sealed record Query(string Host, string RegionId, string CredentialId, bool PerNic, bool SharedParts, bool Differences, IReadOnlyDictionary<string, string> Known);

    /// <summary>A fetch's parameters, checked at the edge: a fetch's own, or a host poll's that asks for its policy with the wake (<c>DescribeChanges</c>, <c>IncludeHostPolicy=true</c>), checked at its arrival.</summary>
    internal static Query QueryOf(ActionContext c)
    {
        var host = HostAccess.HostOf(c);
        var region = c.Region();
        var perNic = c.Parameters.Bool(PerNicParameter);
        // An agent that reads Parts says so; an older one (a rolling upgrade) gets each changed NIC's
        // lists on the NIC, as it reads them, or it would find its NICs' parts empty and close them.
        var sharedParts = c.Parameters.Bool(SharedPartsParameter);
        // An agent that rebuilds a part from a difference says so (issue 17); an older one gets whole lists.
        var differences = c.Parameters.Bool(PartDifferencesParameter);
        var known = KnownDigests(c.Parameters);
        if (known.Count > 0 && !perNic)
            throw new EcsException(EcsErrors.ParameterInvalid("KnownNic", "digests are compared only with PerNic=true."));
        if (differences && !sharedParts)
            throw new EcsException(EcsErrors.ParameterInvalid("PartDifferences", "differences are sent only in Parts, with PerNic=true and SharedParts=true."));
        return new Query(host, region.RegionId, c.Caller.AccessKeyId, perNic, sharedParts, differences, known);
    }

    private const string PerNicParameter = "PerNic", SharedPartsParameter = "SharedParts", PartDifferencesParameter = "PartDifferences", KnownNicParameter = "KnownNic";

    /// <summary>
    /// Whether <paramref name="name"/> is one of the fetch's own parameters that <see cref="QueryOf"/> reads
    /// beside <c>RegionId</c> and <c>HostName</c> (which every host action has): a poll asking for its policy
    /// sends them, and they are left out of the trail event of the status report it carries — named here, by
    /// the code that reads them, so a fetch parameter added later is left out too.
    /// </summary>
    internal static bool IsFetchParameter(string name) =>
        name is PerNicParameter or SharedPartsParameter or PartDifferencesParameter
        || (name.StartsWith(KnownNicParameter, StringComparison.Ordinal) && name.Length > KnownNicParameter.Length && name[KnownNicParameter.Length] == '.');

    /// <summary>The store read alone (the slow twin of the answer from memory; a caller outside the request path).</summary>
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var q = QueryOf(c);
        return c.Read(s => FromStore(s, c.AccountViews, c.HostFetches, q));
    }

    /// <summary>
    /// From the node's memory when it can prove it current (<see cref="FromMemory"/>), holding no store
    /// slot and reading nothing; else one store read in a slot, as before.
    /// </summary>
    public Task<EcsObject> ExecuteAsync(ActionContext c, CancellationToken cancel) => ServeAsync(c, QueryOf(c), cancel);

    /// <summary>
    /// The host's policy for <paramref name="q"/> now: the fetch's answer, and the policy a woken host poll
    /// carries (<c>DescribeChanges</c> with <c>IncludeHostPolicy=true</c>, eighteenth session), the same
    /// element by the same code. "Now" is after a watcher's look begun after this call, so a poll woken by a
    /// commit answers with a policy at least at that commit.
    /// </summary>
    internal static async Task<EcsObject> ServeAsync(ActionContext c, Query q, CancellationToken cancel)
    {
        var memory = c.HostFetches;
        // A look begun after this call (after the request came; for a woken poll, after its wake): every commit
        // before it is in the ledger, as a store read begun now would see.
        if (q.PerNic && await c.Commits.LookedAfterAsync(LookTimeout, cancel))
        {
            var answer = FromMemory(c.Commits.Ledger, c.AccountViews, memory, q, out var missing);
            // The first fetches after a change find the account's new view not loaded: one of them loads it
            // (one read in one slot), the others wait for that load without a slot, then answer from memory.
            if (answer is null && missing is { } view && await memory.LoadOnceAsync((view.Account, q.RegionId, view.Revision),
                // Not the first asker's cancellation: its client leaving must not fail the others' load.
                () => c.Gate.RunAsync(Hosting.StoreGate.Kind.Read, () => c.Read(s => LoadView(s, c.AccountViews, view.Account, q.RegionId, view.Revision)), CancellationToken.None)))
                answer = FromMemory(c.Commits.Ledger, c.AccountViews, memory, q, out _);
            if (answer is not null)
            {
                memory.CountServed();
                return answer;
            }
        }
        memory.CountRead();
        return await c.Gate.RunAsync(Hosting.StoreGate.Kind.Read, () => c.Read(s => FromStore(s, c.AccountViews, memory, q)), cancel);
    }

    /// <summary>
    /// Today's read (the slow twin of <see cref="FromMemory"/>): in one consistent read, the host's credential,
    /// the global revision, the host's bindings and each account's revision at it, and the answer; its
    /// inputs kept for the next fetch of the host on this node.
    /// </summary>
    internal static EcsObject FromStore(Storage.IStoreSession s, AccountViews views, HostFetches memory, Query q)
    {
        // Revoked before this read: the authenticator trusted the secret it holds for the ID (ReadsItsCredential), and this read refuses it.
        if (s.FindHostCredential(q.CredentialId) is not { } credential || credential.HostName != q.Host)
            throw new EcsException(EcsErrors.AccessKeyNotFound());
        var revision = s.CurrentRevision();
        var bindings = s.ListBindingsOnHost(q.Host);
        var held = new HostFetches.Held(revision, q.CredentialId, bindings,
            bindings.Select(b => b.AccountId).Distinct().ToDictionary(a => a, a => s.AccountRevisionAt(a, revision)));
        var answer = Answer(held, q, (account, accountRevision) => views.Get(s, account, q.RegionId, accountRevision), s);
        if (q.PerNic)
            memory.Keep(q.Host, held);
        return answer;
    }

    /// <summary>
    /// The answer from the node's memory, or null when the node cannot prove it current (<see cref="HostFetches"/>):
    /// the inputs proven from the host's last answer and the commits since, the views kept at their
    /// revisions, every rule loaded — nothing read. Byte for byte <see cref="FromStore"/>'s answer at the
    /// same revision (<c>HostScopeTests.AFetchServedFromMemory_IsTheStoreReadsAnswer_OrReadsTheStore</c>).
    /// </summary>
    internal static EcsObject? FromMemory(Storage.CommitLedger ledger, AccountViews views, HostFetches memory, Query q) =>
        FromMemory(ledger, views, memory, q, out _);

    /// <param name="missing">When null is returned because an account's view is not kept at the revision the answer needs: that account and revision.</param>
    internal static EcsObject? FromMemory(Storage.CommitLedger ledger, AccountViews views, HostFetches memory, Query q, out (long Account, long Revision)? missing)
    {
        missing = null;
        if (!q.PerNic || memory.Current(ledger, views, q.Host, q.RegionId, q.CredentialId, out missing) is not { } held)
            return null;
        (long, long)? absent = null;
        try
        {
            var answer = Answer(held, q, (account, accountRevision) => views.Kept(account, q.RegionId, accountRevision)
                ?? throw new NotInMemoryException($"account {account}'s view at {accountRevision}") { View = absent = (account, accountRevision) }, null);
            memory.Keep(q.Host, held);
            return answer;
        }
        catch (NotInMemoryException)
        {
            missing = absent;
            return null;
        }
    }

    /// <summary>
    /// Loads and keeps an account's view at <paramref name="accountRevision"/> for fetches served from memory:
    /// only when this read is at that revision of the account (a later commit of it: false, the fetch reads the store).
    /// </summary>
    internal static bool LoadView(Storage.IStoreSession s, AccountViews views, long account, string regionId, long accountRevision)
    {
        if (s.LatestRevision(account) != accountRevision)
            return false;
        views.Get(s, account, regionId, accountRevision);
        return true;
    }

    private static EcsObject Answer(HostFetches.Held held, Query q, Func<long, long, AccountViews.View> viewOf, Storage.IStoreSession? s)
    {
        // Loops, not queries (twenty-first session: every woken poll's answer): the accounts in ascending order,
        // each with its bindings in the host's order, as grouping and ordering them gave.
        var interfaces = new List<object?>(held.Bindings.Count);
        var accounts = new List<long>();
        foreach (var b in held.Bindings)
        {
            interfaces.Add(new EcsObject
            {
                { "AccountId", Id(b.AccountId) },
                { "InstanceId", b.InstanceId.Value },
                { "NetworkInterfaceId", b.NetworkInterfaceId?.Value ?? "" },
                { "InterfaceName", b.InterfaceName },
            });
            if (held.Bindings.Count > LinearAtMost || !accounts.Contains(b.AccountId))
                accounts.Add(b.AccountId);
        }
        if (held.Bindings.Count > LinearAtMost)
            accounts = [.. accounts.Distinct()];
        accounts.Sort();
        var listed = new List<object?>(accounts.Count);
        foreach (var accountId in accounts)
        {
            var accountRevision = held.AccountRevisions[accountId];
            var account = new EcsObject
            {
                { "AccountId", Id(accountId) },
                { "AccountRevision", accountRevision },
            };
            // A part is an instance's (with every ENI): two of its ENIs bound here share one.
            var nics = NicsOf(held.Bindings, accountId);
            if (!q.PerNic)
                account.Add("State", StateExport.Body(s ?? throw new NotInMemoryException("a whole state"), accountId, q.RegionId, nics.ToHashSet()));
            else
                AddParts(account, viewOf(accountId, accountRevision), s, nics, q.Known, q.SharedParts, q.Differences);
            listed.Add(account);
        }
        return new()
        {
            { "Revision", held.Revision },
            { "HostName", q.Host },
            { "HostInterfaces", new EcsList("HostInterface", interfaces) },
            { "Accounts", new EcsList("Account", listed) },
        };
    }

    /// <summary>The instances of an account's bindings on the host, each once, in the bindings' order.</summary>
    private static List<InstanceId> NicsOf(IReadOnlyList<Storage.Records.HostBindingRecord> bindings, long accountId)
    {
        if (bindings.Count > LinearAtMost)
            return [.. bindings.Where(b => b.AccountId == accountId).Select(b => b.InstanceId).Distinct()];
        var nics = new List<InstanceId>();
        foreach (var b in bindings)
        {
            if (b.AccountId == accountId && !nics.Contains(b.InstanceId))
                nics.Add(b.InstanceId);
        }
        return nics;
    }

    /// <summary>A host's bindings past which a look along a list for each is a set's look instead (a host may bind up to a thousand NICs).</summary>
    private const int LinearAtMost = 64;

    /// <summary>
    /// An account's NICs on the host with their parts' digests, the changed parts' ID lists once per
    /// part, and as its <c>State</c> the resources of the changed parts the agent does not hold yet.
    /// <list type="bullet">
    /// <item>A part is a function of the instance's groups (its own and its ENIs'): every instance
    /// is in its own part through them, so NICs with the same groups (a pod's, a tier's) share one
    /// part, selected, digested and listed once (<c>Parts.Part[]{Digest, …Ids}</c>), not once per NIC.</item>
    /// <item>Each resource is rendered and hashed once, and each part selected and digested once,
    /// per account revision on the node (<see cref="AccountViews"/>: the hundred hosts that fetch
    /// after one change share the work); a part's digest is the hash of its resources' kinds, IDs
    /// and hashes in the part's order — it changes exactly when the part's rendering would.</item>
    /// <item>What a digest stands for is remembered (<see cref="PartMemory"/>): for the digests the
    /// agent says it holds, the server knows which resource versions it holds and leaves them out
    /// of <c>State</c>; a rule change in a group that a hundred NICs' parts list sends that group,
    /// not the hundred instances around it. A digest the server no longer remembers only means
    /// more is sent.</item>
    /// </list>
    /// </summary>
    /// <param name="differences">
    /// The agent rebuilds a part from a difference (<c>PartDifferences=true</c>): a changed part one of
    /// whose NICs the agent names by a digest the node remembers is listed as a difference from that
    /// base (<see cref="AddDifference"/>) when that is smaller than its lists.
    /// </param>
    /// <param name="shareState">
    /// The answer's <c>State</c> rendered once per view and (changed parts, held digests) and shared by every
    /// host that asks the same (issue 17, sixteenth session: after one change a thousand hosts holding the
    /// same part digests are sent the same resources); false renders it for this answer alone (the slow
    /// twin: <c>HostScopeTests.TheStateSharedAcrossHosts_IsEachHostsOwnRendering</c>).
    /// </param>
    internal static void AddParts(EcsObject account, AccountViews.View view, Storage.IStoreSession? s, IReadOnlyList<InstanceId> nics, IReadOnlyDictionary<string, string> known, bool sharedParts, bool differences = false, bool shareState = true)
    {
        var source = view.Source(s);
        // Plain loops, no query or closure a NIC (twenty-first session: a thousand woken polls' answers a change).
        // Each NIC's part first (the view selects and remembers a part the first time it is asked).
        var entries = new AccountViews.View.PartEntry[nics.Count];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = view.PartOf(source, nics[i]);
        // The resource versions the agent holds: those of the parts it names by digest, as far as
        // remembered (each digest's index is built once, not a set of every held resource per answer).
        var heldDigests = new List<(string Digest, IReadOnlyDictionary<(char Kind, string Id), byte[]>? Index)>();
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in nics)
        {
            if (known.TryGetValue(instance.Value, out var d) && named.Add(d) && PartMemory.Index(d) is { } index)
                heldDigests.Add((d, index));
        }
        var changed = new Dictionary<string, AccountViews.View.PartEntry>(StringComparer.Ordinal);
        // Per changed part, the digests its NICs held before (in the NICs' order): the bases a difference may name.
        var bases = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var listed = new List<object?>(nics.Count);
        for (var i = 0; i < entries.Length; i++)
        {
            var (instance, entry) = (nics[i], entries[i]);
            var isChanged = !known.TryGetValue(instance.Value, out var digest) || digest != entry.Digest;
            if (isChanged)
            {
                changed.TryAdd(entry.Digest, entry);
                if (digest is not null)
                {
                    if (!bases.TryGetValue(entry.Digest, out var before))
                        bases[entry.Digest] = before = [];
                    before.Add(digest);
                }
            }
            var nic = new EcsObject { { "InstanceId", instance.Value }, { "Digest", entry.Digest }, { "Changed", isChanged } };
            if (isChanged && !sharedParts)
                AddLists(nic, entry.Part);
            listed.Add(nic);
        }
        account.Add("Nics", new EcsList("Nic", listed));
        // Each changed part's entry is the view's, built once for every answer that lists it.
        if (sharedParts)
        {
            var parts = new List<object?>(changed.Count);
            foreach (var p in changed.Values)
                parts.Add(differences ? Difference(p, bases.GetValueOrDefault(p.Digest)) : p.Listed);
            account.Add("Parts", new EcsList("Part", parts));
        }
        // The state is a function of the view, the changed parts in the order the NICs name them and the
        // held digests the node remembers (content addressed: a digest's index is the same whoever names
        // it), so hosts that ask the same share one rendering.
        account.Add("State", shareState
            ? view.StateFor(StateKey(changed.Keys, heldDigests), () => StateFromBases(view, source.RegionId, changed.Values, heldDigests, bases))
            : State(view, source.RegionId, changed.Values, heldDigests.ConvertAll(h => h.Index!)));
    }

    /// <summary>
    /// What decides an answer's shared <c>State</c>: the changed parts' digests in order, and the held digests
    /// the node remembers in ordinal order — "c1,c2|h1,h2", made at its length in one string.
    /// </summary>
    internal static string StateKey(IReadOnlyCollection<string> changed, List<(string Digest, IReadOnlyDictionary<(char Kind, string Id), byte[]>? Index)> held)
    {
        var sorted = new string[held.Count];
        for (var i = 0; i < sorted.Length; i++)
            sorted[i] = held[i].Digest;
        Array.Sort(sorted, StringComparer.Ordinal);
        var length = 1 + Math.Max(0, changed.Count - 1) + Math.Max(0, sorted.Length - 1);
        foreach (var c in changed)
            length += c.Length;
        foreach (var h in sorted)
            length += h.Length;
        return string.Create(length, (changed, sorted), static (span, state) =>
        {
            var (at, first) = (0, true);
            foreach (var c in state.changed)
            {
                if (!first)
                    span[at++] = ',';
                first = false;
                c.CopyTo(span[at..]);
                at += c.Length;
            }
            span[at++] = '|';
            for (var i = 0; i < state.sorted.Length; i++)
            {
                if (i > 0)
                    span[at++] = ',';
                state.sorted[i].CopyTo(span[at..]);
                at += state.sorted[i].Length;
            }
        });
    }

    /// <summary>The slow twin of <see cref="StateKey"/>: the two lists joined.</summary>
    internal static string StateKeyJoined(IEnumerable<string> changed, IEnumerable<string> held) =>
        string.Join(",", changed) + "|" + string.Join(",", held.Order(StringComparer.Ordinal));

    /// <summary>
    /// <see cref="State"/> (its slow twin) without a look at every resource of every changed part (issue 17,
    /// eighteenth session: after a change in a group of a thousand hosts each part holds ~2,000 resources,
    /// and the nodes rendered ~100 different states a change, each looking every resource up in every held
    /// digest's index). A resource the agent holds as it is in one held digest is not sent, so only the
    /// part's resources that one held digest does not hold as they are can be sent: that list
    /// (<see cref="AccountViews.View.NotHeldBy"/>) is computed once per view and (part, held digest) — the
    /// base a NIC of the part held, whose list after one change is the change — and only its resources are
    /// asked of the other held digests. The same resources in the same order: a resource sent is in every
    /// such list of every part that holds it, so it is met first where <see cref="State"/> meets it first.
    /// </summary>
    private static EcsObject StateFromBases(AccountViews.View view, string regionId, IEnumerable<AccountViews.View.PartEntry> changed,
        List<(string Digest, IReadOnlyDictionary<(char Kind, string Id), byte[]>? Index)> heldDigests, Dictionary<string, List<string>> bases)
    {
        var sent = new HashSet<(char, string)>();
        var lists = new Dictionary<char, List<EcsObject>> { ['g'] = [], ['i'] = [], ['e'] = [], ['p'] = [], ['r'] = [] };
        foreach (var part in changed)
        {
            // A base of the part if the node remembers one (its list is the change), else any held digest.
            var filter = bases.GetValueOrDefault(part.Digest) is { } named && heldDigests.FindIndex(h => named.Contains(h.Digest)) is var b and >= 0
                ? heldDigests[b] : heldDigests.FirstOrDefault();
            var candidates = filter.Index is null ? part.Resources : view.NotHeldBy(part, filter.Digest, filter.Index);
            foreach (var m in candidates)
            {
                if (sent.Add((m.Kind, m.Id)) && !heldDigests.Any(h => h.Index!.TryGetValue((m.Kind, m.Id), out var hash) && hash.AsSpan().SequenceEqual(m.Hash)))
                    lists[m.Kind].Add(view.ItemOf(m.Kind, m.Id));
            }
        }
        return StateExport.Body(regionId, lists['g'], lists['i'], lists['e'], lists['p'], lists['r']);
    }

    /// <summary>
    /// The changed parts' resources once, but those the agent holds as they are (the state's order does
    /// not matter: the agent assembles each part in its lists' order), each as the view rendered it to hash it.
    /// </summary>
    private static EcsObject State(AccountViews.View view, string regionId, IEnumerable<AccountViews.View.PartEntry> changed, List<IReadOnlyDictionary<(char Kind, string Id), byte[]>> held)
    {
        var sent = new HashSet<(char, string)>();
        var lists = new Dictionary<char, List<EcsObject>> { ['g'] = [], ['i'] = [], ['e'] = [], ['p'] = [], ['r'] = [] };
        foreach (var part in changed)
        {
            foreach (var m in part.Resources)
            {
                if (sent.Add((m.Kind, m.Id)) && !held.Any(h => h.TryGetValue((m.Kind, m.Id), out var hash) && hash.AsSpan().SequenceEqual(m.Hash)))
                    lists[m.Kind].Add(view.ItemOf(m.Kind, m.Id));
            }
        }
        return StateExport.Body(regionId, lists['g'], lists['i'], lists['e'], lists['p'], lists['r']);
    }

    /// <summary>
    /// The slow twin of <see cref="AddParts"/> (issue 17): each part selected with
    /// <see cref="StateExport.Select"/> for its instance alone, its resources rendered anew and the
    /// held versions compared as a set of every resource of every digest the agent names — what every
    /// answer did before the view's indexes and shared renderings. <c>HostScopeTests</c> holds the two
    /// answers equal over random states and changes.
    /// </summary>
    internal static EcsObject SlowAccountParts(AccountViews.View view, Storage.IStoreSession s, IReadOnlyList<InstanceId> nics, IReadOnlyDictionary<string, string> known)
    {
        var source = view.Source(s);
        var account = new EcsObject();
        var partOf = nics.ToDictionary(i => i, i =>
        {
            var part = StateExport.Select(source, new HashSet<InstanceId> { i });
            return (Part: part, Digest: view.PartOf(source, i).Digest);
        });
        var held = new HashSet<(char, string, string)>();
        foreach (var instance in nics)
        {
            if (known.TryGetValue(instance.Value, out var digest) && PartMemory.Recall(digest) is { } members)
            {
                foreach (var m in members)
                    held.Add((m.Kind, m.Id, Convert.ToHexStringLower(m.Hash)));
            }
        }
        var changed = new Dictionary<string, StateExport.Part>(StringComparer.Ordinal);
        account.Add("Nics", EcsList.Of("Nic", nics.Select(instance =>
        {
            var (part, hex) = partOf[instance];
            var isChanged = !known.TryGetValue(instance.Value, out var digest) || digest != hex;
            if (isChanged)
                changed.TryAdd(hex, part);
            return new EcsObject { { "InstanceId", instance.Value }, { "Digest", hex }, { "Changed", isChanged } };
        }).ToList()));
        account.Add("Parts", EcsList.Of("Part", changed.Select(p => AddLists(new EcsObject { { "Digest", p.Key } }, p.Value))));
        bool Sends(char kind, string id) => !held.Contains((kind, id, Convert.ToHexStringLower(view.HashOf(kind, id))));
        var union = changed.Values.ToList();
        account.Add("State", StateExport.Body(source, new StateExport.Part(
            [.. union.SelectMany(p => p.Groups).DistinctBy(g => g.Id).Where(g => Sends('g', g.Id.Value))],
            [.. union.SelectMany(p => p.Instances).DistinctBy(i => i.Id).Where(i => Sends('i', i.Id.Value))],
            [.. union.SelectMany(p => p.Interfaces).DistinctBy(e => e.Id).Where(e => Sends('e', e.Id.Value))],
            [.. union.SelectMany(p => p.PrefixLists).DistinctBy(l => l.Id).Where(l => Sends('p', l.Id.Value))],
            [.. union.SelectMany(p => p.PortRangeLists).DistinctBy(l => l.Id).Where(l => Sends('r', l.Id.Value))])));
        return account;
    }

    /// <summary>
    /// A changed part's entry for an agent that reads differences: as a difference from the first base
    /// (a digest one of its NICs held) the node remembers and that makes it smaller; else its lists whole.
    /// </summary>
    private static EcsObject Difference(AccountViews.View.PartEntry part, List<string>? bases)
    {
        foreach (var b in bases?.Distinct(StringComparer.Ordinal) ?? [])
        {
            if (part.DifferenceFrom(b) is { } difference)
                return difference;
        }
        return part.Listed;
    }

    /// <summary>
    /// A part as a difference from a base part the agent holds (<c>PartDifferences=true</c>, issue 17):
    /// <c>Digest</c>, <c>BaseDigest</c>, and per list of the part only what changed against the base's
    /// list — <c>{List}IdsRemoved.{Id}[]</c> (the base's IDs the part no longer holds) and
    /// <c>{List}IdsAdded.Added[]{Position, {Id}}</c> (the part's IDs the base lacks, each with its
    /// zero-based position in the part's list, ascending) —, a list absent when it did not change. The
    /// agent applies it to the base's lists (<see cref="PartDifference.Apply"/>): the part's lists in
    /// the part's order. Null (the lists are sent whole) when some list's kept IDs changed their order
    /// (no such difference exists) or when the difference names no fewer IDs than the part's lists hold.
    /// The base's lists are what the node remembers of it (<see cref="PartMemory"/>: the resources of a
    /// digest in the part's order, from which the digest was computed, so they are the agent's lists).
    /// </summary>
    internal static EcsObject? AddDifference(AccountViews.View.PartEntry part, string baseDigest, PartMemory.Resource[] held)
    {
        var o = new EcsObject { { "Digest", part.Digest }, { "BaseDigest", baseDigest } };
        var (size, whole) = (0, 0);
        foreach (var (list, id, kind) in PartDigest.Lists)
        {
            var ids = part.Resources.Where(m => m.Kind == kind).Select(m => m.Id).ToList();
            if (PartDifference.Between([.. held.Where(m => m.Kind == kind).Select(m => m.Id)], ids) is not { } difference)
                return null;
            (size, whole) = (size + difference.Size, whole + ids.Count);
            if (difference.Removed.Count > 0)
                o.Add(list + "IdsRemoved", EcsList.Of(id, difference.Removed));
            if (difference.Added.Count > 0)
                o.Add(list + "IdsAdded", EcsList.Of("Added", difference.Added.Select(a => new EcsObject { { "Position", a.Position }, { id, a.Id } })));
        }
        return size > 0 && size >= whole ? null : o;
    }

    /// <summary>A part's IDs, named after the state file's lists, as the agent reads them (<c>StateParts.Lists</c>).</summary>
    internal static EcsObject AddLists(EcsObject o, StateExport.Part part)
    {
        o.Add("SecurityGroupsIds", EcsList.Of("SecurityGroupId", part.Groups.Select(g => g.Id.Value)));
        o.Add("InstancesIds", EcsList.Of("InstanceId", part.Instances.Select(i => i.Id.Value)));
        o.Add("NetworkInterfacesIds", EcsList.Of("NetworkInterfaceId", part.Interfaces.Select(e => e.Id.Value)));
        o.Add("PrefixListsIds", EcsList.Of("PrefixListId", part.PrefixLists.Select(l => l.Id.Value)));
        o.Add("PortRangeListsIds", EcsList.Of("PortRangeListId", part.PortRangeLists.Select(l => l.Id.Value)));
        return o;
    }

    /// <summary>The fields of a <c>KnownNic.N</c> item: a NIC the host holds and the digest of what it holds.</summary>
    private static readonly FieldNames KnownNicFields = new("InstanceId", "Digest");

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static Dictionary<string, string> KnownDigests(ParameterReader p)
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (index, fields) in p.Objects(KnownNicParameter, KnownNicFields, MaxKnownNics))
        {
            var instance = fields.GetValueOrDefault("InstanceId") is { Length: > 0 } id
                ? Lookups.InstanceIdOf(id).Value
                : throw new EcsException(EcsErrors.Missing($"KnownNic.{index}.InstanceId"));
            var digest = fields.GetValueOrDefault("Digest") ?? "";
            if (digest.Length != 32 || digest.AsSpan().ContainsAnyExcept(LowerHex))
                throw new EcsException(EcsErrors.ParameterInvalid($"KnownNic.{index}.Digest", $"'{digest}' is not a digest this server gave (32 lowercase hex digits)."));
            known[instance] = digest;
        }
        return known;
    }

    private static string Id(long accountId) => accountId.ToString(CultureInfo.InvariantCulture);
}
