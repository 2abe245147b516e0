using Palisade.Domain.Quotas;

namespace Palisade.Server.Hosting;

/// <summary>
/// The request rate each AccessKey may use on one node. The default admits far more than an
/// automation client needs (ECS's own per-user limits are lower) and less than one node serves,
/// so that a runaway client is slowed before it slows everyone.
/// </summary>
public sealed record Throttling
{
    /// <summary>Sustained requests per second per AccessKey; 0 turns throttling off.</summary>
    public double RequestsPerSecond { get; init; } = 1000;

    /// <summary>How many requests a key may send at once after a quiet spell (the bucket's size).</summary>
    public int Burst { get; init; } = 2000;

    /// <summary>Sustained requests per second of one account over all its AccessKeys; 0 turns it off.</summary>
    public double AccountRequestsPerSecond { get; init; } = 2000;

    public int AccountBurst { get; init; } = 4000;

    /// <summary>
    /// Bytes of answers one account may be served per second by this node, over all its AccessKeys
    /// (host credentials apart); 0 turns it off. A request is admitted while the account's bucket
    /// holds a byte and charged its answer's length once answered, so a large answer is served
    /// whole and then its account waits. Requests are counted, but an answer of 100 KB costs the
    /// node's send and the network a hundred times a small one (issue 19, sixteenth session: the same
    /// analysis question in a loop, answered from the read cache ~1,000 times a second at 114 KB).
    /// </summary>
    public double AccountBytesPerSecond { get; init; } = 16 * 1024 * 1024;

