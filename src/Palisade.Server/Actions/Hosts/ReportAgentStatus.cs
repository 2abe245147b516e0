using System.Globalization;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, called by <c>palisade agent</c> with its host credential (issue 18): the
/// host enforces the policy of host revision <c>AppliedRevision</c> (what <c>DescribeHostPolicy</c>
/// answered) for the NICs <c>NetworkInterfaceId.N</c> (each bound ENI it has programmed) and
/// <c>InstanceId.N</c> (an instance's primary NIC: a classic instance's, or what agents before
/// per-ENI bindings sent); NICs not bound to it are ignored. Each NIC's account is told its own revision as of that moment, so its tenant sees
/// the NIC in sync once that is the account's latest. Replaces the host's previous report; leaves
/// no revision, so reporting never wakes a feed. No account's key may call it: a tenant cannot
/// claim a NIC is enforced.
/// With <c>UsageReported=true</c> the agent also says it counts rule hits, and <c>RuleUsage.N</c>
/// (<c>NetworkInterfaceId</c> or <c>InstanceId</c>, <c>Direction</c>, <c>SecurityGroupRuleId</c>,
/// <c>Packets</c>, <c>Bytes</c>) carries what each rule decided since its last report; they are
/// added to the current time bucket of the NIC's own account. Usage for a NIC not bound to that
/// host, or a rule not of the NIC's groups (one revoked meanwhile), is dropped.
/// With <c>FlowsReported=true</c> the agent says it samples the new connections its NICs' rules
/// accept: <c>Flow.N</c> (<c>InstanceId</c>, <c>NetworkInterfaceId</c> of the ENI that saw it — none for
/// a classic NIC or an older agent, meaning the instance's primary NIC —, <c>SourceIp</c>, <c>IpProtocol</c>,
/// <c>Port</c>, <c>Minute</c>, <c>Connections</c>) and <c>FlowDrop.N</c> (<c>InstanceId</c>,
/// <c>NetworkInterfaceId</c>, <c>Connections</c>: new connections to that NIC it saw but could not
/// keep, over its rate cap). Each
/// flow goes to the account of its NIC (bound to that host), never another; none are kept from a host
/// whose operator switched sampling off. The answer's <c>FlowSampling</c> tells the agent whether to
/// sample at all.
/// </summary>
internal sealed class ReportAgentStatus : WriteAction, IHostAgentAction, IAsyncEcsAction
{
    public bool HostOnly => true;

    /// <summary>
    /// The report checks its credential in its own write (<see cref="Store"/>), as the poll and the fetch
    /// check theirs in their reads: after a change every affected host reports, and the authenticator's
    /// look at the store for a host key (the revision moved, so the key was read again) was a third of the
    /// store reads left per change (issue 17, fifteenth session). A revoked credential is still refused at
    /// once: its revocation is committed before the report's write begins, or the write sees it.
    /// </summary>
    public bool ReadsItsCredential => true;

    /// <summary>One report, read at the edge; stored by <see cref="Store"/>.</summary>
    internal sealed record Report(string Host, long Revision, HashSet<InstanceId> Instances, HashSet<NetworkInterfaceId> Enis,
        bool UsageReported, List<(string Nic, string RuleId, long Packets, long Bytes)> Usage,
        bool FlowsReported, List<ObservedFlowReport.Flow> Flows, List<(InstanceId Nic, NetworkInterfaceId? Eni, long Connections)> FlowDrops, DateTimeOffset Now)
    {
        /// <summary>
        /// Which report of its host this is, for the store's guard (issue 17, twentieth session): the revision
        /// applied and the request's arrival, so an older report written late leaves a newer one's rows.
        /// </summary>
        public required HostReportMark Mark { get; init; }
    }

