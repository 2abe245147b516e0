using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.TestKit;

/// <summary>
/// Simulated agents (issue 17, item 4): each the real <see cref="EnforcementAgent"/> with its own host
/// name, its own HTTP client (own connection) and its host credential (issue 18; the operator
/// declared the host and bound its NICs on the store), following a real server on
/// 127.0.0.1 with real long polls; its kernel only records what it was told. A change is timed from
/// the write's answer until every affected agent has applied a revision at least the write's, and
/// every request each agent sends is counted (by action) with the bytes it received.
/// </summary>
internal static class Agents
{
    private const string Region = "cn-hangzhou";

    /// <summary>Counts what one agent sent and received.</summary>
    private sealed class Meter : DelegatingHandler
    {
        public long Requests;
        public long Fetches;
        public long Bytes;
        private bool _lastPollChanged = true;

        /// <summary>What the agent's last long poll said (from its control plane, <see cref="TracingControlPlane"/>): the body is not read a second time here.</summary>
        public void PollAnswered(bool changed) => Volatile.Write(ref _lastPollChanged, changed);

        /// <summary>When the last long poll's answer was read (a wake that carries the policy is its fetch's answer).</summary>
        private long _pollAnsweredAt;

        /// <summary>
        /// The last long poll's answer carried the host's policy (eighteenth session): that is the change's
        /// fetch, not a request of its own — counted as a fetch, sent and answered when the poll was answered.
        /// </summary>
        public void PolicyCarried()
        {
            Interlocked.Increment(ref Fetches);
            var at = Volatile.Read(ref _pollAnsweredAt);
            Timeline.Mark(Timeline.Phase.Wake, at);
            Timeline.Mark(Timeline.Phase.FetchSent, at);
            Timeline.Mark(Timeline.Phase.FetchAnswered, at);
        }

        public Meter(HttpMessageHandler inner, Timeline timeline) : base(inner)
        {
            Timeline = timeline;
        }