    /// <summary>Bytes an account may be served at once after a quiet spell (the bucket's size).</summary>
    public double AccountBytesBurst { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Refused calls of one account written to the action trail per second (and at once, the burst):
    /// past it a refusal is answered as always but only counted, not written, so a flood of refused
    /// calls cannot fill the disk or hold the write queue. 0 writes none.
    /// </summary>
    public double RefusalEventsPerSecond { get; init; } = 2;

    public int RefusalEventsBurst { get; init; } = 20;

    /// <summary>
    /// The share of the node's cores one account's analyses may use by default: 5 %
    /// (<see cref="AnalysisSecondsPerSecond"/> = 0.05 × <see cref="NodeCores"/>: 0.1 CPU-s/s on a 2-core
    /// node, 0.8 on a 16-core one). A fixed rate was a tenth of a 2-core node's CPU at 0.25 s/s, and with
    /// its burst a noisy tenant's new questions took 0.33–0.35 CPU-s/s of an 8 s phase (the server 0.69
    /// cores against 0.40 alone) and moved another tenant's read p99 2.2× (docs/benchmarks.md, noisy
    /// neighbour, sixteenth session); a 16-core node has eight times the CPU to share.
    /// </summary>
    public const double AnalysisShareOfNode = 0.05;

    /// <summary>
    /// The default burst in seconds of the account's rate: 2.5 s of it (0.25 CPU-s on a 2-core node, 2 on
    /// a 16-core one). A burst is what a tenant's analyses may take of a core at once after a quiet spell,
    /// beside the rate: with a 1 s burst on 2 cores an 8 s phase of new questions paid a third of its charge
    /// from the burst. An honest tenant's question is still answered at once from a full bucket, whatever
    /// its cost (one estimated above the whole burst is admitted when the bucket is full).
    /// </summary>
    public const double AnalysisBurstOfRate = 2.5;

    /// <summary>
    /// The node's cores as the analysis budget's default sees them (<see cref="AnalysisShareOfNode"/>):
    /// this machine's, <see cref="Environment.ProcessorCount"/> (which honours a container's CPU limit).
    /// </summary>
    public int NodeCores
    {
        get => _nodeCores ?? Environment.ProcessorCount;
        init => _nodeCores = value;
    }

    private readonly int? _nodeCores;

    /// <summary>Whether <see cref="NodeCores"/> was set rather than read from this machine (the tests' servers size theirs when not).</summary>
    internal bool NodeCoresGiven => _nodeCores is not null;

    private readonly double? _analysisSecondsPerSecond;
    private readonly double? _analysisBurstSeconds;

    /// <summary>
    /// Analysis work (DescribeChangeImpact, DescribeReachability, AuditSecurityGroups, ExportSecurityState,
    /// ExplainFlow) one account may use, in CPU-seconds per second of wall time, and at once (the burst).
    /// An account past it gets <c>Throttling.Analysis</c> until it refills; 0 turns the budget off. By
    /// default a share of the node's cores (<see cref="AnalysisShareOfNode"/>); set, it is the value given
    /// (serve's <c>--analysis-rate</c>).
    /// </summary>
    public double AnalysisSecondsPerSecond
    {
        get => _analysisSecondsPerSecond ?? AnalysisShareOfNode * Math.Max(1, NodeCores);
        init => _analysisSecondsPerSecond = value;
    }

    /// <summary>
    /// Analysis work one account may use at once, in CPU-seconds: by default <see cref="AnalysisBurstOfRate"/>
    /// seconds of the account's rate (0.25 s on a 2-core node), so a tenant's analyses take a core for at
    /// most a fraction of a second before the rate holds them (measured: with 5 s, the new-question noise of
    /// docs/benchmarks.md took most of a core for the first seconds; with 1 s on 2 cores, a third of an 8 s
    /// phase's charge). One analysis estimated above it is still admitted when the budget is full, and the
    /// account then owes the rest. Set, it is the value given (serve's <c>--analysis-burst</c>).
    /// </summary>
    public double AnalysisBurstSeconds
    {
        get => _analysisBurstSeconds ?? AnalysisBurstOfRate * AnalysisSecondsPerSecond;
        init => _analysisBurstSeconds = value;
    }

    /// <summary>
    /// This with the analysis rate and burst an operator gave (serve's <c>--analysis-rate</c>,
    /// <c>--analysis-burst</c>); what is not given stays the default — a burst not given follows the rate
    /// given (<see cref="AnalysisBurstOfRate"/> seconds of it), a rate not given is the node's share.
    /// </summary>
    public Throttling WithAnalysisBudget(double? secondsPerSecond, double? burstSeconds)
    {
        var budget = secondsPerSecond is { } rate ? this with { AnalysisSecondsPerSecond = rate } : this;
        return burstSeconds is { } burst ? budget with { AnalysisBurstSeconds = burst } : budget;
    }

    /// <summary>Analyses one account may have admitted at once, running or waiting for a worker (past it: <c>Throttling.Analysis</c>).</summary>
    public int AnalysisConcurrency { get; init; } = 1;

    /// <summary>
    /// Threads that run analyses, for all accounts, at a lower priority than requests: fewer than the
    /// cores, so plain API calls always have a core (one on a 2-core node). 0 runs each analysis on its
    /// request's thread, at the request's priority, with no cap across accounts (the old behaviour).
    /// </summary>
    public int AnalysisWorkers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// The analysis workers' niceness on Linux (0 as requests, up to 19): above 0 the kernel favours
    /// request threads when both want a core. Measured (docs/benchmarks.md): a niced worker starved by
    /// other processes holds up the collector's stop of every thread, so the default is 0 and the
    /// worker count is what keeps a core free.
    /// </summary>
    public int AnalysisNiceness { get; init; }

    /// <summary>
    /// Whether the comparison of a dry-run impact (<c>DescribeChangeImpact</c>, a dry run's <c>Impact</c>)
    /// runs in the analysis process, a child of the server at niceness 19 with its own heap
    /// (<see cref="Protocol.AnalysisProcess"/>), or in the server's process on the analysis worker.
    /// On by default on Linux (serve's <c>--analysis-process child|in-process</c>).
    /// </summary>
    public bool AnalysisInChild { get; init; } = OperatingSystem.IsLinux();

    /// <summary>
    /// With <see cref="AnalysisInChild"/>: the analysis process is started with the server and asked
    /// synthetic questions until its code is compiled and optimized (<see cref="Protocol.AnalysisWarmUp"/>),
    /// charged to no account, before a tenant's first question; off, it starts on the first impact, cold,
    /// as before 2026-12-04's thirteenth session (tests, which start many servers, turn it off).
    /// </summary>
    public bool AnalysisWarmUp { get; init; } = true;

    /// <summary>Analyses admitted to wait for a worker, across all accounts; past it a new one gets <c>Throttling</c>.</summary>
    public int AnalysisQueue { get; init; } = 16;

    /// <summary>
    /// How long a call refused with a throttling code is held before its answer is sent. A client that
    /// retries at once, as a flood does, is slowed to one refusal per hold on each connection, so its
    /// refusals cost the server (and the cores other tenants share) almost nothing; a client that backs
    /// off, as the SDKs do, waits no longer than it would have. 0 answers at once.
    /// </summary>
    public TimeSpan ThrottledAnswerDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Refusals of one account (or host credential) held at once; past it a refusal is answered at once and its connection closed.</summary>
    public int HeldRefusalsPerAccount { get; init; } = 64;

    /// <summary>Refusals held at once on this node, all callers together; past it as above.</summary>
    public int HeldRefusals { get; init; } = 4096;

    public static readonly Throttling Off = new()
    {
        RequestsPerSecond = 0, AccountRequestsPerSecond = 0, AccountBytesPerSecond = 0, AnalysisSecondsPerSecond = 0, AnalysisConcurrency = int.MaxValue, AnalysisWorkers = 0,
        ThrottledAnswerDelay = TimeSpan.Zero,
    };
}

public sealed record ServerOptions
{
    /// <summary>
    /// False for the analysis path's warm-up (<see cref="AnalysisPathWarmUp"/>): a server of its own in the
    /// same process, whose meters must not be the ones <c>/metrics</c> exports — while it ran, the node's
    /// <c>/metrics</c> showed the warm-up's gauges in place of its own (a budget of 1,000 s/s).
    /// </summary>
    internal bool PublishesMetrics { get; init; } = true;

