using System.Globalization;
using System.Text.Json;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Agent.Following;

/// <summary>What the control plane says a host must enforce, at one (host) revision: each account's NICs on the host and the state they depend on.</summary>
public sealed record HostPolicy(long Revision, IReadOnlyList<HostPart> Parts)
{
    /// <summary>A host carrying one account's NICs.</summary>
    public HostPolicy(long revision, IReadOnlyList<HostBinding> bindings, NetworkState state)
        : this(revision, [new HostPart(state, bindings)])
    {
    }
}

/// <summary>The agent's view of the control plane (an interface so the loop is tested without a server).</summary>
public interface IControlPlane
{
    Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel);

    /// <summary>
    /// Waits (long poll) until a change after <paramref name="afterRevision"/> that may alter what
    /// <paramref name="hostName"/> enforces (the host's feed: other changes of the account do not wake
    /// it); false when the wait ran out.
    /// </summary>
    Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel);

    /// <summary>
    /// The same wait, and when a change came, the host's policy after it if the control plane sent it with
    /// the wake (issue 17, eighteenth session: one round trip fewer per change); without it
    /// (<see cref="Wake.Policy"/> null) the agent fetches as before. A control plane that cannot send it
    /// waits as <see cref="WaitForChangeAsync"/>.
    /// </summary>
    async Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) =>
        new(await WaitForChangeAsync(hostName, afterRevision, wait, cancel));

    /// <summary>
    /// Whether the host's status report may ride on its next long poll (<see cref="WaitForPolicyAsync(string, long, TimeSpan, StatusReport?, CancellationToken)"/>,
    /// issue 17, nineteenth session): one request per change instead of the poll and <c>ReportAgentStatus</c>.
    /// </summary>
    bool CarriesReports => false;

    /// <summary>
    /// The same wait, carrying <paramref name="report"/> (the report <c>ReportAsync</c> would send) when
    /// not null; the wake's <see cref="Wake.Reported"/> says whether the control plane stored it. A control
    /// plane that cannot carry it waits as before and says it did not (the agent then sends it apart).
    /// </summary>
    Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, StatusReport? report, CancellationToken cancel) =>
        WaitForPolicyAsync(hostName, afterRevision, wait, cancel);

    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel);

    /// <summary>The same report with what the rules decided since the last one (<paramref name="usage"/>, deltas); a control plane that keeps no usage drops it.</summary>
    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, cancel);

    /// <summary>
    /// The same report with the flows sampled since the last one (<paramref name="flows"/>; null when
    /// the agent does not sample). The answer: whether the host is to sample flows at all (its
    /// operator may switch it off); a control plane that keeps no flows says no.
    /// </summary>
    async Task<bool> ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, FlowReport? flows, CancellationToken cancel)
    {
        await ReportAsync(hostName, appliedRevision, nics, usage, cancel);
        return false;
    }
}

/// <summary>What a long poll brought: whether a change came, and the host's policy after it when the wake carried it.</summary>
public sealed record Wake(bool Changed, HostPolicy? Policy = null)
{
    /// <summary>
    /// The answer to the status report the poll carried, once stored: whether the host is to sample flows
    /// (as <c>ReportAsync</c>'s). Null: the poll carried none, the control plane did not take it, or
    /// it was still writing it (<see cref="ReportPending"/>).
    /// </summary>
    public bool? Reported { get; init; }

    /// <summary>
    /// The control plane took the report the poll carried but answered before it was stored (issue 17,
    /// twentieth session: a poll woken within a report interval of its arrival is answered at once, not after
    /// the report's write). Not known stored: the agent carries its latest report again with its next poll.
    /// </summary>
    public bool ReportPending { get; init; }
}

/// <summary>A host's status report, as <c>ReportAsync</c>'s parameters: the revision applied, the NICs enforcing it, what the rules decided, the flows sampled (null: the agent does not sample).</summary>
public sealed record StatusReport(long AppliedRevision, IReadOnlyList<NicRef> Nics, IReadOnlyList<RuleHits> Usage, FlowReport? Flows);

/// <summary>What one ECS rule decided for one NIC in one direction since the last report: packets (each opens, or tries to open, a connection) and their bytes.</summary>
public sealed record RuleHits(InstanceId InstanceId, string Direction, string SecurityGroupRuleId, long Packets, long Bytes)
{
    /// <summary>The NIC that counted: an ENI of the instance, or its primary NIC.</summary>
    public NicRef Nic { get; init; } = new(InstanceId, null, Secondary: false);
}

