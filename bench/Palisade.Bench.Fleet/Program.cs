using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Storage.Accounts;

// Fleet scale (issue 17), not run by CI. Server nodes on Kestrel in this process, clients over real
// HTTP on loopback (each its own key and connection).
//   dotnet run -c Release --project bench/Palisade.Bench.Fleet -- --parked 200,1000,10000 [--postgres "<server>"] [--nodes 2]
//       N long polls (DescribeChanges, WaitSeconds=60) parked on the nodes with nothing changing:
//       the process's CPU over a 10 s window (the parked clients only await their sockets, so this
//       is the server's idle cost plus nothing), and the managed memory per parked poll.
//   … -- --writes --postgres "<server>" [--nodes 2] [--seconds 10]
//       8 accounts writing at once vs 1 account, the same number of writers, writes/s and the ratio.
//   … -- --fetch-cost 100 [--nics 10] [--rounds 3] [--postgres "<server>"] [--nodes N]
//       The server's cost of the fetches after one change, with no simulated agents: each host's
//       DescribeHostPolicy one after another, then all at once (Agents.FetchCostAsync).
//   … -- --agent-cost 1000 [--nics 10] [--changes 6] [--rounds 10]
//   … -- --agent-capture FILE [--hosts 1000] [--nics 10]: host 0's agent's answers (first policy, a join, a rule, a join) to FILE; then
//   … -- --agent-first-change FILE --agent-warm-up on|off [--agent-shared] [--agents N]: a fresh process replays them, after the agent's warm-up or without it
//       (--agents N: N agents sharing content, as the fleet bench's, each a first policy, a warm-up join and rule, then the measured join)
//       (twenty-fifth session): wall, CPU, methods compiled and allocation of the first policy and of each change.
//   … -- --report-writes 1000 [--nics 10] [--rounds 10] --postgres <server>   (the store's share of the status reports of a join, ReportWrites.cs)
//       One shipped agent's work per change, without the server's: host 0's answers to a series of
//       changes captured, then replayed to a fresh agent again and again (AgentCost.cs).
//   … -- --agents 1000,3000 [--baseline] [--nics 10] [--hosts-per-account 100] [--changes 5] [--warmup 1]
//       N simulated agents (bench/Palisade.Bench.Fleet/Agents.cs): time from a write's answer until
//       every affected agent applied it, and the requests of affected and unaffected agents;
//       --baseline repeats it with the account-wide feed and whole fetches (before issue 17).
//       [--agents-process] the agents in a child process (10,000 agents' connections, both ends, do
//       not fit one process's 20,000 descriptors; each side's CPU and memory apart), [--agents-heap MiB]
//       its GC heap hard limit, [--agents-gen0 MiB] its gen0 budget (fewer collections pausing every
//       simulated agent at once), [--agents-nice N] the agents' process started under nice -n N (an
//       approximation of agents on machines of their own: the nodes get the cores first; the un-niced
//       figure stays the one reported first), [--agents-env NAME=VALUE] an environment variable of the agents'
//       process alone (repeatable: its collector's settings), [--wave N] agents started N at a time, each wave enforcing before the next.
//       [--changes-at HH:MM:SS] the idle window and the changes at that UTC time, once every agent enforces.
//       [--seed-only FILE] seed, save the tenants and credentials in FILE (the database's connection
//       string in FILE.database) and stop; then --seeded FILE [--agents-process implied] runs the
//       agents and the changes on that database (a 10,000-host setup apart from the measured run).
//       [--whole-lists] the agents ask for changed parts' ID lists whole (before the thirteenth session), not as differences.
//       [--fetch-after-wake] the agents' polls do not ask for the policy with the wake (before the eighteenth session): each wake is followed by a fetch.
//       [--report-apart] each status report is its own ReportAgentStatus (before the nineteenth session), not carried by the agent's next poll.
//       [--burst N] [--burst-gap MS[,MS…]] after the measured changes, N rule changes in the 10-host group, each MS after the last
//       one's API answer (0: back to back; one burst per MS given), and each change's apply latency on each of the 10 agents (twentieth session);
//       [--report-waits] the nodes answer a poll carrying a status report only once the report is written (before the twentieth session).
//       [--whole-state] the agents write and read their whole state text after every fetch (before the seventeenth session).
//       [--idle-seconds N] the idle window (10 s; 60 covers a whole poll period, every agent's renewal),
//       [--poll-wait N] the agents' long poll (60 s; their HTTP client waits N + 30 s).
// [--runtime-gc] the runtime's default collector; otherwise the bench runs under the systemd unit's
//       DOTNET_GCgen0size=0x4000000 (it starts itself again with it when the variable is unset).
// Needs `ulimit -n` above 2 × the polls (both ends of every connection live in this process).
// The nodes run in this process, so they get the collector of the shipped systemd unit
// (deploy/systemd/palisade-serve.service: DOTNET_GCgen0size=0x4000000, a 64 MiB gen0 budget) only if
// this process has it. The runtime reads that setting from the environment alone (a runtimeconfig
// property "GCgen0size" or "System.GC.Gen0Size" is ignored: 267 gen0 collections for 10 million small
// objects with either, 8 with the variable), so the bench starts itself again with the variable set,
// unless it is set already or --runtime-gc asks for the runtime's default (issue 17, fourteenth session).
// The agents' process (--agents-process, --seeded) inherits it, as before.
if (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null && !args.Contains("--runtime-gc") && Environment.ProcessPath is { } host)
{
    var again = new ProcessStartInfo(host) { UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        again.ArgumentList.Add(typeof(Fleet).Assembly.Location);
    foreach (var arg in args)
        again.ArgumentList.Add(arg);
    again.Environment["DOTNET_GCgen0size"] = "0x4000000";
    using var self = Process.Start(again)!;
    self.WaitForExit();
    return self.ExitCode;
}
var postgresServer = ArgText("--postgres");
// The collector the nodes run under (issue 17, thirteenth session): the shipped systemd unit sets a 64 MiB gen0
// budget (DOTNET_GCgen0size=0x4000000); a bench run says which it had.
Console.WriteLine($"collector: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, concurrent {AppContext.GetData("System.GC.Concurrent") ?? "default"}; " +
    string.Join(", ", new[] { "DOTNET_GCgen0size", "DOTNET_GCConserveMemory", "DOTNET_gcServer", "DOTNET_GCHeapHardLimit" }.Select(v => $"{v}={Environment.GetEnvironmentVariable(v) ?? "unset"}")));
// An agent's first change in a fresh process, with and without the change path's warm-up (twenty-fifth session): no node, no listener.
if (ArgText("--agent-first-change") is { } firstChangeFile)
{
    await AgentFirstChange.RunAsync(firstChangeFile, ArgText("--agent-warm-up") != "off", args.Contains("--agent-shared"), Arg("--agents", 1));
    return 0;
}
// Listening before any node opens its pools (issue 17: the pools' waits at 3,000 agents).
_ = Queues.Shared;
var nodeCount = Arg("--nodes", 1);
// The nodes as before the store gate (issue 17, ninth session): requests wait for the pool inside OpenConnection, a thread each.
Fleet.WithoutStoreGate = args.Contains("--no-gate");
// The setup and the simulated agents as before the tenth session (one write a NIC bound; each agent its own copies).
Agents.BindEach = args.Contains("--bind-each");
Agents.NoSharing = args.Contains("--no-share");
// The agents as before the thirteenth session: each changed part's lists whole, not a difference from a part held.
Agents.WholeLists = args.Contains("--whole-lists");
Agents.WholeState = args.Contains("--whole-state");
// The agents as before the eighteenth session: a wake says only that something changed, and a fetch follows.
Agents.FetchAfterWake = args.Contains("--fetch-after-wake");
// The agents as before the nineteenth session: each status report its own ReportAgentStatus, not carried by the next poll.
Agents.ReportApart = args.Contains("--report-apart");
// A burst of rule changes in the 10-host group after the measured changes (twentieth session), and the nodes as before it:
// a poll carrying its report answered only once the report is written.
Agents.Burst = Arg("--burst", 0);
Agents.BurstGapsMs = ArgText("--burst-gap") is { } gaps ? [.. gaps.Split(',').Select(g => int.Parse(g, CultureInfo.InvariantCulture))] : [0];
Fleet.ReportWaits = args.Contains("--report-waits");
Agents.Hold = Arg("--hold", 0);
Agents.CompactLargeObjects = args.Contains("--compact-loh");
// 10,000 agents (issue 17, eleventh session): started in waves, in a process of their own, with a heap limit there.
Agents.Wave = Arg("--wave", 0);
Agents.IdleSeconds = Arg("--idle-seconds", 10);
Agents.PollWaitSeconds = Arg("--poll-wait", 60);
Agents.AgentsProcess = args.Contains("--agents-process");
Agents.AgentsHeapLimit = ArgText("--agents-heap") is { } heap ? int.Parse(heap, CultureInfo.InvariantCulture) : null;
Agents.AgentsGen0 = ArgText("--agents-gen0") is { } gen0 ? int.Parse(gen0, CultureInfo.InvariantCulture) : null;
Agents.AgentsNice = ArgText("--agents-nice") is { } nice ? int.Parse(nice, CultureInfo.InvariantCulture) : null;
// --agents-env NAME=VALUE (repeatable): a runtime setting of the agents' process alone (its collector, say), as --agents-gen0 is.
Agents.AgentsEnvironment = [.. args.Select((a, i) => (a, i)).Where(x => x.a == "--agents-env" && x.i + 1 < args.Length).Select(x => args[x.i + 1])];
Agents.SeedOnly = ArgText("--seed-only");
Agents.ChangesAt = ArgText("--changes-at") is { } changesAt ? TimeSpan.Parse(changesAt, CultureInfo.InvariantCulture) : null;

if (ArgText("--seeded") is { } seededFile)
{
    // The nodes on a database --seed-only left (its connection string beside the file), the agents in their own process.
    await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount, File.ReadAllText(seededFile + ".database"));
    await Agents.RunSeededAsync(fleet, seededFile, Arg("--nics", 10), Arg("--hosts-per-account", 100), Arg("--changes", 5), Arg("--warmup", 1));
    return 0;
}

