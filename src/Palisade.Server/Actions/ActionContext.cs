using Palisade.Domain.Quotas;
using System.Security.Cryptography;
using System.Text;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Actions;

/// <summary>Everything an action may use: its parameters, who calls, the store, the clock, the limits.</summary>
internal sealed class ActionContext(RpcRequest request, Caller caller, IEcsAction action, IStore store, TimeProvider clock, ServerOptions options, string requestId = "", AccountService? accounts = null)
{
    /// <summary>Parameters every request may carry that are not the action's business.</summary>
    internal static readonly HashSet<string> CommonParameters = new(StringComparer.Ordinal)
    {
        "Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp",
        "Format", "SecurityToken", "SignatureType", "BearerToken", "ClientToken", "DryRun",
        "OwnerId", "OwnerAccount", "ResourceOwnerId", "ResourceOwnerAccount",
    };

    public RpcRequest Request { get; } = request;

    /// <summary>The same caller asking for <paramref name="other"/> with <paramref name="parameters"/> (an action run on behalf of another).</summary>
    public ActionContext For(IEcsAction other, IReadOnlyList<KeyValuePair<string, string>> parameters) =>
        new(new RpcRequest("POST", Request.Host, parameters, [], new Dictionary<string, string>(), []), Caller, other, store, Clock, options, RequestId, accounts)
        {
            AnalysisProcess = AnalysisProcess,
            AnalysisAccountKey = AnalysisAccountKey,
        };

    /// <summary>Where a dry-run impact's comparison runs when not in this process (issue 19); null: here.</summary>
    public AnalysisProcess? AnalysisProcess { get; init; }

    /// <summary>
    /// The account the analysis process keeps this context's befores under: the caller's, except for
    /// the server's own warm-up (<see cref="Hosting.AnalysisPathWarmUp"/>), whose synthetic account lives
    /// in a store of its own and is keyed as no account (0), never as a tenant's of the same number.
    /// </summary>
    public long? AnalysisAccountKey { get; init; }

    public IEcsAction Action => action;

    public string RequestId { get; } = requestId;

    /// <summary>This call as an action-trail event with the given outcome.</summary>
    public Storage.Records.ActionTrailEntry TrailEntry(int httpStatus, string resultCode) =>
        new(Clock.GetUtcNow(), AccountId, Caller.AccessKeyId, TrailName, action.Version, RequestId, Trail.TrailParameters.Json(Request, CarriedWriteLeavesOut), httpStatus, resultCode);

    /// <summary>The parameters that are the carrying call's own, not the carried write's: left out of its trail event (null: none).</summary>
    public Func<string, bool>? CarriedWriteLeavesOut { get; set; }

    /// <summary>
    /// The write a read carries, by its action's name (issue 17, nineteenth session: a host's poll carrying its
    /// status report, <c>ReportAgentStatus</c>): the call is then on the trail as that action's call would be —
    /// its write's event, or its refusal's — under that name. Null for every other call.
    /// </summary>
    public string? CarriedWrite { get; set; }

    /// <summary>
    /// The carried write still under way when the call was answered (issue 17, twentieth session: a host's poll
    /// answered before the write of the report it carries). The call's trail then waits for it: the write's
    /// event is in its own transaction; if it fails, its refusal's event is written then, so the call is on the
    /// trail once either way (<see cref="Hosting.RpcEndpoint"/>). Null for every other call.
    /// </summary>
    public Task? CarriedWriteInFlight { get; set; }

    /// <summary>The action the trail names: the carried write's, else the call's own.</summary>
    private string TrailName => CarriedWrite ?? action.Name;

    public Caller Caller { get; } = caller;

    /// <summary>Makes AccessKeys (their IDs, secrets and encryption), for the actions that manage the caller's own.</summary>
    public AccountService Accounts => accounts ?? throw new InvalidOperationException("this context was made without the account service");

    public long AccountId => Caller.AccountId;

    public ParameterReader Parameters { get; } = new(request.Parameters);

    public TimeProvider Clock { get; } = clock;

    /// <summary>When the request arrived (the endpoint sets it; a context made elsewhere arrived when it was made).</summary>
    public DateTimeOffset Arrived { get; init; } = clock.GetUtcNow();

    public DateTimeOffset Now => Time.Truncate(Clock.GetUtcNow());

    public Limits Limits => options.Limits;

    /// <summary>Whether a host's renewal may be answered from the commit watcher's knowledge (<see cref="ServerOptions.HostRenewalsFromWatcher"/>).</summary>
    public bool HostRenewalsFromWatcher => options.HostRenewalsFromWatcher;

    /// <summary>Whether a woken host poll may be answered from the commit ledger (<see cref="ServerOptions.HostWakesFromLedger"/>).</summary>
    public bool HostWakesFromLedger => options.HostWakesFromLedger;

