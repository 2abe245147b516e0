using System.Security.Cryptography;
using System.Text;
using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Responses;
using Palisade.Storage;

namespace Palisade.Server.Actions;

/// <summary>Everything an action may use: its parameters, who calls, the store, the clock, the limits.</summary>
public sealed class ActionContext(RpcRequest request, Caller caller, IEcsAction action, IStore store, TimeProvider clock, ServerOptions options, string requestId = "", Accounts.AccountService? accounts = null)
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
        new(new RpcRequest("POST", Request.Host, parameters, [], new Dictionary<string, string>(), []), Caller, other, store, Clock, options, RequestId, accounts);

    public IEcsAction Action => action;

    public string RequestId { get; } = requestId;

    /// <summary>Whether this call's action-trail event is written already (with its change, by <see cref="Write"/>).</summary>
    public bool Trailed { get; private set; }

    /// <summary>This call as an action-trail event with the given outcome.</summary>
    public Storage.Records.ActionTrailEntry TrailEntry(int httpStatus, string resultCode) =>
        new(Clock.GetUtcNow(), AccountId, Caller.AccessKeyId, action.Name, action.Version, RequestId, Trail.TrailParameters.Json(Request), httpStatus, resultCode);

    public Caller Caller { get; } = caller;

    /// <summary>Makes AccessKeys (their IDs, secrets and encryption), for the actions that manage the caller's own.</summary>
    public Accounts.AccountService Accounts => accounts ?? throw new InvalidOperationException("this context was made without the account service");

    public long AccountId => Caller.AccountId;

    public ParameterReader Parameters { get; } = new(request.Parameters);

    public TimeProvider Clock { get; } = clock;

    public DateTimeOffset Now => Time.Truncate(Clock.GetUtcNow());

    public Limits Limits => options.Limits;

    public bool DryRun => Parameters.Bool("DryRun");

    /// <summary><c>RegionId</c>, required and known.</summary>
    public Regions.Region Region()
    {
        var id = Parameters.Optional("RegionId") ?? throw new EcsException(EcsErrors.MissingRegionId());
        return Regions.Find(id) ?? throw new EcsException(EcsErrors.RegionNotFound(id));
    }

    public string NewId(string prefix, Regions.Region region) => ResourceIdSyntax.NewId(prefix, region.IdCode);

    public T Read<T>(Func<IStoreSession, T> work) => store.Read(work);

    /// <summary>The server's global revision, without a transaction (for polling); never to be shown to the caller.</summary>
    public long CurrentRevision() => store.CurrentRevision();

    /// <summary>Completes at this node's next commit (the change feed's wake-up).</summary>
    public CommitSignal Commits => store.Commits;

    /// <summary>
    /// Runs a change as one transaction. With <c>DryRun=true</c> the change is made, checked and
    /// rolled back, and the answer is <c>DryRunOperation</c>: the dry run sees every error the real
    /// call would. With a <c>ClientToken</c> a repeated request gets the first answer and changes nothing.
    /// </summary>
    public EcsObject Write(Func<IStoreSession, EcsObject> work)
    {
        var token = Parameters.Optional("ClientToken");
        if (token is not null && (token.Length > 64 || token.Any(c => c > 0x7E || c < 0x20)))
            throw new EcsException(EcsErrors.ParameterInvalid("ClientToken", "at most 64 ASCII characters."));
        var dryRun = DryRun;
        // A dry run also answers what the change would do to reachability: the state before (read
        // first, outside the write), the state inside the rolled-back transaction after, compared
        // once the write lock is released.
        var impactRegion = dryRun && Parameters.Optional("RegionId") is { } regionId ? Regions.Find(regionId)?.RegionId : null;
        var before = impactRegion is not null ? store.Read(s => Analysis.StoredState.Load(s, AccountId, impactRegion)) : null;
        var withImpact = before is not null && before.Instances.Length <= MaxInstancesForDryRunImpact;
        try
        {
            // A success's trail event is written in its transaction: the change never commits without it.
            var answer = store.Write(action.Name, AccountId, s =>
            {
                if (token is not null && !dryRun)
                {
                    var hash = RequestHash();
                    if (s.FindClientToken(AccountId, token) is { } earlier)
                    {
                        var replayed = earlier.Action == action.Name && earlier.RequestHash == hash
                            ? ResponseWriter.FromJson(earlier.ResponseJson)
                            : throw new EcsException(EcsErrors.IdempotentMismatch());
                        s.AddTrail(TrailEntry(200, TrailOk));
                        return replayed;
                    }
                    var result = work(s);
                    s.SaveClientToken(new Storage.Records.ClientTokenRecord(AccountId, token, action.Name, hash, Encoding.UTF8.GetString(ResponseWriter.Json(result)), Now));
                    s.AddTrail(TrailEntry(200, TrailOk));
                    return result;
                }
                var outcome = work(s);
                if (dryRun)
                    throw new DryRunRolledBack(withImpact ? Analysis.StoredState.Load(s, AccountId, impactRegion!) : null);
                s.AddTrail(TrailEntry(200, TrailOk));
                return outcome;
            });
            Trailed = true;
            return answer;
        }
        catch (DryRunRolledBack rolledBack)
        {
            throw new DryRunPassedException(before is null
                ? NotComputed("the request names no RegionId")
                : rolledBack.After is null
                    ? NotComputed($"more than {MaxInstancesForDryRunImpact} instances; use palisade whatif on an export")
                    : Impact(before, rolledBack.After));
        }
    }

    /// <summary>The result code a successful call has in the action trail.</summary>
    public const string TrailOk = "OK";

    /// <summary>Carries the state a dry run would leave out of the transaction it rolls back.</summary>
    private sealed class DryRunRolledBack(Domain.State.NetworkState? after) : Exception("dry run")
    {
        public Domain.State.NetworkState? After { get; } = after;
    }

    private static EcsObject NotComputed(string reason) =>
        new() { { "Impact", new EcsObject { { "Computed", false }, { "Reason", reason } } } };

    /// <summary>Small enough for a dry run to compare every instance pair.</summary>
    public const int MaxInstancesForDryRunImpact = 500;

    private static EcsObject Impact(Domain.State.NetworkState before, Domain.State.NetworkState after)
    {
        var (gained, lost) = Palisade.Analysis.WhatIf.ImpactAnalysis.Between(before, after);
        static EcsList Flows(IEnumerable<Palisade.Analysis.WhatIf.FlowDelta> deltas) => EcsList.Of("Flow", deltas.Select(d => new EcsObject
        {
            { "Source", d.Source },
            { "Target", d.Target },
            { "IpProtocol", d.Protocol.ToWire() },
            { "PortRanges", EcsList.Of("PortRange", d.Ports.Select(p => p.ToString())) },
        }));
        return new EcsObject { { "Impact", new EcsObject { { "Computed", true }, { "Gained", Flows(gained) }, { "Lost", Flows(lost) } } } };
    }

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