if (ArgText("--view-cost") is { } viewSeed)
{
    // What an account's view costs (issue 17, fifteenth session): loaded whole — the store's read (the
    // region's records, every rule, the bindings) and the view's indexes — every instance's part selected
    // and rendered, and the same brought forward by a rule change of one group. Reads only.
    using var store = Palisade.Storage.StoreFactory.Open(File.ReadAllText(viewSeed + ".database"), Path.GetTempPath());
    using var seed = System.Text.Json.JsonDocument.Parse(File.ReadAllText(viewSeed));
    foreach (var tenant in seed.RootElement.EnumerateArray().Take(Arg("--accounts", 1)))
    {
        var firstHost = tenant.GetProperty("Hosts")[0].GetString()!;
        var group = Palisade.Domain.Identifiers.SecurityGroupId.Parse(tenant.GetProperty("Common").GetString()!);
        for (var round = 0; round < Arg("--rounds", 3); round++)
        {
            store.Read(s =>
            {
                var account = s.ListBindingsOnHost(firstHost)[0].AccountId;
                var revision = s.LatestRevision(account);
                var t0 = Stopwatch.GetTimestamp();
                var source = new Palisade.Server.Actions.Insight.StateExport.Source(s, account, "cn-hangzhou");
                source.LoadRules(s);
                var bindings = s.ListHostBindings(account, null);
                var t1 = Stopwatch.GetTimestamp();
                var view = new Palisade.Server.Actions.Hosts.AccountViews.View(source, revision, bindings);
                var t2 = Stopwatch.GetTimestamp();
                foreach (var i in source.Instances)
                    view.PartOf(source, i.Id);
                var t3 = Stopwatch.GetTimestamp();
                var forward = view.Forward(s, revision, new HashSet<Palisade.Domain.Identifiers.SecurityGroupId> { group }, new HashSet<Palisade.Domain.Identifiers.InstanceId>(), new HashSet<Palisade.Domain.Identifiers.NetworkInterfaceId>())!;
                var t4 = Stopwatch.GetTimestamp();
                var next = forward.Source(s);
                foreach (var i in next.Instances)
                    forward.PartOf(next, i.Id);
                var t5 = Stopwatch.GetTimestamp();
                // Seventeenth session: brought forward over one instance of the group (as a join touches it; it read
                // again as it is): the indexes stepped, the instance's ENIs put in order, the other renderings kept.
                var member = next.Instances.First(i => i.SecurityGroupIds.Contains(group)).Id;
                var stepped = Palisade.Server.Actions.Hosts.AccountViews.View.Indexes.Stepped;
                var t6 = Stopwatch.GetTimestamp();
                forward.Forward(s, revision, new HashSet<Palisade.Domain.Identifiers.SecurityGroupId>(), new HashSet<Palisade.Domain.Identifiers.InstanceId> { member }, new HashSet<Palisade.Domain.Identifiers.NetworkInterfaceId>());
                var t7 = Stopwatch.GetTimestamp();
                // --forward-rounds N (nineteenth session): the step over one instance alone, N times, for a profile and a mean.
                if (Arg("--forward-rounds", 0) is > 0 and var steps)
                {
                    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var w0 = Stopwatch.GetTimestamp();
                    for (var k = 0; k < steps; k++)
                        forward.Forward(s, revision, new HashSet<Palisade.Domain.Identifiers.SecurityGroupId>(), new HashSet<Palisade.Domain.Identifiers.InstanceId> { member }, new HashSet<Palisade.Domain.Identifiers.NetworkInterfaceId>());
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  the step over one instance, {steps} times: {Stopwatch.GetElapsedTime(w0).TotalMilliseconds / steps:F2} ms each, process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / steps:F2} ms each"));
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"account {account}: {source.Instances.Count} instances, {source.Groups.Count} groups, {bindings.Count} bindings: whole load: store read {Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds:F0} ms, view's indexes {Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds:F0} ms, every part {Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds:F0} ms; brought forward (rules of {group.Value}): {Stopwatch.GetElapsedTime(t3, t4).TotalMilliseconds:F1} ms, every part {Stopwatch.GetElapsedTime(t4, t5).TotalMilliseconds:F0} ms; " +
                    $"brought forward over one instance ({member.Value}): {Stopwatch.GetElapsedTime(t6, t7).TotalMilliseconds:F1} ms, indexes {(Palisade.Server.Actions.Hosts.AccountViews.View.Indexes.Stepped > stepped ? "stepped" : "built")}"));
                return 0;
            });
        }
    }
    return 0;
}