/// <summary>The control plane could not be asked (unreachable, refusing, or answering an error); the agent keeps what it enforces.</summary>
public class ControlPlaneUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The control plane refuses the agent's credential itself (revoked, rotated, disabled, or a wrong
/// secret): no retry will help until the operator gives the agent a credential that works. The host
/// keeps what it enforces, as when the control plane is unreachable.
/// </summary>
public sealed class HostCredentialRefusedException(string message, Exception? inner = null) : ControlPlaneUnavailableException(message, inner)
{
    /// <summary>The refusals that mean "this key", not "this request".</summary>
    public static bool Means(string code) =>
        code is Domain.Errors.EcsErrorCodes.InvalidAccessKeyIdNotFound or Domain.Errors.EcsErrorCodes.InvalidAccessKeyIdInactive or Domain.Errors.EcsErrorCodes.SignatureDoesNotMatch;
}

/// <summary>
/// <see cref="IControlPlane"/> over the ECS API: <c>DescribeHostPolicy</c>, <c>DescribeChanges</c>,
/// <c>ReportAgentStatus</c>, with the host's credential. A fetch is incremental (issue 17): it sends
/// the digest of every NIC's part it holds and receives only the parts that changed (each once,
/// however many NICs share it) and of those only the resources it does not hold as they are; each
/// account's state on the host is the union of its NICs' parts. A changed part may come as a
/// difference from a part it holds (<see cref="PartDifferences"/>): it rebuilds the lists, checks the
/// part's digest, and fetches whole at once if anything does not add up. It
/// holds nothing after a failure, and every <see cref="FullFetchInterval"/> it sends no digests
/// (a full fetch), so an error can never stick; a server that answers no parts is read whole.
/// </summary>
public sealed class EcsControlPlane(EcsClient client, string regionId) : IControlPlane
{
    /// <summary>Per bound NIC: its account, its part's digest and the IDs its part holds, by list.</summary>
    private readonly Dictionary<string, (string Account, string Digest, IReadOnlyDictionary<string, ChunkedTexts> Ids)> _held = new(StringComparer.Ordinal);

    /// <summary>The resources the held parts name, by account, list and ID, as JSON.</summary>
    private Dictionary<(string Account, string List, string Id), string> _resources = [];
    /// <summary>Each account's union of its NICs' parts as held after the last fetch (<see cref="KeepsResources"/>).</summary>
    private Dictionary<string, HeldUnion> _unions = new(StringComparer.Ordinal);

    /// <summary>Each account's read of its state kept for the next fetch's (<see cref="KeepsResources"/>: a rule change's state made from it).</summary>
    private readonly Dictionary<string, StateReadBefore> _readsBefore = new(StringComparer.Ordinal);
    private string? _heldFor;

    /// <summary>
    /// True: each account's resources and the union of its parts are kept from one fetch to the next
    /// and changed by what came (<see cref="HeldUnion"/>, issue 17, eighteenth session); false: every
    /// fetch rebuilds the dictionary of every resource held and the union from it (the form before, and
    /// the slow twin the tests compare with).
    /// </summary>
    public bool KeepsResources { get; init; } = true;
    private long _fullAt = long.MinValue;

    /// <summary>False: every fetch is the whole host policy, each account's state whole (the form before issue 17).</summary>
    public bool Incremental { get; init; } = true;

    /// <summary>
    /// Content shared with other agents of the same process (the fleet bench's simulated agents): the
    /// resources' JSON, their IDs and the assembled state texts are kept once by content, and each
    /// state text parsed once. Null (a real agent, one a host): each held as it came.
    /// </summary>
    public SharedContent? Shared { get; init; }

    private string Share(string text) => Shared is { } shared ? shared.Text(text) : text;

    private (string? Text, IReadOnlyList<IReadOnlyList<string>>? Items, NetworkState State) Parse(string text) =>
        Shared is { } shared ? Whole(shared.State(text, StateFileReader.Read)) : (text, null, StateFileReader.Read(text));

    private static (string? Text, IReadOnlyList<IReadOnlyList<string>>? Items, NetworkState State) Whole((string Text, NetworkState State) read) => (read.Text, null, read.State);

    /// <summary>
    /// True: each fetch writes the account's whole state text from the parts and reads it whole (the
    /// form before the seventeenth session, and the slow twin the tests compare with); false: the
    /// state is made of the resources read, each read once while it is held
    /// (<see cref="StateFileReader.Read(string, IReadOnlyList{IReadOnlyList{string}}, StateItemCache, Func{string})"/>).
    /// </summary>
    public bool ReadsWhole { get; init; }