        public Timeline Timeline { get; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
        {
            // Every request but a long poll sent again because the last one ran out (the feed's idle
            // beat, not a reaction to a change): fetches, reports, and polls after a change.
            var action = request.Headers.TryGetValues("x-acs-action", out var values) ? values.First() : "";
            var fetch = action == "DescribeHostPolicy";
            if (fetch)
            {
                Interlocked.Increment(ref Fetches);
                Timeline.Mark(Timeline.Phase.FetchSent);
            }
            if (action != "DescribeChanges" || Volatile.Read(ref _lastPollChanged))
                Interlocked.Increment(ref Requests);
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancel);
            }
            catch (Exception e)
            {
                Queues.Shared.Count($"failed {action}: {e.GetType().Name}");
                throw;
            }
            if (!response.IsSuccessStatusCode)
                Queues.Shared.Count($"failed {action}: HTTP {(int)response.StatusCode}");
            await response.Content.LoadIntoBufferAsync(cancel);
            var bytes = response.Content.Headers.ContentLength ?? 0;
            Interlocked.Add(ref Bytes, bytes);
            if (fetch)
                Timeline.Mark(Timeline.Phase.FetchAnswered);
            else if (action == "DescribeChanges")
                Volatile.Write(ref _pollAnsweredAt, Stopwatch.GetTimestamp());
            return response;
        }
    }

    /// <summary>
    /// The feed as it was before issue 17: every change of the account wakes the agent (the account
    /// feed, read with the tenant's key; the host feed of issue 18 as first merged woke on every change
    /// of an account with a NIC on the host, the same here, where a host carries one account), and it
    /// fetches its whole policy (with its host credential).
    /// </summary>
    private sealed class AccountWideControlPlane(EcsClient client, EcsControlPlane whole) : IControlPlane
    {
        /// <summary>The newest account revision a wait has seen (the account feed counts its own revisions, not the host's).</summary>
        private long _seen;

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => whole.FetchAsync(hostName, cancel);

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            // A change seen here is in the fetch that follows; one after it is after _seen.
            var json = await client.CallAsync("DescribeChanges",
                new { AfterRevision = _seen.ToString(CultureInfo.InvariantCulture), WaitSeconds = ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture), MaxResults = "1000" }, cancel: cancel);
            _seen = json.GetProperty("NextRevision").GetInt64();
            return json.GetProperty("Changes").GetProperty("Change").GetArrayLength() > 0;
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) => whole.ReportAsync(hostName, appliedRevision, nics, cancel);
    }

    /// <summary>The process's memory after a full collection: what is live (managed) and what the OS gave it.</summary>
    private static string Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return string.Create(CultureInfo.InvariantCulture, $"live managed {GC.GetTotalMemory(true) / 1048576.0:F0} MiB, working set {Environment.WorkingSet / 1048576.0:F0} MiB");
    }

    /// <summary>The nodes' host fetches answered from memory and from the store, and the watchers' looks, summed (issue 17, fourteenth session).</summary>
    private static (long Served, long Read, long Looks, long Loads, long Forwards, long LoadTicks, long ForwardTicks, long Woken, long NonceStatements) FetchCounts(Fleet fleet)
    {
        var stores = fleet.Nodes.Select(n => n.Services.GetRequiredService<Palisade.Storage.IStore>()).ToList();
        var memories = stores.Select(Palisade.Server.Actions.Hosts.HostFetches.Of).ToList();
        // The account views loaded whole and brought forward by the commits (issue 17, fifteenth session).
        var views = stores.Select(Palisade.Server.Actions.Hosts.AccountViews.Of).ToList();
        // Woken host polls answered from the ledger, and the nonce batches' statements (issue 17, fifteenth session).
        var woken = stores.Sum(s => Palisade.Server.Actions.Changes.DescribeChanges.HostRenewals.Of(s.Commits).WokenFromLedger);
        var nonces = fleet.Nodes.Select(n => n.Services.GetRequiredService<Palisade.Server.Protocol.INonceRegistry>())
            .OfType<Palisade.Server.Protocol.StoreNonceRegistry>().Sum(r => r.Batches);
        return (memories.Sum(m => m.Served), memories.Sum(m => m.Read), stores.Sum(s => s.Commits.Looks), views.Sum(v => v.Loads), views.Sum(v => v.Forwards), views.Sum(v => v.Ticks.Loading), views.Sum(v => v.Ticks.Forwarding), woken, nonces);
    }

    /// <summary>The GC's own account after the last collection: heap, fragmentation, committed, and each generation's size.</summary>
    private static string Heap()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = string.Join(", ", info.GenerationInfo.ToArray().Select((g, i) => string.Create(CultureInfo.InvariantCulture, $"{(i < 3 ? $"gen{i}" : i == 3 ? "LOH" : "POH")} {g.SizeAfterBytes / 1048576.0:F0}")));
        return string.Create(CultureInfo.InvariantCulture,
            $"GC heap {info.HeapSizeBytes / 1048576.0:F0} MiB (fragmented {info.FragmentedBytes / 1048576.0:F0}), committed {info.TotalCommittedBytes / 1048576.0:F0} MiB; {generations} MiB");
    }

    /// <summary>A log line's kind: its text up to the first parenthesis or colon.</summary>
    private static string LogKind(string line)
    {
        var end = line.IndexOfAny(['(', ':']);
        return (end < 0 ? line : line[..end]).Trim();
    }

    private sealed record SimAgent(string Host, int Account, EnforcementAgent Agent, Meter Meter, RecordingKernel Kernel);

    /// <summary>One account of the fleet: its hosts, and the groups the changes are made in.</summary>
    private sealed record Tenant(EcsClient Api, string Common, string Db, string Pod0, string VSwitch, IReadOnlyList<string> Hosts, IReadOnlyList<Palisade.Storage.Hosts.HostService.NewCredential> Credentials);

    /// <summary>Where the setup's time went, summed over the accounts set up in parallel (ticks of <see cref="Stopwatch"/>).</summary>
    private static class SetupClock
    {
        public static long Api;
        public static long Hosts;
        public static long Credentials;

        public static T Time<T>(ref long sum, Func<T> act)
        {
            var from = Stopwatch.GetTimestamp();
            try
            {
                return act();
            }
            finally
            {
                Interlocked.Add(ref sum, Stopwatch.GetTimestamp() - from);
            }
        }

        public static async Task<T> TimeAsync<T>(Func<Task<T>> act)
        {
            var from = Stopwatch.GetTimestamp();
            try
            {
                return await act();
            }
            finally
            {
                Interlocked.Add(ref Api, Stopwatch.GetTimestamp() - from);
            }
        }

        public static string Summary() => string.Create(CultureInfo.InvariantCulture,
            $"summed over the accounts: tenants' API calls {Stopwatch.GetElapsedTime(0, Api).TotalSeconds:F0} s, hosts declared and bound {Stopwatch.GetElapsedTime(0, Hosts).TotalSeconds:F0} s, credentials {Stopwatch.GetElapsedTime(0, Credentials).TotalSeconds:F0} s");
    }

    /// <summary>
    /// One account of the fleet: NIC 0 of every host in "common" (whose rule names "db", so every host
    /// of the account depends on db's members), the other NICs of a host in its pod's group (ten hosts
    /// a pod); the operator's declarations and bindings go on the store directly.
    /// </summary>
    private static async Task<Tenant> SetupTenantAsync(Fleet fleet, HttpMessageHandler setupHandler, ClientCredentials key, int a, int hostsPerAccount, int nicsPerHost)
    {
        var api = new EcsClient(new HttpClient(setupHandler, disposeHandler: false) { BaseAddress = fleet.Urls[a % fleet.Urls.Count], Timeout = TimeSpan.FromMinutes(5) }, key);
        var vpc = (await SetupClock.TimeAsync(() => api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "10.0.0.0/8" }, Palisade.Domain.Ecs.ApiVersions.Vpc))).Str("VpcId");
        var vsw = (await SetupClock.TimeAsync(() => api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "10.0.0.0/16" }, Palisade.Domain.Ecs.ApiVersions.Vpc))).Str("VSwitchId");
        async Task<string> Group(string name) => (await SetupClock.TimeAsync(() => api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = name }))).Str("SecurityGroupId");
        async Task<List<string>> Run(string group, int amount) => amount == 0 ? [] :
            [.. (await SetupClock.TimeAsync(() => api.CallAsync("RunInstances", new { RegionId = Region, SecurityGroupId = group, VSwitchId = vsw, ImageId = "img", InstanceType = "ecs.g7.large", Amount = amount }))).Items("InstanceIdSets", "InstanceIdSet").Select(i => i.GetString()!)];
        // NIC 0 of every host is in "common", whose rule names "db" (so every host of the account
        // depends on db's members); the other NICs of a host are in its pod's group (ten hosts a pod).
        var common = await Group("common");
        var db = await Group("db");
        await SetupClock.TimeAsync(() => api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = common, IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = db }));
        await Run(db, 1);
        var pods = new List<string>();
        var hosts = new List<string>();
        for (var p = 0; p < (hostsPerAccount + 9) / 10; p++)
        {
            pods.Add(await Group($"pod{p}"));
            await SetupClock.TimeAsync(() => api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = pods[p], IpProtocol = "tcp", PortRange = "8080/8080", SourceCidrIp = "10.0.0.0/8" }));
            var inPod = Math.Min(10, hostsPerAccount - p * 10);
            var first = await Run(common, inPod);
            var rest = await Run(pods[p], inPod * (nicsPerHost - 1));
            for (var h = 0; h < inPod; h++)
            {
                var host = $"a{a}-h{p * 10 + h}";
                hosts.Add(host);
                List<string> nics = [first[h], .. rest.Skip(h * (nicsPerHost - 1)).Take(nicsPerHost - 1)];
                // The operator binds the host's NICs on the store (issue 18; the hosts were declared
                // before, all in a few writes): one write of the account (BindAll), or one a NIC
                // (--bind-each, as before the tenth session).
                SetupClock.Time(ref SetupClock.Hosts, () =>
                {
                    if (BindEach)
                    {
                        for (var n = 0; n < nics.Count; n++)
                            fleet.Hosts.Bind(nics[n], host, $"vnet{n}");
                    }
                    else
                        fleet.Hosts.BindAll(host, [.. nics.Select((nic, n) => (nic, $"vnet{n}"))]);
                    return 0;
                });
            }
        }
        return new Tenant(api, common, db, pods[0], vsw, hosts, []);
    }

    /// <summary>The host names of account <paramref name="a"/> (as <see cref="SetupTenantAsync"/> binds them).</summary>
    private static IEnumerable<string> HostsOf(int a, int hostsPerAccount) => Enumerable.Range(0, hostsPerAccount).Select(h => $"a{a}-h{h}");

    /// <summary>
    /// The operator's writes of no account, for the whole fleet before the tenants' setup: each such
    /// write waits for every account's write in flight and holds them all back (PostgreSQL's global
    /// lock taken exclusively), so one a host (20,000 at 10,000 hosts) stalled the accounts set up in
    /// parallel; now a thousand hosts a write (<see cref="Palisade.Storage.Hosts.HostService.DeclareAll"/>).
    /// </summary>
    private static void DeclareHosts(Fleet fleet, IReadOnlyList<string> hosts)
    {
        var declaration = Palisade.Domain.Hosts.HostDeclaration.Parse("vnet*", "10.0.0.0/8");
        foreach (var chunk in hosts.Chunk(1000))
            SetupClock.Time(ref SetupClock.Hosts, () => fleet.Hosts.DeclareAll([.. chunk.Select(h => (h, declaration))]));
    }

    /// <summary>Every host's credential, a thousand hosts a write (<see cref="Palisade.Storage.Hosts.HostService.CreateCredentials"/>).</summary>
    private static List<Palisade.Storage.Hosts.HostService.NewCredential> CreateCredentials(Fleet fleet, IReadOnlyList<string> hosts) =>
        [.. hosts.Chunk(1000).SelectMany(chunk => SetupClock.Time(ref SetupClock.Credentials, () => fleet.Hosts.CreateCredentials(chunk)))];

    /// <summary>
    /// The server's cost of the fetches after one change, without simulated agents (issue 17): one
    /// account of <paramref name="hosts"/> hosts × <paramref name="nicsPerHost"/> NICs; each host's
    /// fetch is a raw <c>DescribeHostPolicy</c> with the digests its last answer gave (what an agent
    /// sends), its answer read as JSON and not parsed further, so the process's CPU is the nodes'
    /// plus the HTTP client's. For a rule in "common" (every host's part changes) and a join into
    /// "db" (named by every host): the fetches of every host one after another (each fetch's own
    /// cost, no queueing), then all at once (the fleet's burst: time until the last is answered).
    /// </summary>
    public static async Task FetchCostAsync(Fleet fleet, int hosts, int nicsPerHost, int rounds)
    {
        Console.WriteLine($"--- fetch cost: 1 account of {hosts} hosts x {nicsPerHost} NICs, {fleet.Urls.Count} node(s), {fleet.StoreKind}");
        var setupHandler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };
        var key = fleet.NewKey("cost");
        var setup = Stopwatch.StartNew();
        DeclareHosts(fleet, [.. HostsOf(0, hosts)]);
        var t = await SetupTenantAsync(fleet, setupHandler, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret), 0, hosts, nicsPerHost);
        t = t with { Credentials = CreateCredentials(fleet, t.Hosts) };
        Console.WriteLine($"setup {setup.Elapsed.TotalSeconds:F0} s");
        var clients = t.Hosts.Select((h, i) =>
        {
            var credential = t.Credentials[i];
            return (Host: h, Api: new EcsClient(new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2 }) { BaseAddress = fleet.Urls[i % fleet.Urls.Count], Timeout = TimeSpan.FromSeconds(120) },
                new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret)));
        }).ToList();
        var held = clients.ToDictionary(c => c.Host, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        async Task<long> FetchAsync(int i)
        {
            var (host, api) = clients[i];
            List<KeyValuePair<string, string>> p = [new("RegionId", Region), new("HostName", host), new("PerNic", "true"), new("SharedParts", "true")];
            var n = 0;
            foreach (var (instance, digest) in held[host])
            {
                n++;
                p.Add(new($"KnownNic.{n}.InstanceId", instance));
                p.Add(new($"KnownNic.{n}.Digest", digest));
            }
            var json = await api.CallAsync("DescribeHostPolicy", p);
            foreach (var account in json.Items("Accounts", "Account"))
            {
                foreach (var nic in account.Items("Nics", "Nic"))
                    held[host][nic.Str("InstanceId")] = nic.Str("Digest");
            }
            return json.GetRawText().Length;
        }
        using var timings = new ServerTimings();
        var process = Process.GetCurrentProcess();
        double Cpu()
        {
            process.Refresh();
            return process.TotalProcessorTime.TotalMilliseconds;
        }
        // Every host's first (whole) fetch, and a round of each kind not measured (the JIT's tiers settle).
        for (var i = 0; i < clients.Count; i++)
            await FetchAsync(i);
        var kinds = new (string Name, Func<int, Task> Make)[]
        {
            ($"rule in a group on {hosts} hosts", i => t.Api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = t.Common, IpProtocol = "tcp", PortRange = $"{20000 + i}/{20000 + i}", SourceCidrIp = "192.0.2.0/24" })),
            ($"join into a group named by {hosts} hosts", i => t.Api.CallAsync("RunInstances", new { RegionId = Region, SecurityGroupId = t.Db, VSwitchId = t.VSwitch, ImageId = "img", InstanceType = "ecs.g7.large", Amount = 1 })),
        };
        var change = 0;
        for (var round = -1; round < rounds; round++)
        {
            foreach (var (name, make) in kinds)
            {
                await make(change++);
                var from = Stopwatch.GetTimestamp();
                var cpu = Cpu();
                var wall = new List<double>();
                long bytes = 0;
                for (var i = 0; i < clients.Count; i++)
                {
                    var one = Stopwatch.GetTimestamp();
                    bytes += await FetchAsync(i);
                    wall.Add(Stopwatch.GetElapsedTime(one).TotalMilliseconds);
                }
                var serialCpu = Cpu() - cpu;
                var serialServer = timings.Summary(from, Stopwatch.GetTimestamp(), "DescribeHostPolicy", "store read").ToList();
                await make(change++);
                from = Stopwatch.GetTimestamp();
                cpu = Cpu();
                var burst = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, clients.Count).Select(i => Task.Run(() => FetchAsync(i))));
                var burstMs = burst.Elapsed.TotalMilliseconds;
                var burstCpu = Cpu() - cpu;
                var burstServer = timings.Summary(from, Stopwatch.GetTimestamp(), "DescribeHostPolicy", "store read").ToList();
                timings.Trim(Stopwatch.GetTimestamp());
                if (round < 0)
                    continue;
                wall.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}, round {round + 1}: one after another: fetch p50 {ServerTimings.Percentile(wall, 0.5):F1} ms, p99 {ServerTimings.Percentile(wall, 0.99):F1} ms, process CPU {serialCpu / clients.Count:F2} ms per fetch, {bytes / clients.Count / 1024.0:F1} KiB per answer; server {string.Join("; ", serialServer)}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}, round {round + 1}: all {clients.Count} at once: last answered after {burstMs:F0} ms, process CPU {burstCpu:F0} ms ({burstCpu / clients.Count:F2} ms per fetch); server {string.Join("; ", burstServer)}"));
            }
        }
        setupHandler.Dispose();
    }

    /// <summary>One account of <paramref name="hosts"/> hosts set up as the fleet's (for <see cref="AgentCost"/>): the tenant's client, its groups and switch, host 0 and its credential.</summary>
    public static async Task<(EcsClient Api, string Common, string Db, string VSwitch, string Host, ClientCredentials Credential)> SetupForOneAsync(Fleet fleet, int hosts, int nicsPerHost)
    {
        var setupHandler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };
        var key = fleet.NewKey("cost");
        var setup = Stopwatch.StartNew();
        DeclareHosts(fleet, [.. HostsOf(0, hosts)]);
        var t = await SetupTenantAsync(fleet, setupHandler, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret), 0, hosts, nicsPerHost);
        var credential = CreateCredentials(fleet, [t.Hosts[0]])[0];
        Console.WriteLine($"setup {setup.Elapsed.TotalSeconds:F0} s");
        return (t.Api, t.Common, t.Db, t.VSwitch, t.Hosts[0], new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
    }

    /// <summary>Each NIC bound in its own write (as before the tenth session), not a host's NICs in one.</summary>
    public static bool BindEach { get; set; }

    /// <summary>Each simulated agent keeps its own copies (as before the tenth session), not one <see cref="SharedContent"/> for the process.</summary>
    public static bool NoSharing { get; set; }

    /// <summary>The agents ask for each changed part's lists whole (<c>--whole-lists</c>: as before the thirteenth session), not as a difference from a part they hold.</summary>
    public static bool WholeLists { get; set; }

    /// <summary>The agents write and read their whole state text after every fetch (<c>--whole-state</c>: as before the seventeenth session), not each resource once while they hold it.</summary>
    public static bool WholeState { get; set; }

    /// <summary>The agents' polls do not ask for the policy with the wake (<c>--fetch-after-wake</c>: as before the eighteenth session); each wake is followed by a fetch.</summary>
    public static bool FetchAfterWake { get; set; }

    /// <summary>The agents send each status report as its own <c>ReportAgentStatus</c> (<c>--report-apart</c>: as before the nineteenth session), not with their next poll.</summary>
    public static bool ReportApart { get; set; }

    /// <summary>
    /// After the measured changes, a burst of this many rule changes in the 10-host pod group (<c>--burst N</c>,
    /// issue 17, twentieth session: a Terraform apply), each made once the last one's API answer came
    /// (<see cref="BurstGapsMs"/> apart, 0: back to back); each change's apply latency on each affected agent.
    /// </summary>
    public static int Burst { get; set; }

    /// <summary>The pause between a burst's changes (<c>--burst-gap MS[,MS…]</c>: one burst per pause).</summary>
    public static int[] BurstGapsMs { get; set; } = [0];

    /// <summary>Compact the large-object heap once after the agents' start (<c>--compact-loh</c>).</summary>
    public static bool CompactLargeObjects { get; set; }

    /// <summary>Seconds to wait once every agent is enforcing (for <c>dotnet-gcdump collect -p PID</c>).</summary>
    public static int Hold { get; set; }

    /// <summary>
    /// The UTC time of day the idle window and the changes begin (<c>--changes-at HH:MM:SS</c>), once every
    /// agent enforces: a fleet whose start takes minutes (1,000 hosts in one account) is started before a
    /// quiet window and measured in it.
    /// </summary>
    public static TimeSpan? ChangesAt { get; set; }

    /// <summary>Agents started at a time, each wave enforcing before the next starts (<c>--wave N</c>; 0: all at once).</summary>
    public static int Wave { get; set; }

    /// <summary>
    /// Added to the ports of the changes' rules: a run on a seeded database that an earlier run used
    /// must not authorize a rule that is already there (an unchanged group wakes nobody).
    /// </summary>
    private static readonly int RunSalt = (int)(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 10 % 3000) * 10;

    /// <summary>Seconds of the idle window (--idle-seconds, 10 by default).</summary>
    public static int IdleSeconds { get; set; } = 10;

    /// <summary>The agents' long poll (--poll-wait, 60 s by default); their HTTP client waits 30 s longer.</summary>
    public static int PollWaitSeconds { get; set; } = 60;

    /// <summary>The agents in a process of their own (<c>--agents-process</c>), the nodes in this one.</summary>
    public static bool AgentsProcess { get; set; }

    /// <summary>Seed the fleet, save what the agents need in this file, and stop (<c>--seed-only FILE</c>).</summary>
    public static string? SeedOnly { get; set; }

    /// <summary>The agents' process's GC heap hard limit in MiB (<c>--agents-heap</c>), or none.</summary>
    public static int? AgentsHeapLimit { get; set; }

    /// <summary>
    /// What the JIT compiled in this process since a mark (twenty-second session): a measured change that
    /// compiles hundreds of methods (tier-ups of the path it runs a thousand times, first runs of a path
    /// the warm-up did not take) is not yet the steady state of a fleet that has run for a while.
    /// </summary>
    internal static class Jit
    {
        public static (long Methods, TimeSpan Time) Now() =>
            (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());

        public static string Since((long Methods, TimeSpan Time) mark) => string.Create(CultureInfo.InvariantCulture,
            $"JIT {System.Runtime.JitInfo.GetCompiledMethodCount() - mark.Methods} methods compiled in {(System.Runtime.JitInfo.GetCompilationTime() - mark.Time).TotalMilliseconds:F0} ms");
    }

    /// <summary>
    /// The agents' process's gen0 budget in MiB (<c>--agents-gen0</c>, <c>DOTNET_GCgen0size</c>), or the
    /// runtime's. The simulated agents share one heap, so each gen0 collection scans what a thousand
    /// agents hold and pauses every agent at once (14–18 a 100-host change, 0.2–0.4 s, issue 17); a real
    /// agent is alone in its process. A larger budget makes fewer of those pauses.
    /// </summary>
    public static int? AgentsGen0 { get; set; }

    /// <summary>
    /// The agents' process started under <c>nice -n N</c> (<c>--agents-nice N</c>), or not (issue 17,
    /// sixteenth session): here the simulated agents share the nodes' two cores, where a fleet's agents
    /// each have a host of their own; niced, the nodes are served first whenever both want a core, an
    /// approximation of that. A documented option: the un-niced run stays the figure of record.
    /// </summary>
    public static int? AgentsNice { get; set; }

    /// <summary>Environment variables (NAME=VALUE) of the agents' process alone (<c>--agents-env</c>, repeatable).</summary>
    public static IReadOnlyList<string> AgentsEnvironment { get; set; } = [];

    public static async Task RunAsync(Fleet fleet, int agentCount, int nicsPerHost, int hostsPerAccount, bool accountWide, int changes, int warmups = 0)
    {
        var accounts = Math.Max(1, agentCount / hostsPerAccount);
        var mode = accountWide ? "account-wide feed, whole fetch (before issue 17)" : "host feed, incremental fetch";
        Console.WriteLine($"--- {agentCount} agents x {nicsPerHost} NICs, {accounts} accounts of {hostsPerAccount} hosts, {fleet.Urls.Count} node(s), {fleet.StoreKind}; {mode}");
        var setup = Stopwatch.StartNew();
        // Short-lived idle connections: a change comes after a minute of waiting, past the server's keep-alive.
        var setupHandler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };

        var keys = Enumerable.Range(0, accounts).Select(a => fleet.NewKey($"fleet{a}")).Select(k => new ClientCredentials(k.AccessKeyId, k.AccessKeySecret)).ToList();
        // The accounts are set up in parallel (their writes do not wait for each other), each pod's
        // instances in two calls; the operator's declarations and bindings go on the store directly.
        DeclareHosts(fleet, [.. Enumerable.Range(0, accounts).SelectMany(a => HostsOf(a, hostsPerAccount))]);
        // At most 16 accounts at once: each holds a thread in its synchronous store writes (the
        // bindings), and 100 of them starved the nodes' request path of threads.
        using var setupSlots = new SemaphoreSlim(16);
        var tenants = await Task.WhenAll(Enumerable.Range(0, accounts).Select(a => Task.Run(async () =>
        {
            await setupSlots.WaitAsync();
            try
            {
                return await SetupTenantAsync(fleet, setupHandler, keys[a], a, hostsPerAccount, nicsPerHost);
            }
            finally
            {
                setupSlots.Release();
            }
        })));
        var credentials = CreateCredentials(fleet, [.. tenants.SelectMany(t => t.Hosts)]);
        tenants = [.. tenants.Select((t, a) => t with { Credentials = credentials.Skip(a * hostsPerAccount).Take(t.Hosts.Count).ToList() })];
        Console.WriteLine($"setup {setup.Elapsed.TotalSeconds:F0} s ({SetupClock.Summary()}; hosts' NICs bound {(BindEach ? "one write each" : "one write a host")}); {Memory()}");
        // The in-process agents' run makes its changes with the tenants' clients, on this handler: disposed after it.
        using var disposeAfter = setupHandler;
        if (SeedOnly is { } seedFile)
        {
            // Seeded, not run (--seed-only FILE): the database stays; --seeded FILE runs the agents on it later.
            Save(seedFile, tenants, keys);
            File.WriteAllText(seedFile + ".database", fleet.Database ?? throw new NotSupportedException("--seed-only needs --postgres"));
            Console.WriteLine($"seeded: {seedFile} (database {fleet.Database})");
            return;
        }
        if (AgentsProcess)
        {
            var file = Path.GetTempFileName();
            Save(file, tenants, keys);
            await AgentsProcessView.RunAsync(fleet, file, nicsPerHost, hostsPerAccount, accountWide, changes, warmups);
            File.Delete(file);
        }
        else
            await RunAgentsAsync(new InProcessView(fleet), tenants, keys, nicsPerHost, hostsPerAccount, accountWide, changes, warmups);
    }

    /// <summary>The fleet's tenants, keys and hosts' credentials in a file (JSON), and the database they are in.</summary>
    private static void Save(string file, Tenant[] tenants, List<ClientCredentials> keys) =>
        File.WriteAllText(file, System.Text.Json.JsonSerializer.Serialize(tenants.Select((t, a) => new SavedTenant(keys[a].AccessKeyId, keys[a].AccessKeySecret, t.Common, t.Db, t.Pod0, t.VSwitch,
            [.. t.Hosts], [.. t.Credentials.Select(c => c.AccessKeyId)], [.. t.Credentials.Select(c => c.AccessKeySecret)])).ToList()));

    /// <summary>
    /// The agents on a fleet seeded before (<c>--seeded FILE</c>, after <c>--seed-only FILE</c>): the
    /// nodes on that database, no setup; the agents in their own process.
    /// </summary>
    public static async Task RunSeededAsync(Fleet fleet, string file, int nicsPerHost, int hostsPerAccount, int changes, int warmups)
    {
        var saved = System.Text.Json.JsonSerializer.Deserialize<List<SavedTenant>>(File.ReadAllText(file))!;
        Console.WriteLine($"--- {saved.Sum(t => t.Hosts.Count)} agents x {nicsPerHost} NICs, {saved.Count} accounts of {hostsPerAccount} hosts, {fleet.Urls.Count} node(s), {fleet.StoreKind}; seeded before ({file}); host feed, incremental fetch");
        await TakeBackLeftoversAsync(fleet, saved);
        await AgentsProcessView.RunAsync(fleet, file, nicsPerHost, hostsPerAccount, accountWide: false, changes, warmups);
    }

    /// <summary>
    /// The seeded fleet brought back to its seeded shape before the agents start (not measured): the
    /// rules earlier runs authorized (source 192.0.2.0/24, in "common" and the pods' groups) revoked, and
    /// "db" back to its one seeded instance. A run takes back what it adds at its end, but runs before the
    /// eighteenth session did not, and a run stopped midway cannot: by then "common" held ~110 rules and
    /// a rule change's answer was 61 KiB a host where the seed's was 5.4 KiB, so figures of different
    /// sessions compared different fleets.
    /// </summary>
    private static async Task TakeBackLeftoversAsync(Fleet fleet, List<SavedTenant> saved)
    {
        using var handler = new SocketsHttpHandler();
        int rules = 0, instances = 0;
        for (var a = 0; a < saved.Count; a++)
        {
            var t = saved[a];
            var api = new EcsClient(new HttpClient(handler, disposeHandler: false) { BaseAddress = fleet.Urls[a % fleet.Urls.Count], Timeout = TimeSpan.FromMinutes(5) }, new ClientCredentials(t.KeyId, t.KeySecret));
            foreach (var group in new[] { t.Common, t.Pod0 })
            {
                var left = (await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = group }))
                    .Items("Permissions", "Permission").Where(r => r.Str("SourceCidrIp") == "192.0.2.0/24").Select(r => r.Str("SecurityGroupRuleId")).ToList();
                foreach (var chunk in left.Chunk(100))
                    await api.CallAsync("RevokeSecurityGroup", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = group, SecurityGroupRuleId = chunk }));
                rules += left.Count;
            }
            // Every instance in db but the first one made (the seed's); pages of 100, oldest first.
            var members = new List<(string Id, string Created)>();
            for (var page = 1; ; page++)
            {
                var answer = await api.CallAsync("DescribeInstances", new { RegionId = Region, SecurityGroupId = t.Db, PageSize = 100, PageNumber = page });
                var items = answer.Items("Instances", "Instance").Select(i => (i.Str("InstanceId"), i.Str("CreationTime"))).ToList();
                members.AddRange(items);
                if (items.Count < 100)
                    break;
            }
            foreach (var (id, _) in members.OrderBy(m => m.Created, StringComparer.Ordinal).ThenBy(m => m.Id, StringComparer.Ordinal).Skip(1))
            {
                await api.CallAsync("DeleteInstance", new { InstanceId = id, Force = "true" });
                instances++;
            }
        }
        Console.WriteLine($"  the seeded fleet as seeded: {rules} leftover rule(s) revoked, {instances} leftover instance(s) deleted");
    }

    /// <summary>The agents' side of a run, as the parent's setup left it (<c>--agents-child</c>): the tenants from the file.</summary>
    public static async Task RunChildAsync(string file, IReadOnlyList<Uri> urls, string database, int nicsPerHost, int hostsPerAccount, int changes, int warmups)
    {
        var saved = System.Text.Json.JsonSerializer.Deserialize<List<SavedTenant>>(File.ReadAllText(file))!;
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };
        var keys = saved.Select(t => new ClientCredentials(t.KeyId, t.KeySecret)).ToList();
        var tenants = saved.Select((t, a) => new Tenant(
            new EcsClient(new HttpClient(handler, disposeHandler: false) { BaseAddress = urls[a % urls.Count], Timeout = TimeSpan.FromMinutes(5) }, keys[a]),
            t.Common, t.Db, t.Pod0, t.VSwitch, t.Hosts, [.. t.Hosts.Select((h, i) => new Palisade.Storage.Hosts.HostService.NewCredential(h, t.CredentialIds[i], t.CredentialSecrets[i]))])).ToArray();
        await using var view = new ChildView(urls, database);
        await RunAgentsAsync(view, tenants, keys, nicsPerHost, hostsPerAccount, accountWide: false, changes, warmups);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"agents' process: peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB"));
    }

    /// <summary>A tenant as the parent hands it to the agents' process.</summary>
    private sealed record SavedTenant(string KeyId, string KeySecret, string Common, string Db, string Pod0, string VSwitch, List<string> Hosts, List<string> CredentialIds, List<string> CredentialSecrets);

    /// <summary>What the agents' side needs of the nodes: where they are, the store's revision, when every poll is parked, and the nodes' own figures over a window.</summary>
    private interface IFleetView
    {
        IReadOnlyList<Uri> Urls { get; }

        long CurrentRevision();

        Task WaitParkedAsync(int polls);

        /// <summary>The start of a window whose nodes' figures <see cref="Window"/> prints.</summary>
        void Mark();

        /// <summary>The nodes' CPU (and, from another process, their timings) since <see cref="Mark"/>.</summary>
        Task Window(string label);

        /// <summary>
        /// When the nodes answered each host fetch since <see cref="Mark"/>, in ms after <paramref name="answered"/>
        /// (the change's API answer): the server-only figure; null when the nodes are in this process (their timings are read here).
        /// </summary>
        Task<List<double>?> ServedAsync(long answered);
    }

    private sealed class InProcessView(Fleet fleet) : IFleetView
    {
        public IReadOnlyList<Uri> Urls => fleet.Urls;

        public long CurrentRevision() => fleet.CurrentRevision();

        public async Task WaitParkedAsync(int polls)
        {
            var start = Stopwatch.StartNew();
            while (fleet.Parked() < polls && start.Elapsed < TimeSpan.FromMinutes(10))
                await Task.Delay(200);
        }

        public void Mark()
        {
        }

        public Task Window(string label) => Task.CompletedTask;

        public Task<List<double>?> ServedAsync(long answered) => Task.FromResult<List<double>?>(null);
    }

    /// <summary>
    /// The agents in a process of their own (<c>--agents-process</c>): at 10,000 agents both ends of
    /// every connection do not fit one process's 20,000 descriptors, and each side's CPU and memory are
    /// then its own. The parent (the nodes, after the setup) starts this same program with
    /// <c>--agents-child</c>, forwards what it prints, and answers its control lines (<c>@@</c>).
    /// </summary>
    private static class AgentsProcessView
    {
        public static async Task RunAsync(Fleet fleet, string file, int nicsPerHost, int hostsPerAccount, bool accountWide, int changes, int warmups)
        {
            if (accountWide)
                throw new NotSupportedException("--baseline with --agents-process");
            var self = Environment.ProcessPath!;
            // Under nice (--agents-nice): nice execs the program, so the child's PID is the agents' process's, and every thread it makes inherits the niceness.
            var start = new ProcessStartInfo(AgentsNice is null ? self : "nice") { RedirectStandardOutput = true, RedirectStandardInput = true };
            if (AgentsNice is { } niceness)
            {
                start.ArgumentList.Add("-n");
                start.ArgumentList.Add(niceness.ToString(CultureInfo.InvariantCulture));
                start.ArgumentList.Add(self);
            }
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
                start.ArgumentList.Add(typeof(Fleet).Assembly.Location);
            foreach (var a in new[] { "--agents-child", file, "--urls", string.Join(',', fleet.Urls), "--database", fleet.Database ?? "",
                "--nics", $"{nicsPerHost}", "--hosts-per-account", $"{hostsPerAccount}", "--changes", $"{changes}", "--warmup", $"{warmups}", "--wave", $"{Wave}", "--hold", $"{Hold}", "--idle-seconds", $"{IdleSeconds}", "--poll-wait", $"{PollWaitSeconds}" })
                start.ArgumentList.Add(a);
            if (ChangesAt is { } at)
            {
                start.ArgumentList.Add("--changes-at");
                start.ArgumentList.Add(at.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
            }
            if (NoSharing)
                start.ArgumentList.Add("--no-share");
            if (WholeLists)
                start.ArgumentList.Add("--whole-lists");
            if (WholeState)
                start.ArgumentList.Add("--whole-state");
            if (FetchAfterWake)
                start.ArgumentList.Add("--fetch-after-wake");
            if (ReportApart)
                start.ArgumentList.Add("--report-apart");
            foreach (var a in new[] { "--burst", $"{Burst}", "--burst-gap", string.Join(',', BurstGapsMs) })
                start.ArgumentList.Add(a);
            if (CompactLargeObjects)
                start.ArgumentList.Add("--compact-loh");
            // The agents' heap (--agents-heap): a GC setting of that process alone (DOTNET_GCConserveMemory and the like pass through as they are).
            if (AgentsHeapLimit is { } limit)
                start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)limit << 20).ToString("X", CultureInfo.InvariantCulture);
            if (AgentsGen0 is { } gen0)
                start.Environment["DOTNET_GCgen0size"] = "0x" + ((long)gen0 << 20).ToString("X", CultureInfo.InvariantCulture);
            foreach (var setting in AgentsEnvironment)
                start.Environment[setting[..setting.IndexOf('=')]] = setting[(setting.IndexOf('=') + 1)..];
            using var child = Process.Start(start)!;
            Console.WriteLine($"agents' process {child.Id} started{(AgentsNice is { } n ? $" (nice -n {n})" : "")}");
            using var timings = new ServerTimings();
            var self2 = Process.GetCurrentProcess();
            var markCpu = TimeSpan.Zero;
            var markAt = Stopwatch.GetTimestamp();
            // The nodes' collections in each window (issue 17, thirteenth session: is the idle cost the heap's?).
            var markGc = (Gen0: 0, Gen1: 0, Gen2: 0, Paused: TimeSpan.Zero);
            // Host fetches answered from the nodes' memory and from the store (issue 17, fourteenth session).
            var markFetches = FetchCounts(fleet);
            var markStates = Palisade.Server.Actions.Hosts.AccountViews.View.States;
            var markPartsKept = Palisade.Server.Actions.Hosts.AccountViews.View.PartsKept;
            // The nodes' allocations in each window (twentieth session: each collection is a gen1 one).
            var markAllocated = GC.GetTotalAllocatedBytes();
            var markJit = Jit.Now();
            using var allocationTypes = AllocationTypes.StartIfAsked();
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("@@", StringComparison.Ordinal))
                {
                    Console.WriteLine(line);
                    continue;
                }
                var (verb, rest) = (line[2..].Split(' ', 2)[0], line.Contains(' ') ? line[(line.IndexOf(' ') + 1)..] : "");
                var reply = "ok";
                switch (verb)
                {
                    case "served":
                        // Each host fetch the nodes answered since the mark: its end, from the change's API answer (a Stopwatch
                        // timestamp of the agents' process: both read the same monotonic clock), in ms.
                        var answeredAt = long.Parse(rest, CultureInfo.InvariantCulture);
                        reply += " " + string.Join(',', timings.Served(markAt, Stopwatch.GetTimestamp(), PollWaitSeconds, !FetchAfterWake)
                            .Select(at => (Stopwatch.GetElapsedTime(answeredAt, at).TotalMilliseconds * (at >= answeredAt ? 1 : -1)).ToString("F1", CultureInfo.InvariantCulture)));
                        break;
                    case "parked":
                        await new InProcessView(fleet).WaitParkedAsync(int.Parse(rest, CultureInfo.InvariantCulture));
                        Console.WriteLine($"  [nodes] {fleet.Parked()} polls parked; nodes' process: {Memory()}; {Heap()}");
                        break;
                    case "mark":
                        self2.Refresh();
                        markCpu = self2.TotalProcessorTime;
                        markAt = Stopwatch.GetTimestamp();
                        markGc = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
                        timings.Trim(markAt);
                        Queues.Shared.TakeWindow();
                        markFetches = FetchCounts(fleet);
                        markStates = Palisade.Server.Actions.Hosts.AccountViews.View.States;
                        markPartsKept = Palisade.Server.Actions.Hosts.AccountViews.View.PartsKept;
                        markAllocated = GC.GetTotalAllocatedBytes();
                        markJit = Jit.Now();
                        allocationTypes?.Take();
                        // What a change leaves alive on the nodes (twenty-fourth session, PALISADE_BENCH_NODES_SURVIVORS=1):
                        // generations 0 and 1 emptied before the change, so the collection at its window promotes exactly
                        // what the change made and still references (run with a gen0 budget no change fills, or a
                        // collection in between has promoted part of it already: the window line says).
                        if (NodesSurvivors)
                            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
                        break;
                    case "window":
                        self2.Refresh();
                        var now = Stopwatch.GetTimestamp();
                        var cpu = (self2.TotalProcessorTime - markCpu).TotalSeconds;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  [nodes] {rest}: nodes' process CPU {cpu:F2} s over {Stopwatch.GetElapsedTime(markAt, now).TotalSeconds:F1} s ({cpu / Stopwatch.GetElapsedTime(markAt, now).TotalSeconds * 100:F1} % of one core); working set {Environment.WorkingSet / 1048576.0:F0} MiB"));
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  [nodes]   collections (gen0/gen1/gen2) {GC.CollectionCount(0) - markGc.Gen0}/{GC.CollectionCount(1) - markGc.Gen1}/{GC.CollectionCount(2) - markGc.Gen2}, paused {(GC.GetTotalPauseDuration() - markGc.Paused).TotalMilliseconds:F0} ms, allocated {(GC.GetTotalAllocatedBytes() - markAllocated) / 1048576.0:F0} MiB; {Jit.Since(markJit)}; {Heap()}"));
                        if (allocationTypes is not null)
                            Console.WriteLine("  [nodes]   allocated by type (ticks) " + allocationTypes.Take());
                        if (NodesSurvivors)
                            await SurvivorsAsync(rest, GC.CollectionCount(0) - markGc.Gen0 - 1, GC.GetTotalAllocatedBytes() - markAllocated);
                        Console.WriteLine("  [nodes]   server " + string.Join("; ", timings.Summary(markAt, now, "DescribeHostPolicy", "ReportAgentStatus", "DescribeChanges", "store read", "store write", "store open", "gate read", "gate write")));
                        Console.WriteLine("  [nodes]   queues " + Queues.Shared.TakeWindow());
                        var fetches = FetchCounts(fleet);
                        Console.WriteLine($"  [nodes]   host fetches from memory {fetches.Served - markFetches.Served}, from the store {fetches.Read - markFetches.Read}; the watchers' looks {fetches.Looks - markFetches.Looks} (each one store read, shared by the fetches waiting for it); account views loaded whole {fetches.Loads - markFetches.Loads}, brought forward {fetches.Forwards - markFetches.Forwards} ({Stopwatch.GetElapsedTime(0, fetches.LoadTicks - markFetches.LoadTicks).TotalMilliseconds:F0} / {Stopwatch.GetElapsedTime(0, fetches.ForwardTicks - markFetches.ForwardTicks).TotalMilliseconds:F0} ms in all); woken host polls answered from the ledger {fetches.Woken - markFetches.Woken}; nonce statements {fetches.NonceStatements - markFetches.NonceStatements}; answers' states rendered {Palisade.Server.Actions.Hosts.AccountViews.View.States.Rendered - markStates.Rendered}, shared {Palisade.Server.Actions.Hosts.AccountViews.View.States.Shared - markStates.Shared}; parts kept from the previous view {Palisade.Server.Actions.Hosts.AccountViews.View.PartsKept - markPartsKept}");
                        break;
                }
                await child.StandardInput.WriteLineAsync(reply);
            }
            await child.WaitForExitAsync();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"agents' process exited {child.ExitCode}; nodes' process: peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB; {Memory()}"));
        }
    }

    /// <summary>Measure what each window leaves alive on the nodes (<c>PALISADE_BENCH_NODES_SURVIVORS=1</c>); with <c>PALISADE_BENCH_NODES_DUMP_WAIT=N</c>, wait N s for a heap dump after the first join's.</summary>
    private static readonly bool NodesSurvivors = Environment.GetEnvironmentVariable("PALISADE_BENCH_NODES_SURVIVORS") == "1";

    private static int _dumpsLeft = 1;

    /// <summary>
    /// The window's survivors on the nodes: a forced blocking gen0 collection promotes into generation 1 what the
    /// change made and still references (generation 1 was emptied at the mark), read as its promoted bytes; the
    /// heap dump taken while it waits (<c>dumpheap -stat -gen gen1</c>) ranks them by type. A forced gen1 collection
    /// then moves them on, as the next window's mark would.
    /// </summary>
    private static async Task SurvivorsAsync(string window, int collectionsBetween, long allocated)
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var promoted = GC.GetGCMemoryInfo(GCKind.Ephemeral).PromotedBytes;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  [nodes]   survivors: {promoted / 1024.0:F0} KiB promoted by a forced gen0 collection after {allocated / 1048576.0:F1} MiB allocated ({collectionsBetween} collections between besides the mark's own: {(collectionsBetween == 0 ? "all of the window's survivors" : "part of them promoted before")}); per 1,000 woken polls {promoted / 1000 / 1024.0:F1} KiB"));
        if (window.StartsWith("join", StringComparison.Ordinal) && int.TryParse(Environment.GetEnvironmentVariable("PALISADE_BENCH_NODES_DUMP_WAIT"), out var wait) && Interlocked.Exchange(ref _dumpsLeft, 0) == 1)
        {
            Console.WriteLine($"  [nodes]   dump now: dotnet-dump collect -p {Environment.ProcessId} --type Heap (waiting {wait} s)");
            await Task.Delay(TimeSpan.FromSeconds(wait));
        }
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
    }

    /// <summary>The agents' process's view of the nodes: the parent answers each control line with "ok" once done.</summary>
    private sealed class ChildView(IReadOnlyList<Uri> urls, string database) : IFleetView, IAsyncDisposable
    {
        private readonly Npgsql.NpgsqlDataSource _store = Npgsql.NpgsqlDataSource.Create(new Npgsql.NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 2 }.ConnectionString);

        public IReadOnlyList<Uri> Urls => urls;

        public long CurrentRevision()
        {
            using var command = _store.CreateCommand("SELECT COALESCE(MAX(revision), 0) FROM revisions");
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        private static async Task<string> Ask(string line)
        {
            Console.WriteLine("@@" + line);
            return await Console.In.ReadLineAsync() ?? "";
        }

        public async Task<List<double>?> ServedAsync(long answered)
        {
            var reply = await Ask(string.Create(CultureInfo.InvariantCulture, $"served {answered}"));
            var values = reply.Length > 3 ? reply[3..] : "";
            return [.. values.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
        }

        public Task WaitParkedAsync(int polls) => Ask($"parked {polls}");

        public void Mark() => Ask("mark").GetAwaiter().GetResult();

        public Task Window(string label) => Ask("window " + label);

        public ValueTask DisposeAsync() => _store.DisposeAsync();
    }

    /// <summary>The agents, their start, and the measured changes, against nodes in this process or another.</summary>
    /// <summary>
    /// A burst of <see cref="Burst"/> changes for <paramref name="affected"/> (issue 17, twentieth session): each
    /// made after the last one's API answer and <paramref name="gapMs"/>; for each change and affected agent, the
    /// time from the change's API answer until the agent applied its revision (or a later one). Before the
    /// twentieth session a poll woken within a report interval of its host's last apply waited for that
    /// apply's report to be written, so a burst's changes reached the agents up to that interval late.
    /// </summary>
    private static async Task BurstAsync(IFleetView fleet, List<SimAgent> affected, List<EcsControlPlane> planes, int gapMs, Func<int, Task> make)
    {
        await Task.Delay(TimeSpan.FromSeconds(2));
        var made = new List<(long Revision, long Answered)>();
        var latencies = new List<double>();
        var perChange = new List<double>[Burst];
        for (var i = 0; i < Burst; i++)
            perChange[i] = [];
        var pendingBefore = planes.Sum(p => p.CarriedReports.Pending);
        var storedBefore = planes.Sum(p => p.CarriedReports.Stored);
        var requestsBefore = affected.Sum(x => x.Meter.Requests);
        var next = new int[affected.Count];
        using var done = new CancellationTokenSource();
        // Each agent's next change not yet applied, looked at every millisecond.
        var watcher = Task.Run(async () =>
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(120))
            {
                (long Revision, long Answered)[] known;
                lock (made)
                    known = [.. made];
                var now = Stopwatch.GetTimestamp();
                var all = true;
                for (var k = 0; k < affected.Count; k++)
                {
                    var applied = affected[k].Agent.AppliedRevision;
                    while (next[k] < known.Length && applied >= known[next[k]].Revision)
                    {
                        perChange[next[k]].Add(Stopwatch.GetElapsedTime(known[next[k]].Answered, now).TotalMilliseconds);
                        next[k]++;
                    }
                    all &= next[k] == Burst;
                }
                if (all && done.IsCancellationRequested)
                    return;
                await Task.Delay(1);
            }
        });
        var first = Stopwatch.GetTimestamp();
        for (var i = 0; i < Burst; i++)
        {
            await make(i);
            var answered = Stopwatch.GetTimestamp();
            var revision = fleet.CurrentRevision();
            lock (made)
                made.Add((revision, answered));
            if (gapMs > 0 && i + 1 < Burst)
                await Task.Delay(gapMs);
        }
        var madeIn = Stopwatch.GetElapsedTime(first);
        await done.CancelAsync();
        await watcher;
        var lastApplied = Stopwatch.GetElapsedTime(first);
        foreach (var list in perChange)
            latencies.AddRange(list);
        latencies.Sort();
        double P(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"burst of {Burst} rule changes on {affected.Count} hosts, {gapMs} ms apart after each API answer (made in {madeIn.TotalSeconds:F2} s, the last applied everywhere {lastApplied.TotalSeconds:F2} s after the first was sent): " +
            $"each change's apply after its API answer p50 {P(latencies, 0.5):F0} ms, p99 {P(latencies, 0.99):F0} ms, max {P(latencies, 1):F0} ms ({latencies.Count} of {Burst * affected.Count}); " +
            $"affected agents' requests {affected.Sum(x => x.Meter.Requests) - requestsBefore}; carried reports stored {planes.Sum(p => p.CarriedReports.Stored) - storedBefore}, answered before their write (carried again) {planes.Sum(p => p.CarriedReports.Pending) - pendingBefore}"));
        Console.WriteLine("  per change p50/max ms: " + string.Join(", ", perChange.Select(l => l.Order().ToList()).Select(l => string.Create(CultureInfo.InvariantCulture, $"{P(l, 0.5):F0}/{P(l, 1):F0}"))));
    }

    private static async Task RunAgentsAsync(IFleetView fleet, Tenant[] tenants, List<ClientCredentials> keys, int nicsPerHost, int hostsPerAccount, bool accountWide, int changes, int warmups)
    {
        // The agents: each its own connection pool (one connection), its own host.
        var agents = new List<SimAgent>();
        var shared = NoSharing ? null : new SharedContent();
        // The agents' control planes: how many parts each rebuilt from a difference, and fetched whole again.
        var planes = new List<EcsControlPlane>();
        using var stop = new CancellationTokenSource();
        var runs = new List<Task>();
        for (var a = 0; a < tenants.Length; a++)
        {
            foreach (var (host, credential) in tenants[a].Hosts.Zip(tenants[a].Credentials))
            {
                var timeline = new Timeline();
                var meter = new Meter(new SocketsHttpHandler { MaxConnectionsPerServer = 2 }, timeline);
                var http = new HttpClient(meter) { BaseAddress = fleet.Urls[agents.Count % fleet.Urls.Count], Timeout = TimeSpan.FromSeconds(PollWaitSeconds + 30) };
                var client = new EcsClient(http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
                var plane = new EcsControlPlane(client, Region) { Shared = shared, PartDifferences = !WholeLists, ReadsWhole = WholeState, PolicyWithWake = !FetchAfterWake, ReportWithPoll = !ReportApart };
                if (!accountWide)
                    planes.Add(plane);
                var control = new TracingControlPlane(accountWide
                    ? new AccountWideControlPlane(new EcsClient(http, keys[a]), new EcsControlPlane(client, Region) { Incremental = false })
                    : plane, timeline, meter.PollAnswered, meter.PolicyCarried);
                // Counted, not kept: a thousand hosts' transactions would be most of the heap.
                var kernel = new RecordingKernel { KeepsTransactions = false, Applying = () => timeline.Mark(Timeline.Phase.ApplyStarted), Applied = () => timeline.Mark(Timeline.Phase.ApplyDone) };
                // No rule-usage reports (their minute beat is not a reaction to a change, and this kernel counts nothing).
                var agent = new EnforcementAgent(control, kernel, new AgentOptions(host) { PollWait = TimeSpan.FromSeconds(PollWaitSeconds), ResyncInterval = TimeSpan.FromHours(1), UsageInterval = TimeSpan.Zero }, line => Queues.Shared.Count("agent log: " + LogKind(line)));
                kernel.Shape = () => agent.Applied is { } applied ? ExpectedShape.Of(applied) : null;
                agents.Add(new SimAgent(host, a, agent, meter, kernel));
            }
        }
        // Started in waves (--wave N, 0: all at once): each wave's first fetches (whole answers of
        // ~0.8 MB of text each) done before the next starts, so the large-object heap is not asked
        // for all of them at once (issue 17: RSS ~1.9 MB an agent when 3,000 started together).
        var start = Stopwatch.StartNew();
        var wave = Wave > 0 ? Wave : agents.Count;
        for (var from = 0; from < agents.Count; from += wave)
        {
            var these = agents.Skip(from).Take(wave).ToList();
            foreach (var x in these)
                runs.Add(Task.Run(() => x.Agent.RunAsync(stop.Token)));
            var waveStart = Stopwatch.StartNew();
            while (these.Any(x => x.Agent.AppliedRevision == 0) && waveStart.Elapsed < TimeSpan.FromMinutes(5))
                await Task.Delay(200);
            if (Wave > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  wave {from / wave + 1}: {from + these.Count} agents started, enforcing after {start.Elapsed.TotalSeconds:F0} s; working set {Environment.WorkingSet / 1048576.0:F0} MiB"));
        }
        // Every agent has applied its first policy and parked its long poll.
        while (agents.Any(x => x.Agent.AppliedRevision == 0) && start.Elapsed < TimeSpan.FromMinutes(10))
            await Task.Delay(200);
        await fleet.WaitParkedAsync(agents.Count);
        Console.WriteLine($"{agents.Count(x => x.Agent.AppliedRevision > 0)} agents enforcing, polls parked after {start.Elapsed.TotalSeconds:F0} s; {Memory()}; {Heap()}");
        if (CompactLargeObjects)
        {
            // The agents' start leaves the large-object heap in pieces (their first, whole fetches): compacted once, what does the process keep?
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            Console.WriteLine($"  after compacting the large-object heap once: {Memory()}; {Heap()}");
        }
        if (shared is not null)
            Console.WriteLine($"  shared content: {shared.Entries} texts held, {shared.Texts.Asked} asked ({shared.Texts.Found} found held), states parsed {shared.States.Parsed} ({shared.States.Found} found parsed)");
        if (Hold > 0)
        {
            Console.WriteLine($"  holding {Hold} s for a heap dump: dotnet-gcdump collect -p {Environment.ProcessId}");
            await Task.Delay(TimeSpan.FromSeconds(Hold));
        }
        if (ChangesAt is { } changesAt && changesAt - DateTime.UtcNow.TimeOfDay is { Ticks: > 0 } untilThen)
        {
            Console.WriteLine($"  waiting {untilThen.TotalSeconds:F0} s, until {changesAt} UTC, for the idle window and the changes");
            await Task.Delay(untilThen);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));

        using var timings = new ServerTimings();
        var server = Process.GetCurrentProcess();
        fleet.Mark();
        server.Refresh();
        var cpuBefore = server.TotalProcessorTime;
        var idle = Stopwatch.StartNew();
        // 10 s by default; a renewal-cost measurement wants a whole poll period (--idle-seconds 60), else the
        // window may fall between the fleet's renewals (agents started together renew together).
        await Task.Delay(TimeSpan.FromSeconds(IdleSeconds));
        server.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"idle: process CPU ({(fleet is InProcessView ? "both nodes and every agent" : "the agents' process")}) {(server.TotalProcessorTime - cpuBefore).TotalSeconds / idle.Elapsed.TotalSeconds * 100:F1} % of one core; managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB, working set {Environment.WorkingSet / 1048576.0:F0} MiB"));
        await fleet.Window("idle");
        Console.WriteLine("  queues (setup and idle): " + Queues.Shared.TakeWindow());

        // The changes, each on the first account: one rule in a pod's group (its ten hosts), one rule
        // in "common" (every host of the account, one NIC each), one instance joining "db" (named by
        // common's rule: every host of the account).
        var t = tenants[0];
        // What this run adds to the seeded fleet, taken back at its end (not measured): a seeded fleet is
        // measured run after run, and every run's rules and instances stayed, so each run's changes were
        // bigger than the last's (by the eighteenth session "common" held 104 rules, and a rule change's
        // answer was 61 KiB a host where it had been 5.4 KiB).
        var madeByThisRun = new List<(string Action, object Parameters)>();
        async Task Authorize(string group, int port)
        {
            var rule = new { RegionId = Region, SecurityGroupId = group, IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "192.0.2.0/24" };
            await t.Api.CallAsync("AuthorizeSecurityGroup", rule);
            madeByThisRun.Add(("RevokeSecurityGroup", rule));
        }
        async Task Join()
        {
            var run = await t.Api.CallAsync("RunInstances", new { RegionId = Region, SecurityGroupId = t.Db, VSwitchId = t.VSwitch, ImageId = "img", InstanceType = "ecs.g7.large", Amount = 1 });
            foreach (var id in run.Items("InstanceIdSets", "InstanceIdSet"))
                madeByThisRun.Add(("DeleteInstance", new { InstanceId = id.GetString()!, Force = "true" }));
        }
        var kinds = new (string Name, Func<int, Task> Make, Func<SimAgent, bool> Affected)[]
        {
            ("rule in a group on 10 hosts", i => Authorize(t.Pod0, 10000 + RunSalt + i),
                x => x.Account == 0 && int.Parse(x.Host[(x.Host.IndexOf("-h", StringComparison.Ordinal) + 2)..], CultureInfo.InvariantCulture) < 10),
            ($"rule in a group on {hostsPerAccount} hosts", i => Authorize(t.Common, 20000 + RunSalt + i),
                x => x.Account == 0),
            ($"join into a group named by {hostsPerAccount} hosts", _ => Join(),
                x => x.Account == 0),
        };
        // Warm-up changes, not measured (--warmup, 1 of each kind by default): the first changes after
        // start are applied while the JIT is still compiling and re-compiling the hot paths (in a
        // profile of the first 100-host changes its threads took a fifth of the process's CPU); a
        // server that has been up for a while has done that long ago.
        for (var w = 0; w < warmups; w++)
        {
            foreach (var (_, make, affectedOf) in kinds)
            {
                await make(900 + w);
                var revision = fleet.CurrentRevision();
                var wait = Stopwatch.StartNew();
                while (agents.Where(affectedOf).Any(x => x.Agent.AppliedRevision < revision) && wait.Elapsed < TimeSpan.FromSeconds(60))
                    await Task.Delay(50);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
        if (warmups > 0)
            Console.WriteLine($"{warmups} warm-up change(s) of each kind made, not measured; queues: " + Queues.Shared.TakeWindow());
        foreach (var x in agents)
            x.Meter.Timeline.Trim(Stopwatch.GetTimestamp());
        timings.Trim(Stopwatch.GetTimestamp());
        foreach (var (name, make, affectedOf) in kinds)
        {
            var latencies = new List<double>();
            long affectedRequests = 0, affectedBytes = 0, unaffectedRequests = 0, unaffectedFetches = 0, affectedFetches = 0;
            var affected = agents.Where(affectedOf).ToList();
            var unaffected = agents.Where(x => !affectedOf(x)).ToList();
            // Per phase of each affected agent's path (ms), the server's own timings, the process's CPU.
            var phases = Enum.GetValues<Timeline.Phase>();
            var steps = phases.Select(_ => new List<double>()).ToArray();
            var serverLines = new List<string>();
            var cpuPerChange = new List<double>();
            // Where an affected agent's apply time went (issue 17, thirteenth session): until its fetch was answered
            // (the wake, the fetch's queue and the nodes' work: what a fleet with a machine per agent would also
            // see), and from there until applied (the agent's parse, assembly and rendering, here on the nodes' cores).
            var untilFetchAnswered = new List<double>();
            var fetchAnsweredToApplied = new List<double>();
            var gcPerChange = new List<string>();
            var collectionsPerChange = new List<string>();
            // The server-only figure (issue 17, sixteenth session): from the API answer until a node answered each
            // affected host's fetch (the nodes' own end of the request), whatever the agent then does with it.
            var served = new List<double>();
            var assembliesPerChange = new List<string>();
            for (var i = 0; i < changes; i++)
            {
                var assembliesBefore = shared?.Assemblies;
                var parsedBefore = shared?.States.Parsed;
                var itemsBefore = shared?.Items.Counts;
                var before = agents.Select(x => (x.Meter.Requests, x.Meter.Fetches, x.Meter.Bytes)).ToList();
                server.Refresh();
                var cpuAtChange = server.TotalProcessorTime;
                var (gen0, gen1, gen2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
                var allocated = GC.GetTotalAllocatedBytes();
                var jit = Jit.Now();
                AgentsCollections.Trace?.Take();
                fleet.Mark();
                var sent = Stopwatch.GetTimestamp();
                await make(i);
                var answered = Stopwatch.GetTimestamp();
                // The host's revision an agent reports is the store's global one: the write's is at most the current.
                var revision = fleet.CurrentRevision();
                var pending = affected.ToList();
                var deadline = Stopwatch.StartNew();
                while (pending.Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(60))
                {
                    var now = Stopwatch.GetElapsedTime(answered).TotalMilliseconds;
                    pending.RemoveAll(x =>
                    {
                        if (x.Agent.AppliedRevision < revision)
                            return false;
                        latencies.Add(now);
                        return true;
                    });
                    await Task.Delay(1);
                }
                if (pending.Count > 0)
                    Console.WriteLine($"  {pending.Count} affected agents did not apply revision {revision} within 60 s");
                // A quiet second after the last apply, for any late request of an unaffected agent.
                await Task.Delay(TimeSpan.FromSeconds(1));
                var quiet = Stopwatch.GetTimestamp();
                server.Refresh();
                cpuPerChange.Add((server.TotalProcessorTime - cpuAtChange).TotalSeconds);
                gcPerChange.Add(string.Create(CultureInfo.InvariantCulture, $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2} ({(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F0} ms paused, {(GC.GetTotalAllocatedBytes() - allocated) / 1048576.0:F0} MiB allocated; {Jit.Since(jit)})"));
                if (AgentsCollections.Trace is { } trace)
                    collectionsPerChange.AddRange(trace.Take().Select(line => $"change {i + 1}: {line}"));
                served.AddRange(await fleet.ServedAsync(answered) ?? [.. timings.Served(sent, quiet, PollWaitSeconds, !FetchAfterWake).Select(at => Stopwatch.GetElapsedTime(answered, at).TotalMilliseconds)]);
                if (shared is not null && assembliesBefore is { } ab && parsedBefore is { } pb)
                    assembliesPerChange.Add(string.Create(CultureInfo.InvariantCulture, $"{shared.Assemblies.Asked - ab.Asked} asked, {shared.Assemblies.Assembled - ab.Assembled} assembled, {shared.States.Parsed - pb} parsed; resources read {shared.Items.Counts.Read - itemsBefore!.Value.Read}, found read {shared.Items.Counts.Found - itemsBefore.Value.Found}"));
                await fleet.Window($"{name}, change {i + 1}");
                foreach (var x in affected)
                {
                    // From the write's answer to the wake (negative: the wake came before the writer read its answer), then phase to phase.
                    var path = x.Meter.Timeline.PathAfter(sent);
                    var previous = answered;
                    for (var k = 0; k < phases.Length && path[k] is { } at; k++)
                    {
                        steps[k].Add(Stopwatch.GetElapsedTime(previous, at).TotalMilliseconds * (at >= previous ? 1 : -1));
                        previous = at;
                    }
                    if (path[(int)Timeline.Phase.FetchAnswered] is { } fetchAnswered && path[(int)Timeline.Phase.ApplyDone] is { } applied)
                    {
                        untilFetchAnswered.Add(Stopwatch.GetElapsedTime(answered, fetchAnswered).TotalMilliseconds);
                        fetchAnsweredToApplied.Add(Stopwatch.GetElapsedTime(fetchAnswered, applied).TotalMilliseconds);
                    }
                }
                serverLines.Add($"    change {i + 1}: server " + string.Join("; ", timings.Summary(sent, quiet, "DescribeHostPolicy", "ReportAgentStatus", "DescribeChanges", "store read", "store write", "store open", "gate read", "gate write")));
                serverLines.Add($"    change {i + 1}: queues " + Queues.Shared.TakeWindow());
                foreach (var x in agents)
                    x.Meter.Timeline.Trim(quiet);
                timings.Trim(quiet);
                for (var k = 0; k < agents.Count; k++)
                {
                    var x = agents[k];
                    var (requests, fetches, bytes) = (x.Meter.Requests - before[k].Requests, x.Meter.Fetches - before[k].Fetches, x.Meter.Bytes - before[k].Bytes);
                    if (affectedOf(x))
                    {
                        affectedRequests += requests;
                        affectedFetches += fetches;
                        affectedBytes += bytes;
                    }
                    else
                    {
                        unaffectedRequests += requests;
                        unaffectedFetches += fetches;
                    }
                }
            }
            latencies.Sort();
            double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {affected.Count} affected agents, {changes} changes; apply after the API answer p50 {P(0.5):F0} ms, p99 {P(0.99):F0} ms, max {P(1):F0} ms; " +
                $"per change: affected agents sent {affectedRequests / (double)changes:F0} requests (not counting long polls renewed after running out) ({affectedFetches / (double)changes:F0} fetches) and received {affectedBytes / (double)changes / 1024:F0} KiB; " +
                $"unaffected agents ({unaffected.Count}) sent {unaffectedRequests / (double)changes:F1} requests ({unaffectedFetches / (double)changes:F1} fetches)"));
            // The path of an affected agent, phase by phase (each from the end of the one before; the first from the write's answer).
            string[] labels = ["answer -> wake", "wake -> fetch sent", "fetch sent -> answered (HTTP: queue + server + transfer)", "answered -> policy read (agent: parse, assemble)",
                "policy read -> kernel handed the transaction (agent: render)", "kernel apply (recording)", "applied -> status report answered"];
            for (var k = 0; k < phases.Length; k++)
            {
                var sorted = steps[k].Order().ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {labels[k],-62} n={sorted.Count,4}  p50 {ServerTimings.Percentile(sorted, 0.5),8:F1} ms  p99 {ServerTimings.Percentile(sorted, 0.99),8:F1} ms  max {ServerTimings.Percentile(sorted, 1),8:F1} ms"));
            }
            foreach (var (label, part) in new[] { ("split: API answer -> fetch answered (wake, fetch queue, nodes)", untilFetchAnswered), ("split: fetch answered -> applied (agent: parse, assemble, render)", fetchAnsweredToApplied),
                ("server only: API answer -> a node answered the host's fetch", served) })
            {
                var sorted = part.Order().ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {label,-62} n={sorted.Count,4}  p50 {ServerTimings.Percentile(sorted, 0.5),8:F1} ms  p99 {ServerTimings.Percentile(sorted, 0.99),8:F1} ms  max {ServerTimings.Percentile(sorted, 1),8:F1} ms"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  process CPU per change ({(fleet is InProcessView ? "both nodes and every agent" : "the agents' process alone")}, until a quiet second after the last apply): {string.Join(", ", cpuPerChange.Select(c => c.ToString("F2", CultureInfo.InvariantCulture)))} s"));
            Console.WriteLine($"  collections per change (gen0/gen1/gen2, pause, allocated): {string.Join(", ", gcPerChange)}");
            foreach (var line in collectionsPerChange)
                Console.WriteLine($"    collection of {line}");
            if (assembliesPerChange.Count > 0)
                Console.WriteLine($"  agents' states per change (whole texts shared by content: the hosts of a pod assemble and parse one; resources read once, shared by text): {string.Join("; ", assembliesPerChange)}");
            Console.WriteLine($"  agents' parts rebuilt from a difference so far: {planes.Sum(p => p.Differences.Rebuilt)}; fetched whole again (a difference that did not add up): {planes.Sum(p => p.Differences.FetchedWholeAgain)}{(WholeLists ? " (--whole-lists: none asked for)" : "")}");
            foreach (var line in serverLines)
                Console.WriteLine(line);
        }
        // One burst per gap asked (--burst-gap 0,200: back to back, then 200 ms apart), each with its own ports.
        foreach (var (gap, k) in BurstGapsMs.Select((g, k) => (g, k)).Where(_ => Burst > 0))
            await BurstAsync(fleet, agents.Where(kinds[0].Affected).ToList(), planes, gap, i => Authorize(t.Pod0, 30000 + RunSalt + k * Burst + i));
        var parts = agents.Select(x => x.Agent).Count();
        stop.Cancel();
        try
        {
            await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }
        var undone = 0;
        foreach (var (action, parameters) in madeByThisRun)
        {
            try
            {
                await t.Api.CallAsync(action, parameters);
                undone++;
            }
            catch (Exception e) when (e is EcsApiException or HttpRequestException)
            {
                Console.WriteLine($"  could not take back {action}: {e.Message}");
            }
        }
        Console.WriteLine($"took back what this run added to the seeded fleet: {undone} of {madeByThisRun.Count} (rules revoked, instances deleted)");
    }
}