if (ArgText("--agents-child") is { } tenantFile)
{
    await Agents.RunChildAsync(tenantFile, [.. ArgText("--urls")!.Split(',').Select(u => new Uri(u))], ArgText("--database")!,
        Arg("--nics", 10), Arg("--hosts-per-account", 100), Arg("--changes", 5), Arg("--warmup", 1));
    return 0;
}

if (ArgText("--park-clients") is { } keyFile)
{
    await ParkClientsAsync(keyFile, int.Parse(args[Array.IndexOf(args, "--park-clients") + 2], CultureInfo.InvariantCulture), args[Array.IndexOf(args, "--park-clients") + 3]);
    return 0;
}
if (ArgText("--parked") is { } parkedList)
{
    foreach (var n in parkedList.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
    {
        await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount);
        await ParkedAsync(fleet, n);
    }
    return 0;
}
if (ArgText("--agents") is { } agentList)
{
    // Simulated agents against the nodes; --baseline also runs the feed as it was before issue 17.
    foreach (var n in agentList.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
    {
        foreach (var accountWide in args.Contains("--baseline") ? new[] { false, true } : [false])
        {
            await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount);
            await Agents.RunAsync(fleet, n, Arg("--nics", 10), Arg("--hosts-per-account", 100), accountWide, Arg("--changes", 5), Arg("--warmup", 1));
        }
    }
    return 0;
}
if (ArgText("--fetch-cost") is { } costHosts)
{
    await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount);
    await Agents.FetchCostAsync(fleet, int.Parse(costHosts, CultureInfo.InvariantCulture), Arg("--nics", 10), Arg("--rounds", 3));
    return 0;
}
if (ArgText("--agent-cost") is { } agentCostHosts)
{
    await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount);
    await AgentCost.RunAsync(fleet, int.Parse(agentCostHosts, CultureInfo.InvariantCulture), Arg("--nics", 10), Arg("--changes", 6), Arg("--rounds", 10));
    return 0;
}
if (ArgText("--agent-capture") is { } captureFile)
{
    await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount);
    await AgentFirstChange.CaptureAsync(fleet, captureFile, Arg("--hosts", 1000), Arg("--nics", 10));
    return 0;
}
if (ArgText("--report-writes") is { } reportHosts)
{
    ReportWrites.Run(postgresServer ?? throw new InvalidOperationException("--report-writes needs --postgres <server>"), int.Parse(reportHosts, CultureInfo.InvariantCulture),
        Arg("--nics", 10), Arg("--rounds", 10));
    return 0;
}
if (args.Contains("--writes"))
{
    await using var fleet = await Fleet.StartAsync(postgresServer, nodeCount);
    await WritesAsync(fleet, Arg("--seconds", 10));
    return 0;
}
Console.Error.WriteLine("usage: --parked 200,1000,10000 | --writes | --fetch-cost 100 [--rounds 3] | --agents 1000,3000 [--baseline] [--nics 10] [--hosts-per-account 100] [--changes 5] [--warmup 1]  [--postgres <server>] [--nodes N]");
return 2;