    /// <summary>The resources this agent read, by text (the shared one's when <see cref="Shared"/>).</summary>
    private readonly StateItemCache _items = new();

    /// <summary>Resources read, and found read already, over all fetches (for tests and the bench).</summary>
    public (long Read, long Found) Items => (Shared?.Items ?? _items).Counts;

    /// <summary>How often a fetch ignores what it holds and asks for every NIC's part.</summary>
    public TimeSpan FullFetchInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether the agent counts its rules' hits: false (<c>--no-rule-counters</c>) and its reports never
    /// say it watched, so no rule looks unused for want of hits nobody counted.
    /// </summary>
    public bool CountsRules { get; init; } = true;

    /// <summary>NIC parts received (changed) and NIC parts the server said were unchanged, over all fetches: what the incremental fetch saved.</summary>
    public (long Received, long Unchanged) Parts { get; private set; }

    /// <summary>
    /// True: the agent asks for a changed part as a difference from a part it holds
    /// (<c>PartDifferences=true</c>, issue 17) and rebuilds it; false: each changed part's lists whole
    /// (the form before it, and the slow twin the tests compare with).
    /// </summary>
    public bool PartDifferences { get; init; } = true;

    /// <summary>Parts rebuilt from a difference (and their digests checked), and fetches whose parts did not add up and were made again whole.</summary>
    public (long Rebuilt, long FetchedWholeAgain) Differences { get; private set; }

    public async Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
    {
        if (!Incremental)
        {
            var (whole, document) = await CallDocument("DescribeHostPolicy", [new("RegionId", regionId), new("HostName", hostName)], cancel);
            using (document)
                return Read(whole, a => Parse(a.GetProperty("State").GetRawText()));
        }
        return await PartsOrWholeAsync(() => FetchPartsAsync(hostName, cancel), hostName, cancel);
    }

    /// <summary>
    /// A policy read from parts (a fetch's answer, or the one a wake carried), or when the parts do not add
    /// up a whole fetch at once; whatever failed, nothing is held after it.
    /// </summary>
    private async Task<HostPolicy> PartsOrWholeAsync(Func<Task<HostPolicy>> read, string hostName, CancellationToken cancel)
    {
        try
        {
            try
            {
                return await read();
            }
            catch (PartsDoNotAddUpException)
            {
                // A part it could not rebuild, or rebuilt otherwise than the server's digest says, is
                // never enforced: it drops what it holds and fetches every part whole at once.
                _held.Clear();
                _unions.Clear();
                _readsBefore.Clear();
                Differences = (Differences.Rebuilt, Differences.FetchedWholeAgain + 1);
                try
                {
                    return await FetchPartsAsync(hostName, cancel);
                }
                catch (PartsDoNotAddUpException again)
                {
                    throw new ControlPlaneUnavailableException($"DescribeHostPolicy: the answer could not be read: {again.Message}", again);
                }
            }
        }
        catch
        {
            // Whatever failed, the next fetch starts from nothing.
            _held.Clear();
            _unions.Clear();
            _readsBefore.Clear();
            throw;
        }
    }

    /// <summary>What the agent holds and what came do not make the parts the server describes (a difference from a base it does not hold, a digest that does not match): fetch whole.</summary>
    private sealed class PartsDoNotAddUpException(string message) : Exception(message);

    private async Task<HostPolicy> FetchPartsAsync(string hostName, CancellationToken cancel)
    {
        var (p, bases) = PartsQuery(hostName);
        var (answer, document) = await CallDocument("DescribeHostPolicy", p, cancel);
        using var _ = document;
        return ReadParts(answer, bases);
    }