    /// <summary>Whether a poll's answer waits for the write of the report it carries (<see cref="ServerOptions.CarriedReportWaitsForItsWrite"/>).</summary>
    public bool CarriedReportWaitsForItsWrite => options.CarriedReportWaitsForItsWrite;

    /// <summary>How rule hit counts are bucketed and kept.</summary>
    public RuleUsageOptions RuleUsage => options.RuleUsage;

    /// <summary>How observed flows are kept.</summary>
    public ObservedFlowOptions ObservedFlows => options.ObservedFlows;

    /// <summary>The blocks VPC public addresses and EIPs are allocated from.</summary>
    public IReadOnlyList<Cidr> PublicAddressPool => options.PublicAddressPool;

    public bool DryRun => Parameters.Bool("DryRun");

    /// <summary><c>RegionId</c>, required and known.</summary>
    public Regions.Region Region()
    {
        var id = Parameters.Optional("RegionId") ?? throw new EcsException(EcsErrors.MissingRegionId());
        return Regions.Find(id) ?? throw new EcsException(EcsErrors.RegionNotFound(id));
    }

    public string NewId(string prefix, Regions.Region region) => ResourceIdSyntax.NewId(prefix, region.IdCode);

    public T Read<T>(Func<IStoreSession, T> work) => store.Read(work);

    /// <summary>The node's queue for store connections; an asynchronous action takes a slot for each synchronous stage (issue 17).</summary>
    public Hosting.StoreGate Gate { get; init; } = Hosting.StoreGate.Open;

    /// <summary>The server's global revision, without a transaction (for polling); never to be shown to the caller.</summary>
    public long CurrentRevision() => store.CurrentRevision();

    /// <summary>The node's "before" states of dry-run impacts, kept per account revision (issue 19); null when reads are not cached.</summary>
    public Insight.ImpactBefores? ImpactBefores => options.CacheReads ? Insight.ImpactBefores.Of(store) : null;

    /// <summary>The node's views of accounts' regions for host policies, kept per account revision (issue 17).</summary>
    public Hosts.AccountViews AccountViews => Hosts.AccountViews.Of(store);

    /// <summary>This node's commit watcher, where the feeds' long polls park.</summary>
    public CommitWatcher Commits => store.Commits;

    /// <summary>The node's memory of its hosts' last fetches (issue 17: a fetch served without a store read).</summary>
    public Hosts.HostFetches HostFetches => Hosts.HostFetches.Of(store);

    /// <summary>
    /// Runs a change as one transaction, with its action-trail event. With <c>DryRun=true</c> the
    /// change is made, checked and rolled back, and <see cref="DryRunPassed"/> is set: the dry run
    /// sees every error the real call would. With a <c>ClientToken</c> a repeated request gets the
    /// first answer and changes nothing.
    /// </summary>
    public EcsObject Write(Func<IStoreSession, EcsObject> work)
    {
        var token = Parameters.Optional("ClientToken");
        if (token is not null && (token.Length > 64 || token.Any(c => c > 0x7E || c < 0x20)))
            throw new EcsException(EcsErrors.ParameterInvalid("ClientToken", "at most 64 ASCII characters."));
        if (DryRun)
            return Rehearse(work);
        var answer = store.Write(action.Name, AccountId, s =>
        {
            var result = token is null ? work(s) : Idempotent(s, token, work);
            // The event is written with the change: the change never commits without it.
            s.AddTrail(TrailEntry(200, TrailOk));
            return result;
        });
        Committed = true;
        return answer;
    }

    /// <summary>
    /// <see cref="Write"/> for a host's agent (issue 17): what it writes are its host's own rows and
    /// no account's state, so the transaction is serialised on the host (<c>host:NAME</c>, the key
    /// the operator's declarations and bindings take), not on an account — a fleet's reports run side by
    /// side. A dry run or a <c>ClientToken</c> takes <see cref="Write"/>'s way.
    /// </summary>
    public EcsObject WriteForHost(string hostName, Func<IStoreSession, EcsObject> work)
    {
        if (DryRun || Parameters.Optional("ClientToken") is not null)
            return Write(work);
        var answer = store.WriteOn(TrailName, "host:" + hostName, s =>
        {
            var result = work(s);
            s.AddTrail(TrailEntry(200, TrailOk));
            return result;
        });
        Committed = true;
        return answer;
    }

