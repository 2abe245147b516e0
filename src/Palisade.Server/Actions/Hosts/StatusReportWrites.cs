namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// What the status reports of one batch (<see cref="StatusReportBatch"/>) write together, at the end of
/// its transaction (issue 17, sixteenth session): each report replaced its host's rows (a delete and an
/// insert), marked its host as counting rule hits (a read and an upsert) and purged its account's old
/// usage buckets — five statements a report, a hundred reports a batch, after every change that woke
/// a fleet (8.7 % of the nodes' CPU in a 1,000-host join with the report's reads, fifteenth session's
/// profile). Here every host's rows go in one write (the store's <see cref="IStoreSession.ReplaceHostReports"/>: since
/// migration 016 an upsert of each host's accounts' revisions, its NICs rewritten only when their set changed), the marks in one read
/// and one upsert, and each account's usage is purged once, with the latest bound any report asked.
/// The account revisions the reports read (one a report and account, the same for a fleet that
/// applied one change) are read once a batch. The slow twin is each report's own statements
/// (<see cref="ReportAgentStatus"/> with no batch, <see cref="Hosting.ServerOptions.StatusReportInterval"/> zero).
/// Exactness: nothing in the batch's transaction reads these rows before the end; a host reported
/// twice keeps its last report's rows, as its second delete would; the marks fold in order as their
/// statements would (<see cref="IStoreSession.MarkUsageHosts"/>); one purge with the latest bound
/// deletes what the purges in turn did, as long as no report of the batch is older than another's
/// new usage bucket by the whole retention (a batch spans an interval of a second).
/// </summary>
internal sealed class StatusReportWrites
{
    /// <summary>A batch of reports by these hosts, signed with these credentials (the reads are made for them all at once).</summary>
    public StatusReportWrites(IReadOnlyCollection<string> hosts, IReadOnlyCollection<string> accessKeyIds) =>
        (_readHosts, _readKeys) = (hosts, accessKeyIds);

    public StatusReportWrites()
        : this([], [])
    {
    }

    private readonly IReadOnlyCollection<string> _readHosts, _readKeys;
    private Dictionary<string, HostCredentialRecord>? _credentials;
    private IReadOnlyDictionary<string, IReadOnlyList<HostBindingRecord>>? _bindings;
    private IReadOnlySet<string>? _samplingOff;

    // The reports' three reads (seventeenth session): each report read its credential, its host's bindings
    // and its host's flow switch, three statements a report, three hundred a batch of a hundred. Here each is
    // one statement for the batch's hosts and credentials, made at the first report's ask, in the batch's
    // transaction: the same rows each report's own statement reads, since no report writes credentials,
    // bindings or switches. A host or credential the batch was not given is read on its own.

    /// <summary>The host credential <paramref name="accessKeyId"/>, if it exists (<see cref="IStoreSession.FindHostCredential"/>).</summary>
    public HostCredentialRecord? Credential(IStoreSession s, string accessKeyId)
    {
        if (!_readKeys.Contains(accessKeyId))
            return s.FindHostCredential(accessKeyId);
        _credentials ??= s.FindHostCredentials(_readKeys).ToDictionary(c => c.AccessKeyId, StringComparer.Ordinal);
        return _credentials.GetValueOrDefault(accessKeyId);
    }

    /// <summary>Every binding on <paramref name="host"/> (<see cref="IStoreSession.ListBindingsOnHost"/>).</summary>
    public IReadOnlyList<HostBindingRecord> BindingsOn(IStoreSession s, string host)
    {
        if (!_readHosts.Contains(host))
            return s.ListBindingsOnHost(host);
        _bindings ??= s.ListBindingsOnHosts(_readHosts);
        return _bindings.GetValueOrDefault(host) ?? [];
    }

    /// <summary>Whether the operator turned flow sampling off on <paramref name="host"/> (<see cref="IStoreSession.FlowSamplingOff"/>).</summary>
    public bool SamplingOff(IStoreSession s, string host)
    {
        if (!_readHosts.Contains(host))
            return s.FlowSamplingOff(host);
        _samplingOff ??= s.HostsWithoutFlowSampling(_readHosts);
        return _samplingOff.Contains(host);
    }

    private readonly List<string> _hosts = [];
    private readonly Dictionary<string, (HostReportMark Report, IReadOnlyList<AgentReportRecord> Rows)> _rows = new(StringComparer.Ordinal);
    private readonly List<(long AccountId, string HostName, DateTimeOffset Now)> _marks = [];
    private TimeSpan? _maxGap;
    private readonly Dictionary<long, DateTimeOffset> _purges = [];
    private readonly Dictionary<(long Account, long Revision), long> _accountRevisions = [];

    /// <summary>
    /// The host's report rows, replacing what it reported before (in this batch too) unless that is newer
    /// (<see cref="HostReportMark.NotOlderThan"/>: the store's guard, here among the batch's own reports).
    /// </summary>
    public void SaveHostReports(HostReportMark report, IReadOnlyList<AgentReportRecord> rows)
    {
        if (_rows.TryGetValue(report.HostName, out var known))
        {
            if (report.NotOlderThan(known.Report))
                _rows[report.HostName] = (report, rows);
            return;
        }
        _rows.Add(report.HostName, (report, rows));
        _hosts.Add(report.HostName);
    }

    public void MarkUsageHost(long accountId, string host, DateTimeOffset now, TimeSpan maxGap)
    {
        if (_maxGap is { } gap && gap != maxGap)
            throw new InvalidOperationException("the reports of one batch count usage with one gap");
        _maxGap = maxGap;
        _marks.Add((accountId, host, now));
    }

    public void PurgeRuleUsage(long accountId, DateTimeOffset before) =>
        _purges[accountId] = _purges.TryGetValue(accountId, out var known) && known > before ? known : before;

    /// <summary>The account's revision as of <paramref name="revision"/>, read once a batch.</summary>
    public long AccountRevisionAt(IStoreSession s, long accountId, long revision) =>
        _accountRevisions.TryGetValue((accountId, revision), out var known) ? known : _accountRevisions[(accountId, revision)] = s.AccountRevisionAt(accountId, revision);

    /// <summary>Writes what the batch's reports gathered, in the batch's transaction, after the last report.</summary>
    public void Write(IStoreSession s)
    {
        if (_hosts.Count > 0)
            s.ReplaceHostReports([.. _hosts.Select(h => _rows[h].Report)], [.. _hosts.SelectMany(h => _rows[h].Rows)]);
        if (_marks.Count > 0)
            s.MarkUsageHosts(_marks, _maxGap!.Value);
        foreach (var (accountId, before) in _purges.OrderBy(p => p.Key))
            s.PurgeRuleUsage(accountId, before);
    }
}