    /// <summary>
    /// The parameters of an incremental fetch (the digests of the parts held, or none when a full fetch is
    /// due), sent by a fetch and by a poll that asks for the policy with its wake; and the lists of each part
    /// held, by account and digest: the bases a difference in the answer may name.
    /// </summary>
    private (List<KeyValuePair<string, string>> Parameters, Dictionary<(string Account, string Digest), IReadOnlyDictionary<string, ChunkedTexts>> Bases) PartsQuery(string hostName)
    {
        if (_heldFor != hostName || System.Diagnostics.Stopwatch.GetElapsedTime(_fullAt) >= FullFetchInterval)
        {
            _held.Clear();
            _unions.Clear();
            _readsBefore.Clear();
            _heldFor = hostName;
            _fullAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        List<KeyValuePair<string, string>> p = [new("RegionId", regionId), new("HostName", hostName), new("PerNic", "true"), new("SharedParts", "true")];
        if (PartDifferences)
            p.Add(new("PartDifferences", "true"));
        // The lists of each part held, by account and digest: the bases a difference may name.
        var bases = new Dictionary<(string Account, string Digest), IReadOnlyDictionary<string, ChunkedTexts>>();
        foreach (var held in _held.Values)
            bases.TryAdd((held.Account, held.Digest), held.Ids);
        var n = 0;
        foreach (var (instance, held) in _held)
        {
            n++;
            p.Add(new($"KnownNic.{n}.InstanceId", instance));
            p.Add(new($"KnownNic.{n}.Digest", held.Digest));
        }
        return (p, bases);
    }

    /// <summary>
    /// The host's policy from an incremental answer (<c>DescribeHostPolicy</c>'s, or the <c>HostPolicy</c> a
    /// woken poll carried): the changed parts that came, rebuilt where they came as differences, and the
    /// parts held; what is held afterwards is what it describes.
    /// </summary>
    private HostPolicy ReadParts(JsonElement json, Dictionary<(string Account, string Digest), IReadOnlyDictionary<string, ChunkedTexts>> bases)
    {
        // About as many as held: sized once, not grown through every power of two each fetch (the slow twin's).
        var resources = new Dictionary<(string Account, string List, string Id), string>(KeepsResources ? 0 : _resources.Count);
        var unions = new Dictionary<string, HeldUnion>(StringComparer.Ordinal);
        var policy = Read(json, account =>
        {
            if (!account.TryGetProperty("Nics", out var nics))
                return Parse(account.GetProperty("State").GetRawText());
            var accountId = Share(account.GetProperty("AccountId").GetString()!);
            // The resources that came: the account's changed NICs' parts, each once.
            var came = ReadsAnswerOnce ? StateParts.Resources(account.GetProperty("State")) : StateParts.Resources(account.GetProperty("State").GetRawText());
            var (received, unchanged) = Parts;
            // The changed parts' ID lists, once per part (NICs with the same groups share one).
            var listed = new Dictionary<string, IReadOnlyDictionary<string, ChunkedTexts>>(StringComparer.Ordinal);
            // The parts rebuilt from a difference: their digests are checked once their resources are known.
            var rebuilt = new HashSet<string>(StringComparer.Ordinal);
            if (account.TryGetProperty("Parts", out var changedParts))
            {
                foreach (var part in changedParts.GetProperty("Part").EnumerateArray())
                {
                    var digest = part.GetProperty("Digest").GetString()!;
                    if (part.TryGetProperty("BaseDigest", out var baseDigest))
                    {
                        listed[digest] = Rebuild(part, bases.GetValueOrDefault((accountId, baseDigest.GetString()!))
                            ?? throw new PartsDoNotAddUpException($"part {digest} came as a difference from part {baseDigest.GetString()}, which this agent does not hold"));
                        rebuilt.Add(digest);
                        continue;
                    }
                    listed[digest] = StateParts.Lists.ToDictionary(l => l.List, l => part.TryGetProperty(l.List + "Ids", out var list)
                        ? ChunkedTexts.Of([.. list.GetProperty(l.Id).EnumerateArray().Select(i => Share(i.GetString()!))])
                        : ChunkedTexts.Empty, StringComparer.Ordinal);
                }
            }
            var parts = new Dictionary<string, IReadOnlyDictionary<string, ChunkedTexts>>(StringComparer.Ordinal);
            foreach (var nic in nics.GetProperty("Nic").EnumerateArray())
            {
                var instance = nic.GetProperty("InstanceId").GetString()!;
                if (nic.GetProperty("Changed").GetBoolean())
                {
                    var digest = nic.GetProperty("Digest").GetString()!;
                    var ids = listed.TryGetValue(digest, out var l) ? l
                        : throw new InvalidOperationException($"the server says {instance}'s part changed but does not list part {digest}");
                    _held[instance] = (accountId, digest, ids);
                    received++;
                }
                else if (_held.TryGetValue(instance, out var held) && held.Account == accountId)
                    unchanged++;
                else
                    throw new InvalidOperationException($"the server says {instance} is unchanged, but nothing is held for it");
                var (_, partDigest, part) = _held[instance];
                // A part several NICs share is assembled once.
                parts.TryAdd(partDigest, part);
            }
            Parts = (received, unchanged);
            // What came is current; what is held of a part is current too where it did not come
            // (its digest says so, and the server leaves out only what the held parts hold as it is).
            Func<(string List, string Id), string> resource;
            IReadOnlyList<IReadOnlyList<string>> union;
            HeldUnion? heldUnion = null;
            if (KeepsResources)
            {
                var next = HeldUnion.Next(_unions.GetValueOrDefault(accountId), [.. parts.Values], came, Share)
                    ?? throw new PartsDoNotAddUpException("a resource of a NIC's part neither came nor is held");
                unions[accountId] = heldUnion = next;
                resource = r => next.Text(r.List, r.Id)!;
                union = next.Texts;
            }
            else
            {
                foreach (var part in parts.Values)
                {
                    foreach (var (list, members) in part)
                    {
                        foreach (var id in members)
                        {
                            resources[(accountId, list, id)] = came.TryGetValue((list, id), out var fresh) ? Share(fresh)
                                : _resources.TryGetValue((accountId, list, id), out var kept) ? kept
                                : throw new PartsDoNotAddUpException($"{id} of a NIC's part neither came nor is held");
                        }
                    }
                }
                resource = r => resources[(accountId, r.List, r.Id)];
                union = StateParts.Union(parts.Values, resource);
            }
            // A part rebuilt from a difference is enforced only if it is the server's: its lists, their
            // order and every resource's text hash to the digest the server gave.
            foreach (var digest in rebuilt)
            {
                if (parts.TryGetValue(digest, out var part) && (heldUnion is { } h ? h.Digest(part) : StateParts.Digest(part, resource)) != digest)
                    throw new PartsDoNotAddUpException($"part {digest}, rebuilt from a difference, does not have the digest the server gave");
            }
            Differences = (Differences.Rebuilt + rebuilt.Count, Differences.FetchedWholeAgain);
            if (!ReadsWhole)
                return (null, union, StateFileReader.Read(regionId, union, Shared?.Items ?? _items, () => StateParts.Write(regionId, union),
                    KeepsResources ? (_readsBefore.TryGetValue(accountId, out var before) ? before : _readsBefore[accountId] = new StateReadBefore()) : null));
            if (Shared is not { } shared)
                return Parse(StateParts.Write(regionId, union));
            // The agents of a pod assemble the same text from the same shared resources: assembled and read once.
            return Whole(shared.Assembled([regionId, .. union.SelectMany((items, l) => items.Prepend(StateParts.Lists[l].List))], () => StateParts.Write(regionId, union), StateFileReader.Read));
        });
        var bound = json.GetProperty("HostInterfaces").GetProperty("HostInterface").EnumerateArray().Select(b => b.GetProperty("InstanceId").GetString()!).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _held.Keys.Where(k => !bound.Contains(k)).ToList())
            _held.Remove(gone);
        _resources = resources;
        _unions = unions;
        return policy;
    }