    public Limits Limits { get; init; } = new();

    public Throttling Throttling { get; init; } = new();

    /// <summary>
    /// How long action-trail events are kept (90 days, as ActionTrail's event history); null keeps
    /// them for ever. Older ones are deleted once an hour by <see cref="TrailRetention"/>.
    /// </summary>
    public TimeSpan? TrailRetention { get; init; } = TimeSpan.FromDays(90);

    /// <summary>How rule hit counts are kept (issue 20): bucket width and how long buckets stay.</summary>
    public RuleUsageOptions RuleUsage { get; init; } = new();

    /// <summary>How observed flows are kept (issue 20): how long, and how much one report may carry.</summary>
    public ObservedFlowOptions ObservedFlows { get; init; } = new();

    /// <summary>Serve repeated reads from <see cref="ReadCache"/> while the store's revision stands.</summary>
    public bool CacheReads { get; init; } = true;

    /// <summary>
    /// Where VPC instances' public addresses (<c>InternetMaxBandwidthOut</c> &gt; 0, AllocatePublicIpAddress)
    /// and EIPs come from, shared by all accounts. By default 192.0.2.0/24, RFC 5737's TEST-NET-1: a
    /// documentation block that never routes on the internet and is apart from the 198.18.0.0/15 that
    /// private test networks and classic internet NICs (198.19.0.0/16) use, so a public address never
    /// equals a private one. An operator with real public addresses configures them (serve's <c>--public-pool</c>).
    /// </summary>
    public IReadOnlyList<Domain.Networking.Cidr> PublicAddressPool { get; init; } = [Domain.Networking.Cidr.Parse("192.0.2.0/24")];

    /// <summary>The host name errors carry as <c>HostId</c> when the request names none.</summary>
    public string HostId { get; init; } = "ecs.aliyuncs.com";

    /// <summary>
    /// A long poll's renewal is verified with the host credential's secret the node already holds, the
    /// poll's own read checking the credential still exists (issue 17). False looks at the store on
    /// every renewal, as before: the slow twin the tests compare it with.
    /// </summary>
    public bool HostSecretsHeldForPolls { get; init; } = true;

    /// <summary>
    /// A host's long-poll renewal is answered without its store read when the node's commit watcher
    /// proves nothing touched the host since the poll's revision nor since a read of this node last found
    /// the poll's credential (issue 17, fourteenth session): a revocation and every change for the host
    /// are commits that touch it. False reads the store on every renewal: the slow twin the tests compare it with.
    /// </summary>
    public bool HostRenewalsFromWatcher { get; init; } = true;