static async Task ParkedAsync(Fleet fleet, int polls)
{
    // One account per 10 polls (agents of a tenant share it). The clients live in a child process:
    // this one's CPU is then the server's alone, and each side's sockets fit its descriptor limit.
    var accounts = Enumerable.Range(0, Math.Max(1, polls / 10)).Select(i => fleet.NewKey($"parked{i}")).ToList();
    var keyFile = Path.GetTempFileName();
    File.WriteAllLines(keyFile, accounts.Select(k => $"{k.AccessKeyId} {k.AccessKeySecret}"));
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var memoryBefore = GC.GetTotalMemory(true);
    var self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardInput = true };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        start.ArgumentList.Add(typeof(Fleet).Assembly.Location);
    foreach (var a in new[] { "--park-clients", keyFile, polls.ToString(CultureInfo.InvariantCulture), string.Join(',', fleet.Urls) })
        start.ArgumentList.Add(a);
    using var clients = Process.Start(start)!;
    // The child says "parked" once every poll is sent, and how many were answered or failed so far.
    var line = await clients.StandardOutput.ReadLineAsync();
    // Measured once every poll is parked on a node's watcher (the 20 ms design before it had none: a fixed wait then).
    var parkedWatch = Stopwatch.StartNew();
    while (fleet.Parked() < polls && parkedWatch.Elapsed < TimeSpan.FromSeconds(60))
        await Task.Delay(100);
    await Task.Delay(TimeSpan.FromSeconds(2));
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var memoryParked = GC.GetTotalMemory(true);
    var server = Process.GetCurrentProcess();
    server.Refresh();
    var cpuBefore = server.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(10));
    server.Refresh();
    var cpu = (server.TotalProcessorTime - cpuBefore).TotalSeconds / wall.Elapsed.TotalSeconds;
    await clients.StandardInput.WriteLineAsync("report");
    var report = await clients.StandardOutput.ReadLineAsync();
    clients.Kill();
    File.Delete(keyFile);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"parked polls {polls,6} on {fleet.Urls.Count} node(s), {fleet.StoreKind}: server idle CPU {cpu * 100,6:F1} % of one core; server managed memory {(memoryParked - memoryBefore) / (double)polls / 1024,6:F1} KiB per parked poll; client: {line} / {report}"));
}