    /// <summary>
    /// A part's lists from a difference (<c>BaseDigest</c>, and per list <c>{List}IdsRemoved</c>,
    /// <c>{List}IdsAdded</c>) and the base part's lists (<see cref="PartDifference.Apply"/>: the
    /// server's lists in the server's order, or a difference that does not fit the base).
    /// </summary>
    private IReadOnlyDictionary<string, ChunkedTexts> Rebuild(JsonElement part, IReadOnlyDictionary<string, ChunkedTexts> held)
    {
        var lists = new Dictionary<string, ChunkedTexts>(StringComparer.Ordinal);
        foreach (var (list, id) in StateParts.Lists)
        {
            var removed = part.TryGetProperty(list + "IdsRemoved", out var r)
                ? r.GetProperty(id).EnumerateArray().Select(i => i.GetString()!).ToList()
                : [];
            var added = part.TryGetProperty(list + "IdsAdded", out var a)
                ? a.GetProperty("Added").EnumerateArray().Select(x => (x.GetProperty("Position").GetInt32(), Share(x.GetProperty(id).GetString()!))).ToList()
                : [];
            lists[list] = PartDifference.Apply(held.GetValueOrDefault(list, ChunkedTexts.Empty), new PartDifference.Lists(removed, added))
                ?? throw new PartsDoNotAddUpException($"the difference of {list} does not fit the part held");
        }
        return lists;
    }