    /// <summary>
    /// A host's poll woken by a commit for its host is answered from the commit ledger, without its store
    /// read, when the ledger proves the host's feed since the poll's revision and that no credential write
    /// named the host since a read of this node found the poll's credential (issue 17, fifteenth session:
    /// after a 1,000-host change the woken polls' reads were a third of the store reads). Needs
    /// <see cref="HostRenewalsFromWatcher"/> (the found credentials). False reads the store on every wake:
    /// the slow twin the tests compare it with.
    /// </summary>
    public bool HostWakesFromLedger { get; init; } = true;

    /// <summary>
    /// A request whose key the node holds is authenticated without a store slot, and its nonce recorded
    /// asynchronously — on PostgreSQL in one statement with the nonces arriving meanwhile
    /// (<see cref="Protocol.StoreNonceRegistry"/>; issue 17, fifteenth session). False authenticates in
    /// a read slot with one insert per nonce, as before: the slow twin the tests compare it with.
    /// </summary>
    public bool AuthenticationOffTheGate { get; init; } = true;

    /// <summary>
    /// Agents' status reports (<c>ReportAgentStatus</c>) are written together, at most one write per
    /// this interval per node (issue 17): after a change a hundred hosts report at once, and each report
    /// was a transaction of its own competing with the same hosts' fetches. A report is answered once
    /// its batch committed, so nothing an agent was told is stored is lost; a report arriving after a
    /// quiet interval is written at once. <see cref="TimeSpan.Zero"/> writes each report on its own
    /// (the slow twin the tests compare the batches with).
    /// </summary>
    public TimeSpan StatusReportInterval { get; init; } = DefaultStatusReportInterval;

    /// <summary>
    /// A host's poll carrying its status report (<c>DescribeChanges</c> with <c>CarriesStatusReport=true</c>)
    /// is answered when it is woken (or its wait runs out) whether or not the report's batch is written yet
    /// (issue 17, twentieth session): an answer before the write says <c>StatusReported=false</c>, and the
    /// agent carries its latest report again; the store keeps the newer of two reports of a host whichever
    /// is written last. True waits for the write, as the nineteenth session did (a change within a report
    /// interval of the host's last apply then reached its agent up to that interval later): the twin the
    /// tests and the fleet bench (<c>--report-waits</c>) compare it with.
    /// </summary>
    public bool CarriedReportWaitsForItsWrite { get; init; }

    /// <summary>The server's <see cref="StatusReportInterval"/> unless configured.</summary>
    public static readonly TimeSpan DefaultStatusReportInterval = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Rule hit counts: added up per rule, host and <see cref="Bucket"/>; buckets older than
/// <see cref="Retention"/> are deleted whenever the account's agents report, so the storage per rule
/// and host is bounded by Retention / Bucket rows.
/// </summary>
public sealed record RuleUsageOptions
{
    public TimeSpan Bucket { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>A host silent for longer than this starts counting anew: the audit cannot say a rule went unused while nobody counted.</summary>
    public TimeSpan MaxReportGap { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The start of the bucket <paramref name="t"/> falls in (buckets are aligned on the Unix epoch).</summary>
    public DateTimeOffset BucketOf(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % Bucket.Ticks, TimeSpan.Zero);
}

/// <summary>
/// Observed flows: the agents' sampled new connections, per NIC, source, protocol, port and minute.
/// Minutes older than <see cref="Retention"/> are deleted whenever the account's agents report; a
/// report carries at most <see cref="MaxFlowsPerReport"/> rows (the agent caps its own rate too), so
/// the storage per host is bounded by Retention in minutes times that.
/// </summary>
public sealed record ObservedFlowOptions
{
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(14);

    /// <summary>A host silent for longer than this samples anew: nobody can say a source never came while nobody watched.</summary>
    public TimeSpan MaxReportGap { get; init; } = TimeSpan.FromMinutes(15);

    public int MaxFlowsPerReport { get; init; } = 5_000;

    /// <summary>The start of the minute <paramref name="t"/> falls in.</summary>
    public static DateTimeOffset MinuteOf(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
}