    /// <summary>
    /// <see cref="WriteForHost"/> in the node's batch of agents' reports (<see cref="Hosts.StatusReportBatch"/>,
    /// issue 17): <paramref name="work"/> runs in the next batch's transaction with its trail event,
    /// and this completes once that committed; what <paramref name="work"/> gives the batch's
    /// <see cref="Hosts.StatusReportWrites"/> is written once for the batch. With
    /// <see cref="ServerOptions.StatusReportInterval"/> zero, a dry run or a <c>ClientToken</c>, it is
    /// <see cref="WriteForHost"/> in a write slot, as before, and <paramref name="work"/> is given no
    /// batch (null: it writes its own rows).
    /// </summary>
    public async Task<T> WriteForHostInBatchAsync<T>(string hostName, Func<IStoreSession, Hosts.StatusReportWrites?, T> work)
    {
        if (options.StatusReportInterval <= TimeSpan.Zero || DryRun || Parameters.Optional("ClientToken") is not null)
        {
            var result = default(T)!;
            await Gate.RunAsync(StoreGate.Kind.Write, () => WriteForHost(hostName, s => { result = work(s, null); return []; }), CancellationToken.None);
            return result;
        }
        var done = await Hosts.StatusReportBatch.Of(store).Add(hostName, Caller.AccessKeyId, (s, writes) => work(s, writes), TrailEntry(200, TrailOk), Gate, options.StatusReportInterval);
        Committed = true;
        return (T)done!;
    }

    /// <summary><c>SecurityGroupId</c>, required and well formed: read once, found later inside the transaction.</summary>
    public SecurityGroupId GroupIdParameter() => Lookups.GroupId(Parameters.Required("SecurityGroupId"));

    /// <summary>A change to one of the caller's groups: the group is found in the transaction (in the request's region), then changed.</summary>
    public EcsObject WriteGroup(SecurityGroupId id, Func<IStoreSession, Storage.Records.GroupRecord, EcsObject> work) =>
        Write(s => work(s, s.Group(this, id)));

    /// <summary>A read of one of the caller's groups: the group is found in the read (in the request's region), then read.</summary>
    public T ReadGroup<T>(SecurityGroupId id, Func<IStoreSession, Storage.Records.GroupRecord, T> work) =>
        Read(s => work(s, s.Group(this, id)));

    /// <summary><c>InstanceId</c>, required and well formed: read once, found later inside the transaction.</summary>
    public InstanceId InstanceIdParameter() => Lookups.InstanceIdOf(Parameters.Required("InstanceId"));

    /// <summary>A change to one of the caller's instances: the instance is found in the transaction (in the request's region), then changed.</summary>
    public EcsObject WriteInstance(InstanceId id, Func<IStoreSession, Storage.Records.InstanceRecord, EcsObject> work) =>
        Write(s => work(s, s.Instance(this, id)));

    /// <summary>Whether this call committed a change (and with it its action-trail event).</summary>
    public bool Committed { get; private set; }

    /// <summary>Whether this call was a dry run of a change that would have succeeded.</summary>
    public bool DryRunPassed { get; private set; }

    /// <summary>Set by the dry-run impact stage: how to read the state a rehearsed change leaves, before it is rolled back.</summary>
    internal Func<IStoreSession, Domain.State.NetworkState>? KeepStateAfterDryRun { get; set; }

    /// <summary>The state the rehearsed change left, when <see cref="KeepStateAfterDryRun"/> asked for it.</summary>
    internal Domain.State.NetworkState? StateAfterDryRun { get; private set; }

    private EcsObject Rehearse(Func<IStoreSession, EcsObject> work)
    {
        EcsObject? answer = null;
        try
        {
            store.Write<EcsObject>(action.Name, AccountId, s =>
            {
                answer = work(s);
                StateAfterDryRun = KeepStateAfterDryRun?.Invoke(s);
                // The store's contract: an exception out of the work rolls the transaction back.
                throw new RolledBack();
            });
        }
        catch (RolledBack)
        {
        }
        DryRunPassed = true;
        return answer!;
    }

    private EcsObject Idempotent(IStoreSession s, string token, Func<IStoreSession, EcsObject> work)
    {
        var hash = RequestHash();
        if (s.FindClientToken(AccountId, token) is { } earlier)
        {
            return earlier.Action == action.Name && earlier.RequestHash == hash
                ? ResponseWriter.FromJson(earlier.ResponseJson)
                : throw new EcsException(EcsErrors.IdempotentMismatch());
        }
        var result = work(s);
        s.SaveClientToken(new Storage.Records.ClientTokenRecord(AccountId, token, action.Name, hash, Encoding.UTF8.GetString(ResponseWriter.Json(result)), Now));
        return result;
    }

    /// <summary>The result code a successful call has in the action trail.</summary>
    public const string TrailOk = Storage.Records.ActionTrailEntry.Ok;

    private sealed class RolledBack() : Exception("dry run rolled back");

    /// <summary>The business parameters, sorted, hashed: two requests with one ClientToken must agree on them.</summary>
    private string RequestHash()
    {
        var text = string.Join('\n', Request.Parameters
            .Where(p => !CommonParameters.Contains(p.Key))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(action.Name + "\n" + text)));
    }
}