    /// <summary>
    /// The host's policy from an answer: its bindings by account, each account's NICs compiled
    /// against that account's state alone (<paramref name="stateOf"/> reads or assembles it).
    /// </summary>
    /// <param name="stateOf">An account's state text, read (or found already read, <see cref="Shared"/>): the text to keep and its state.</param>
    private static HostPolicy Read(JsonElement json, Func<JsonElement, (string? Text, IReadOnlyList<IReadOnlyList<string>>? Items, NetworkState State)> stateOf)
    {
        try
        {
            var revision = json.GetProperty("Revision").GetInt64();
            var bindings = json.GetProperty("HostInterfaces").GetProperty("HostInterface").EnumerateArray()
                .Select(b => (Account: b.GetProperty("AccountId").GetString()!,
                    Binding: new HostBinding(InstanceId.Parse(b.GetProperty("InstanceId").GetString()!), b.GetProperty("InterfaceName").GetString()!)
                    {
                        // Each bound ENI is its own NIC (issue 16); absent or empty: the instance's primary NIC.
                        NetworkInterfaceId = b.TryGetProperty("NetworkInterfaceId", out var eni) && eni.GetString() is { Length: > 0 } text ? NetworkInterfaceId.Parse(text) : null,
                    }))
                .ToLookup(b => b.Account, b => b.Binding, StringComparer.Ordinal);
            var accounts = json.GetProperty("Accounts").GetProperty("Account").EnumerateArray().ToList();
            var parts = accounts
                .Select(a =>
                {
                    var (text, items, state) = stateOf(a);
                    // The parts' digests (an incremental answer): the renderer keeps the NICs whose part did not change.
                    IReadOnlyDictionary<string, string>? digests = a.TryGetProperty("Nics", out var nics)
                        ? nics.GetProperty("Nic").EnumerateArray().ToDictionary(n => n.GetProperty("InstanceId").GetString()!, n => n.GetProperty("Digest").GetString()!, StringComparer.Ordinal)
                        : null;
                    return new HostPart(state, [.. bindings[a.GetProperty("AccountId").GetString()!]]) { Source = text, SourceItems = items, NicDigests = digests };
                })
                .ToList();
            var accounted = accounts.Select(a => a.GetProperty("AccountId").GetString()!).ToHashSet(StringComparer.Ordinal);
            if (bindings.Select(g => g.Key).FirstOrDefault(a => !accounted.Contains(a)) is { } missing)
                throw new FormatException($"NICs of account {missing} are bound but its state is missing");
            return new HostPolicy(revision, parts);
        }
        catch (Exception e) when (e is StateFileException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException or JsonException)
        {
            // An answer the agent cannot read must never cost the host its ruleset.
            throw new ControlPlaneUnavailableException($"DescribeHostPolicy: the answer could not be read: {e.Message}", e);
        }
    }

    public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
    {
        var json = await Call("DescribeChanges", [new("HostName", hostName), .. PollParameters(afterRevision, wait)], cancel);
        return json.GetProperty("Changes").GetProperty("Change").GetArrayLength() > 0;
    }