    private static Report Read(ActionContext c, ParameterReader p)
    {
        var host = HostAccess.HostOf(c);
        var revisionText = p.Required("AppliedRevision");
        if (!long.TryParse(revisionText, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
            throw new EcsException(EcsErrors.AppliedRevisionInvalid(revisionText));
        var instances = p.List("InstanceId", 10_000).Select(Lookups.InstanceIdOf).Distinct().ToHashSet();
        var enis = p.List("NetworkInterfaceId", 10_000).Select(NetworkInterfaceIdOf).Distinct().ToHashSet();
        var usageReported = p.Bool("UsageReported");
        var usage = p.Objects("RuleUsage", RuleUsageFields, 9_999).Select(o => Usage(o.Index, o.Fields)).ToList();
        var flowsReported = p.Bool("FlowsReported");
        var (flows, flowDrops) = ObservedFlowReport.Read(p, c.ObservedFlows.MaxFlowsPerReport, c.Now);
        return new Report(host, revision, instances, enis, usageReported, usage, flowsReported, flows, flowDrops, c.Now) { Mark = new(host, revision, c.Arrived) };
    }

    /// <summary>
    /// One report on its own write (serialised on the host): the slow twin of the batched
    /// <see cref="ExecuteAsync"/>, and the way of a dry run or a <c>ClientToken</c>.
    /// </summary>
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var report = Read(c, p);
        var sampling = false;
        // Serialised on the host, not on an account: the reports of a fleet's hosts run side by side
        // (they took turns on one lock: 50 hosts' reports after one change took 4–5 s each, issue 17).
        c.WriteForHost(report.Host, s =>
        {
            sampling = Store(c, s, report, null);
            return [];
        });
        return Answer(sampling);
    }

    /// <summary>The report in the node's batch of reports (<see cref="StatusReportBatch"/>): answered once it is stored.</summary>
    public async Task<EcsObject> ExecuteAsync(ActionContext c, CancellationToken cancel)
    {
        var report = Read(c, c.Parameters);
        return Answer(await StoreInBatchAsync(c, report));
    }

    /// <summary>
    /// A report carried by the host's long poll (<c>DescribeChanges</c> with <c>CarriesStatusReport=true</c>,
    /// issue 17, nineteenth session): its parameters are this action's, read here by its own code at the
    /// poll's arrival (bad ones refused before the poll parks; a host credential's own host only). From here
    /// the call is on the trail as this action's would be (its event, or its refusal's).
    /// </summary>
    /// <param name="pollsOwn">The poll's own parameters, left out of the report's trail event (so it is the report's alone).</param>
    /// <param name="refused">
    /// The carrying call's refusal of the report before it is read (an account's key carrying one:
    /// <c>Forbidden.HostCredentialRequired</c>), on the trail as this action's refusal is.
    /// </param>
    public static Report ReadCarried(ActionContext c, Func<string, bool> pollsOwn, EcsError? refused = null)
    {
        c.CarriedWrite = "ReportAgentStatus";
        c.CarriedWriteLeavesOut = pollsOwn;
        return refused is null ? Read(c, c.Parameters) : throw new EcsException(refused);
    }

    /// <summary>Stores a report in the node's batch, as a <c>ReportAgentStatus</c> call does (the same checks and rows); completes with whether the host samples flows.</summary>
    public static Task<bool> StoreInBatchAsync(ActionContext c, Report report) =>
        c.WriteForHostInBatchAsync(report.Host, (s, writes) => Store(c, s, report, writes));

    private static EcsObject Answer(bool sampling) => new() { { "FlowSampling", sampling } };

    /// <summary>
    /// Stores one report in the write <paramref name="s"/>; answers whether the host samples flows. In a
    /// batch (<paramref name="batch"/>) its rows, usage mark and purge are given to the batch, which
    /// writes them once for all its reports; alone (null, the slow twin) it writes them itself.
    /// </summary>
    private static bool Store(ActionContext c, IStoreSession s, Report r, StatusReportWrites? batch)
    {
        var (host, revision, now) = (r.Host, r.Revision, r.Now);
        // Revoked before this write: the authenticator trusted the secret it holds for the ID (ReadsItsCredential), and this refuses it.
        if ((batch is null ? s.FindHostCredential(c.Caller.AccessKeyId) : batch.Credential(s, c.Caller.AccessKeyId)) is not { } credential || credential.HostName != host)
            throw new EcsException(EcsErrors.AccessKeyNotFound());
        // A revision from the future (a forged or confused agent) must not show NICs in sync too
        // early: it cannot, since an account's revision "at" it is read from the revisions that
        // exist, so the latest there is, no more — the same as at the current revision, without
        // reading it first (one round trip fewer a report, issue 17).
        // A report speaks only for NICs bound to that host; an agent racing an unbind may name
        // one that just left, which is not an error.
        // In a batch the three reads (credential, bindings, flow switch) are one statement each for the batch.
        var bindings = (batch?.BindingsOn(s, host) ?? s.ListBindingsOnHost(host)).ToList();
        // Each account's revision once (a host's ten NICs of one account asked it ten times, issue 17).
        var accountRevisions = new Dictionary<long, long>();
        long AccountRevision(long account) =>
            accountRevisions.TryGetValue(account, out var known) ? known
            : accountRevisions[account] = batch?.AccountRevisionAt(s, account, revision) ?? s.AccountRevisionAt(account, revision);
        var reports = BoundNics.Named(s, bindings, r.Instances, r.Enis)
            .Select(b => new AgentReportRecord(b.AccountId, host, b.InstanceId, AccountRevision(b.AccountId), now) { NetworkInterfaceId = b.NetworkInterfaceId })
            .ToList();
        // A newer report of the host already stored keeps its rows (the store's guard): this one came late.
        if (batch is null)
            s.SaveHostReports(r.Mark, reports);
        else
            batch.SaveHostReports(r.Mark, reports);
        // Each NIC's hits belong to its own account: one host's agent counts for every tenant on it.
        if (r.UsageReported)
        {
            foreach (var account in bindings.GroupBy(b => b.AccountId))
                SaveUsage(c, s, account.Key, host, [.. account], r.Usage, now, batch);
        }
        // The operator's switch decides, whatever the agent sends: flows hold addresses.
        var sampling = !(batch?.SamplingOff(s, host) ?? s.FlowSamplingOff(host));
        if (r.FlowsReported && sampling)
        {
            foreach (var account in bindings.GroupBy(b => b.AccountId))
                ObservedFlowReport.Save(c, s, account.Key, host, [.. account], r.Flows, r.FlowDrops, now);
        }
        return sampling;
    }

    private static NetworkInterfaceId NetworkInterfaceIdOf(string text) =>
        NetworkInterfaceId.TryParse(text, out var id) ? id : throw new EcsException(EcsErrors.NetworkInterfaceNotFound(text));

    /// <summary>The fields of a <c>RuleUsage.N</c> line, as <see cref="Usage"/> reads them.</summary>
    private static readonly FieldNames RuleUsageFields = new("NetworkInterfaceId", "InstanceId", "Direction", "SecurityGroupRuleId", "Packets", "Bytes");

    /// <summary>A usage line's NIC: an ENI (<c>eni-…</c>) or an instance's primary NIC (<c>i-…</c>).</summary>
    private static (string Nic, string RuleId, long Packets, long Bytes) Usage(int index, IReadOnlyDictionary<string, string> fields)
    {
        string Field(string name) => fields.TryGetValue(name, out var v) && v.Length > 0
            ? v
            : throw new EcsException(EcsErrors.Missing($"RuleUsage.{index}.{name}"));
        long Count(string name)
        {
            var text = Field(name);
            return text.Length <= 15 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new EcsException(EcsErrors.ParameterInvalid($"RuleUsage.{index}.{name}", $"'{text}' is not a count (an integer from 0)."));
        }
        var nic = fields.TryGetValue("NetworkInterfaceId", out var eni) && eni.Length > 0
            ? NetworkInterfaceIdOf(eni).Value
            : Lookups.InstanceIdOf(Field("InstanceId")).Value;
        if (Field("Direction") is not ("ingress" or "egress") and var direction)
            throw new EcsException(EcsErrors.ParameterInvalid($"RuleUsage.{index}.Direction", $"'{direction}' is not ingress or egress."));
        var rule = Field("SecurityGroupRuleId");
        if (!SecurityGroupRuleId.TryParse(rule, out _))
            throw new EcsException(EcsErrors.ParameterInvalid($"RuleUsage.{index}.SecurityGroupRuleId", $"'{rule}' is not a rule ID."));
        return (nic, rule, Count("Packets"), Count("Bytes"));
    }

    private static void SaveUsage(ActionContext c, IStoreSession s, long accountId, string host, IReadOnlyList<HostBindingRecord> bound,
        List<(string Nic, string RuleId, long Packets, long Bytes)> usage, DateTimeOffset now, StatusReportWrites? batch)
    {
        var options = c.RuleUsage;
        if (batch is null)
            s.MarkUsageHost(accountId, host, now, options.MaxReportGap);
        else
            batch.MarkUsageHost(accountId, host, now, options.MaxReportGap);
        void Purge()
        {
            if (batch is null)
                s.PurgeRuleUsage(accountId, now - options.Retention);
            else
                batch.PurgeRuleUsage(accountId, now - options.Retention);
        }
        // Only hits are added: a report that counted none (most after a change) reads no NIC's groups
        // or rules (two reads per NIC, twenty statements for a host of ten, issue 17).
        if (!usage.Any(u => u.Packets > 0))
        {
            Purge();
            return;
        }
        // The rules an agent may count for: those of the groups of the account's NICs bound to this
        // host — an ENI's own; for an instance named (agents before per-ENI bindings), any of its bound NICs'.
        var groupsOf = bound.GroupBy(b => b.Nic, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.SelectMany(b => BoundNics.GroupsOf(s, b)).ToList(), StringComparer.Ordinal);
        foreach (var instance in bound.GroupBy(b => b.InstanceId.Value, StringComparer.Ordinal))
            groupsOf.TryAdd(instance.Key, [.. instance.SelectMany(b => BoundNics.GroupsOf(s, b))]);
        var rulesOf = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        HashSet<string> RulesOf(string nic)
        {
            if (rulesOf.TryGetValue(nic, out var known))
                return known;
            var rules = new HashSet<string>(StringComparer.Ordinal);
            foreach (var group in groupsOf.GetValueOrDefault(nic) ?? [])
                rules.UnionWith(s.ListRules(group).Select(r => r.Id.ToString()));
            return rulesOf[nic] = rules;
        }
        var deltas = usage
            .Where(u => u.Packets > 0 && groupsOf.ContainsKey(u.Nic) && RulesOf(u.Nic).Contains(u.RuleId))
            .GroupBy(u => u.RuleId, StringComparer.Ordinal)
            .Select(g => new RuleUsageDelta(g.Key, g.Sum(u => u.Packets), g.Sum(u => u.Bytes)))
            .ToList();
        s.AddRuleUsage(accountId, host, options.BucketOf(now), deltas, now);
        Purge();
    }
}