/// <summary>The child process: parks the polls, says so, and on request reports how many came back.</summary>
static async Task ParkClientsAsync(string keyFile, int polls, string urls)
{
    var keys = File.ReadAllLines(keyFile).Select(l => l.Split(' ')).Select(p => new ClientCredentials(p[0], p[1])).ToList();
    var bases = urls.Split(',').Select(u => new Uri(u)).ToList();
    var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
    // Each account's current revision first: a poll after it waits.
    var revisions = new List<string>();
    foreach (var key in keys)
    {
        var now = await new EcsClient(new HttpClient(handler, disposeHandler: false) { BaseAddress = bases[0] }, key).CallAsync("DescribeChanges", new { AfterRevision = "0" });
        revisions.Add(now.GetProperty("CurrentRevision").GetInt64().ToString(CultureInfo.InvariantCulture));
    }
    var parked = new List<Task<System.Text.Json.JsonElement>>(polls);
    for (var i = 0; i < polls; i++)
    {
        var client = new EcsClient(new HttpClient(handler, disposeHandler: false) { BaseAddress = bases[i % bases.Count], Timeout = TimeSpan.FromSeconds(120) }, keys[i % keys.Count]);
        var after = revisions[i % keys.Count];
        // A node short of database connections in the burst answers 503: an agent asks again, and so does this.
        parked.Add(Task.Run(async () =>
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return await client.CallAsync("DescribeChanges", new { AfterRevision = after, WaitSeconds = "60" });
                }
                catch (EcsApiException e) when (e.Code == "ServiceUnavailable" && attempt < 5)
                {
                    await Task.Delay(1000 + Random.Shared.Next(1000));
                }
            }
        }));
        if (i % 500 == 499)
            await Task.Delay(50);
    }
    Console.WriteLine($"{polls} sent, {parked.Count(t => t.IsCompleted)} back at once");
    await Console.In.ReadLineAsync();
    var faults = parked.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!.Message).Distinct().Take(2);
    Console.WriteLine($"{parked.Count(t => t.IsCompleted)} back before the end of the window (should be 0) {string.Join("; ", faults)}");
}