    private static KeyValuePair<string, string>[] PollParameters(long afterRevision, TimeSpan wait) =>
        [new("AfterRevision", afterRevision.ToString(CultureInfo.InvariantCulture)), new("WaitSeconds", ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture))];

    /// <summary>
    /// True: the host's poll asks for its policy with the wake (<c>IncludeHostPolicy=true</c> with the
    /// fetch's parameters, issue 17, eighteenth session) and reads it as a fetch's answer; false: a wake
    /// says only that something changed and the agent fetches (the form before it, and the slow twin the
    /// tests compare with). Only with <see cref="Incremental"/>.
    /// </summary>
    public bool PolicyWithWake { get; init; } = true;

    /// <summary>Wakes that carried the host's policy (read as a fetch's answer), and wakes that did not (a server without the extension: a fetch followed).</summary>
    public (long Carried, long Bare) Wakes { get; private set; }

    public Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) =>
        WaitForPolicyAsync(hostName, afterRevision, wait, null, cancel);

    /// <summary>
    /// True: the host's status report rides on its next long poll (<c>CarriesStatusReport=true</c> with
    /// <c>ReportAgentStatus</c>'s parameters, issue 17, nineteenth session); false: each report is its own
    /// <c>ReportAgentStatus</c> (the form before it, and the slow twin the tests compare with).
    /// </summary>
    public bool ReportWithPoll { get; init; } = true;

    public bool CarriesReports => ReportWithPoll;

    /// <summary>
    /// Reports carried by a poll and stored, carried reports the server did not take (a server without the
    /// extension), and carried reports answered before their write (carried again, twentieth session).
    /// </summary>
    public (long Stored, long NotTaken, long Pending) CarriedReports { get; private set; }

    public async Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, StatusReport? report, CancellationToken cancel)
    {
        report = ReportWithPoll ? report : null;
        var withPolicy = Incremental && PolicyWithWake;
        // The digests held now: nothing else reads or changes them while the poll waits (the agent's one loop).
        var (p, bases) = withPolicy ? PartsQuery(hostName) : ([new("HostName", hostName)], new Dictionary<(string Account, string Digest), IReadOnlyDictionary<string, ChunkedTexts>>());
        p.AddRange(PollParameters(afterRevision, wait));
        if (withPolicy)
            p.Add(new("IncludeHostPolicy", "true"));
        if (report is not null)
        {
            // The report's own parameters (RegionId and HostName are the poll's already).
            p.Add(new("CarriesStatusReport", "true"));
            p.AddRange(ReportParameters(report).Where(r => r.Key is not ("RegionId" or "HostName")));
        }
        // Read from the answer's bytes, and only while the document lives: everything kept is copied out of it.
        var (json, document) = await CallDocument("DescribeChanges", p, cancel);
        using var _ = document;
        bool? reported = null;
        var pending = false;
        if (report is not null)
        {
            // A server without the extension ignores it and says nothing: the agent sends the report apart. One that
            // answered before the report's write says false (twentieth session): the agent carries it again.
            var said = json.TryGetProperty("StatusReported", out var r) ? r.ValueKind : JsonValueKind.Undefined;
            pending = said == JsonValueKind.False;
            reported = said == JsonValueKind.True
                ? json.TryGetProperty("FlowSampling", out var sampling) && sampling.ValueKind == JsonValueKind.True
                : null;
            CarriedReports = reported is not null ? CarriedReports with { Stored = CarriedReports.Stored + 1 }
                : pending ? CarriedReports with { Pending = CarriedReports.Pending + 1 }
                : CarriedReports with { NotTaken = CarriedReports.NotTaken + 1 };
        }
        if (json.GetProperty("Changes").GetProperty("Change").GetArrayLength() == 0)
            return new(false) { Reported = reported, ReportPending = pending };
        if (!withPolicy || !json.TryGetProperty("HostPolicy", out var carried) || carried.ValueKind != JsonValueKind.Object)
        {
            // A server without the extension (it ignores the parameter): the agent fetches, as before.
            if (withPolicy)
                Wakes = (Wakes.Carried, Wakes.Bare + 1);
            return new(true) { Reported = reported, ReportPending = pending };
        }
        Wakes = (Wakes.Carried + 1, Wakes.Bare);
        // Read by the fetch's own code, with the fetch's guarantees: parts that do not add up are fetched whole at once.
        return new(true, await PartsOrWholeAsync(() => Task.FromResult(ReadParts(carried, bases)), hostName, cancel)) { Reported = reported, ReportPending = pending };
    }

    public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, [], cancel);

    public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, usage, null, cancel);

    public async Task<bool> ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, FlowReport? flows, CancellationToken cancel)
    {
        List<KeyValuePair<string, string>> p = [new("RegionId", regionId), new("HostName", hostName), .. ReportParameters(new StatusReport(appliedRevision, nics, usage, flows))];
        var answer = await Call("ReportAgentStatus", p, cancel);
        return answer.TryGetProperty("FlowSampling", out var sampling) && sampling.ValueKind == JsonValueKind.True;
    }

    /// <summary><c>ReportAgentStatus</c>'s parameters for <paramref name="report"/> (but <c>RegionId</c> and <c>HostName</c>): sent by the report, or by the poll that carries it.</summary>
    private List<KeyValuePair<string, string>> ReportParameters(StatusReport report)
    {
        var (appliedRevision, nics, usage, flows) = (report.AppliedRevision, report.Nics, report.Usage, report.Flows);
        List<KeyValuePair<string, string>> p = [new("AppliedRevision", appliedRevision.ToString(CultureInfo.InvariantCulture))];
        // Each ENI by its ID; a NIC the server named by instance only (a classic instance's) by the instance's.
        var (enis, instances) = (nics.Where(n => n.NetworkInterfaceId is not null).ToList(), nics.Where(n => n.NetworkInterfaceId is null).ToList());
        for (var i = 0; i < enis.Count; i++)
            p.Add(new($"NetworkInterfaceId.{i + 1}", enis[i].NetworkInterfaceId!.Value.Value));
        for (var i = 0; i < instances.Count; i++)
            p.Add(new($"InstanceId.{i + 1}", instances[i].InstanceId.Value));
        // UsageReported says the agent counts, even when nothing moved: the server learns which hosts watched a rule.
        if (CountsRules)
            p.Add(new("UsageReported", "true"));
        for (var i = 0; i < usage.Count; i++)
        {
            var u = usage[i];
            var n = (i + 1).ToString(CultureInfo.InvariantCulture);
            p.Add(u.Nic.NetworkInterfaceId is { } eni ? new($"RuleUsage.{n}.NetworkInterfaceId", eni.Value) : new($"RuleUsage.{n}.InstanceId", u.InstanceId.Value));
            p.Add(new($"RuleUsage.{n}.Direction", u.Direction));
            p.Add(new($"RuleUsage.{n}.SecurityGroupRuleId", u.SecurityGroupRuleId));
            p.Add(new($"RuleUsage.{n}.Packets", u.Packets.ToString(CultureInfo.InvariantCulture)));
            p.Add(new($"RuleUsage.{n}.Bytes", u.Bytes.ToString(CultureInfo.InvariantCulture)));
        }
        if (flows is not null)
        {
            // FlowsReported says the agent samples, even when nothing came: the server learns which hosts watched.
            p.Add(new("FlowsReported", "true"));
            for (var i = 0; i < flows.Flows.Count; i++)
            {
                var f = flows.Flows[i];
                var n = (i + 1).ToString(CultureInfo.InvariantCulture);
                p.Add(new($"Flow.{n}.InstanceId", f.InstanceId.Value));
                if (f.NetworkInterfaceId is { } eni)
                    p.Add(new($"Flow.{n}.NetworkInterfaceId", eni.Value));
                p.Add(new($"Flow.{n}.SourceIp", f.Source.ToString()));
                p.Add(new($"Flow.{n}.IpProtocol", f.Protocol.ToWire()));
                p.Add(new($"Flow.{n}.Port", f.Port.ToString(CultureInfo.InvariantCulture)));
                p.Add(new($"Flow.{n}.Minute", f.Minute.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture)));
                p.Add(new($"Flow.{n}.Connections", f.Connections.ToString(CultureInfo.InvariantCulture)));
            }
            for (var i = 0; i < flows.Drops.Count; i++)
            {
                var n = (i + 1).ToString(CultureInfo.InvariantCulture);
                p.Add(new($"FlowDrop.{n}.InstanceId", flows.Drops[i].InstanceId.Value));
                if (flows.Drops[i].NetworkInterfaceId is { } eni)
                    p.Add(new($"FlowDrop.{n}.NetworkInterfaceId", eni.Value));
                p.Add(new($"FlowDrop.{n}.Connections", flows.Drops[i].Connections.ToString(CultureInfo.InvariantCulture)));
            }
        }
        return p;
    }

    /// <summary>
    /// True: a fetch's and a woken poll's answers are parsed once from the response's UTF-8 bytes and the
    /// resources that came read from the answer's <c>State</c> member where it stands (issue 17, twentieth
    /// session); false: the answer read as a string, parsed and cloned, and the <c>State</c> member written
    /// out as text and parsed again (the form before it, and the slow twin the tests compare with).
    /// </summary>
    public bool ReadsAnswerOnce { get; init; } = true;

    private Task<JsonElement> Call(string action, List<KeyValuePair<string, string>> parameters, CancellationToken cancel) =>
        Calling(action, () => client.CallAsync(action, parameters, cancel: cancel), cancel);

    /// <summary>
    /// An answer, and the document to dispose once it is read (<see cref="ReadsAnswerOnce"/>: its pooled
    /// buffers go back; everything kept is copied out of it first); the slow twin's is <see cref="Call"/>'s
    /// clone, with no document.
    /// </summary>
    private async Task<(JsonElement Json, JsonDocument? Document)> CallDocument(string action, List<KeyValuePair<string, string>> parameters, CancellationToken cancel)
    {
        if (!ReadsAnswerOnce)
            return (await Call(action, parameters, cancel), null);
        var document = await Calling(action, () => client.CallDocumentAsync(action, parameters, cancel: cancel), cancel);
        return (document.RootElement, document);
    }

    private static async Task<T> Calling<T>(string action, Func<Task<T>> call, CancellationToken cancel)
    {
        try
        {
            return await call();
        }
        catch (EcsApiException e) when (HostCredentialRefusedException.Means(e.Code))
        {
            throw new HostCredentialRefusedException($"{action}: the control plane refuses this agent's credential ({e.Code}: {e.EcsMessage}); it was revoked or rotated (palisade host credential list), or its secret is wrong: restart the agent with the host's current credentials file", e);
        }
        catch (EcsApiException e)
        {
            throw new ControlPlaneUnavailableException($"{action}: {e.Code} {e.EcsMessage}", e);
        }
        catch (HttpRequestException e)
        {
            throw new ControlPlaneUnavailableException($"{action}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new ControlPlaneUnavailableException($"{action}: timed out", e);
        }
    }
}