static async Task WritesAsync(Fleet fleet, int seconds)
{
    const int Writers = 8;
    var keys = Enumerable.Range(0, Writers).Select(i => fleet.NewKey($"writer{i}")).ToList();
    var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
    EcsClient Client(AccountService.NewKey key, int node) =>
        new(new HttpClient(handler, disposeHandler: false) { BaseAddress = fleet.Urls[node % fleet.Urls.Count] }, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
    // Every account gets a VPC and a group per writer; a write is a description change of a group.
    var groups = new Dictionary<(int Account, int Writer), string>();
    foreach (var (key, a) in keys.Select((k, a) => (k, a)))
    {
        var api = Client(key, 0);
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = "cn-hangzhou", CidrBlock = "10.0.0.0/8" }, Palisade.Domain.Ecs.ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        for (var w = 0; w < Writers; w++)
            groups[(a, w)] = (await api.CallAsync("CreateSecurityGroup", new { RegionId = "cn-hangzhou", VpcId = vpc, SecurityGroupName = $"w{w}" })).GetProperty("SecurityGroupId").GetString()!;
    }
    async Task<double> Run(Func<int, int> accountOfWriter)
    {
        var count = 0;
        var until = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
        {
            var a = accountOfWriter(w);
            var api = Client(keys[a], w);
            var i = 0;
            while (until.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await api.CallAsync("ModifySecurityGroupAttribute", new { RegionId = "cn-hangzhou", SecurityGroupId = groups[(a, w)], Description = $"d{i++}" });
                Interlocked.Increment(ref count);
            }
        }));
        return count / until.Elapsed.TotalSeconds;
    }
    await Run(w => w); // warm-up
    var one = await Run(_ => 0);
    var eight = await Run(w => w);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"writes, {Writers} writers over {fleet.Urls.Count} node(s), {fleet.StoreKind}, {seconds} s each: 1 account {one:F0} writes/s, {Writers} accounts {eight:F0} writes/s, ratio {eight / one:F2}"));
    handler.Dispose();
}

int Arg(string name, int fallback) => ArgText(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>Server nodes on one store (a fresh SQLite directory, or a fresh database on the given PostgreSQL).</summary>
internal sealed class Fleet : IAsyncDisposable
{
    private readonly List<WebApplication> _nodes;
    private readonly string _directory;

    private Fleet(List<WebApplication> nodes, string directory, string storeKind, string? database)
    {
        Database = database;
        _nodes = nodes;
        _directory = directory;
        StoreKind = storeKind;
        Urls = [.. nodes.Select(n => new Uri(n.Urls.First()))];
        Accounts = nodes[0].Services.GetRequiredService<AccountService>();
    }

    public IReadOnlyList<Uri> Urls { get; }

    /// <summary>The PostgreSQL database's connection string (null on SQLite).</summary>
    public string? Database { get; }

    public string StoreKind { get; }

    public AccountService Accounts { get; }

    /// <summary>The operator's acts on hosts (declare, credentials, bind; issue 18), on the fleet's store.</summary>
    public Palisade.Storage.Hosts.HostService Hosts => _nodes[0].Services.GetRequiredService<Palisade.Storage.Hosts.HostService>();

    public IReadOnlyList<WebApplication> Nodes => _nodes;

    /// <summary>The store's global revision (what a host's agent reports as applied).</summary>
    public long CurrentRevision() => _nodes[0].Services.GetRequiredService<Palisade.Storage.IStore>().CurrentRevision();

    /// <summary>Polls parked on the nodes' commit watchers now.</summary>
    public int Parked() => _nodes.Sum(n => n.Services.GetRequiredService<Palisade.Storage.IStore>().Commits.ParkedCount);

    public AccountService.NewKey NewKey(string name) => Accounts.CreateAccessKey(Accounts.CreateAccount(name + "-" + Guid.NewGuid().ToString("N")[..6]).AccountId);

    /// <summary>Nodes whose polls carrying a status report wait for its write (<c>--report-waits</c>, before the twentieth session).</summary>
    public static bool ReportWaits { get; set; }

    /// <summary>Nodes whose request path queues in the pool's synchronous OpenConnection (the store gate open), for a before/after pair.</summary>
    public static bool WithoutStoreGate { get; set; }

    public static async Task<Fleet> StartAsync(string? postgresServer, int nodeCount, string? existingDatabase = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-fleet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        string? database = existingDatabase;
        if (postgresServer is not null && database is null)
        {
            var name = "palisade_fleet_" + Guid.NewGuid().ToString("N");
            using var admin = new Npgsql.NpgsqlConnection(postgresServer);
            admin.Open();
            using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", admin);
            create.ExecuteNonQuery();
            database = new Npgsql.NpgsqlConnectionStringBuilder(postgresServer) { Database = name, MaxPoolSize = 40 }.ConnectionString;
        }
        var nodes = new List<WebApplication>();
        for (var n = 0; n < nodeCount; n++)
        {
            var node = PalisadeServer.Build(new ServeSettings
            {
                Urls = "http://127.0.0.1:0",
                DataDirectory = directory,
                Store = database,
                // Thousands of clients from one address: the per-key and per-account limits would measure
                // themselves; a fleet's account holds more than the 1,000 instances a tenant may by default,
                // and an account of 1,000 hosts (--hosts-per-account 1000: the join into a group named by
                // 1,000 hosts) more than the 100 groups: a pod's group every ten hosts.
                Options = new ServerOptions { Throttling = Throttling.Off, Limits = new Palisade.Domain.Quotas.Limits { InstancesPerRegion = 1_000_000, GroupsPerRegion = 1_000 }, CarriedReportWaitsForItsWrite = ReportWaits },
                // A fleet holds one connection per agent: past the default cap of 1,000.
                Connections = new ConnectionLimits { MaxConcurrentConnections = null },
            }, configure: WithoutStoreGate ? b => b.Services.AddSingleton(new StoreGate(null, 0)) : null);
            await node.StartAsync();
            nodes.Add(node);
        }
        return new Fleet(nodes, directory, database is null ? "SQLite" : "PostgreSQL", database);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
