using System.Diagnostics;
using System.Globalization;
using System.Text;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.State;

/// <summary>
/// One shipped agent's work per change (issue 17, seventeenth session), in process and without the
/// server's share: one account of N hosts × M NICs is set up on in-process nodes as the fleet bench
/// sets it up; host 0's <c>DescribeHostPolicy</c> answers to a series of changes (a rule in "common",
/// every host's part; a join into "db", named by every host) are captured, then replayed to a fresh
/// <see cref="EcsControlPlane"/> and <see cref="EnforcementAgent"/> (a kernel that records nothing)
/// again and again: each step's wall time and the bytes it allocated, split by step.
/// </summary>
internal static class AgentCost
{
    private const string Region = "cn-hangzhou";

    /// <summary>Forwards and keeps the answers (record), or answers from them in order (replay).</summary>
    internal sealed class Tape(HttpMessageHandler? inner) : DelegatingHandler(inner ?? new HttpClientHandler())
    {
        public readonly List<string> Answers = [];
        private readonly List<byte[]?> Encoded = [];
        public int Next = -1;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
        {
            if (Next >= 0)
            {
                // The answer's bytes as the socket gives them, encoded once (twentieth session: a StringContent encoded each replay, ~5 KB a fetch that no agent pays).
                var bytes = Encoded.Count > Next ? Encoded[Next] : null;
                if (bytes is null)
                {
                    while (Encoded.Count <= Next)
                        Encoded.Add(null);
                    Encoded[Next] = bytes = Encoding.UTF8.GetBytes(Answers[Next]);
                }
                Next++;
                var content = new ByteArrayContent(bytes);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content };
            }
            var response = await base.SendAsync(request, cancel);
            var body = await response.Content.ReadAsStringAsync(cancel);
            Answers.Add(body);
            return new HttpResponseMessage(response.StatusCode) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        }
    }

    internal sealed class NullKernel : INetfilter
    {
        public long Bytes;

        public Task ApplyAsync(string transaction, CancellationToken cancel)
        {
            Bytes += transaction.Length;
            return Task.CompletedTask;
        }

        public Task CheckAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;
        public Task<KernelShape?> ReadBackAsync(CancellationToken cancel) => Task.FromResult<KernelShape?>(null);
        public Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<TrackedConnection>>([]);
        public Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel) => Task.CompletedTask;
        public Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<string>>([]);
    }

    public static async Task RunAsync(Fleet fleet, int hosts, int nicsPerHost, int changes, int rounds)
    {
        Console.WriteLine($"--- one agent's cost per change: 1 account of {hosts} hosts x {nicsPerHost} NICs, {fleet.StoreKind}");
        var (api, common, db, vsw, host, credential) = await Agents.SetupForOneAsync(fleet, hosts, nicsPerHost);
        var tape = new Tape(null);
        var client = new EcsClient(new HttpClient(tape) { BaseAddress = fleet.Urls[0], Timeout = TimeSpan.FromMinutes(2) }, credential);
        var live = new EcsControlPlane(client, Region);
        await live.FetchAsync(host, CancellationToken.None);
        var kinds = new List<string>();
        for (var c = 0; c < changes; c++)
        {
            if (c % 2 == 0)
            {
                await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = common, IpProtocol = "tcp", PortRange = $"{20000 + c}/{20000 + c}", SourceCidrIp = "192.0.2.0/24" });
                kinds.Add("rule in common");
            }
            else
            {
                await api.CallAsync("RunInstances", new { RegionId = Region, SecurityGroupId = db, VSwitchId = vsw, ImageId = "img", InstanceType = "ecs.g7.large", Amount = 1 });
                kinds.Add("join into db");
            }
            await live.FetchAsync(host, CancellationToken.None);
        }
        File.WriteAllText("/tmp/a17-answer0.json", tape.Answers[0]);
        File.WriteAllText("/tmp/a17-answer1.json", tape.Answers[1]);
        Console.WriteLine($"captured {tape.Answers.Count} answers: first {tape.Answers[0].Length:N0} chars, then {string.Join(", ", tape.Answers.Skip(1).Select(a => a.Length.ToString("N0", CultureInfo.InvariantCulture)))}");
        var steps = new Dictionary<string, List<(double Ms, long Bytes)>>();
        void Add(string step, double ms, long bytes)
        {
            if (!steps.TryGetValue(step, out var list))
                steps[step] = list = [];
            list.Add((ms, bytes));
        }
        for (var round = 0; round < 3 * (rounds + 2); round++)
        {
            // In turn: the slow twins (the whole state written and read each fetch, as before the seventeenth
            // session; each resource read once but the resources' dictionary and union rebuilt each fetch, as
            // before the eighteenth) and the shipped path.
            var (whole, rebuilds) = (round % 3 == 0, round % 3 == 1);
            // PALISADE_AGENT_COST_SHIPPED_ONLY=1: the shipped path alone (for perf).
            if ((whole || rebuilds) && Environment.GetEnvironmentVariable("PALISADE_AGENT_COST_SHIPPED_ONLY") == "1")
                continue;
            var mode = whole ? "a: whole state read (before 17th)" : rebuilds ? "b: resources read once, union rebuilt (before 18th), answer read twice (before 20th)" : "c: union kept (shipped)";
            tape.Next = 0;
            // (b) is every slow twin since: the answer read as a string and its State parsed again too (twentieth session).
            var plane = new EcsControlPlane(client, Region) { ReadsWhole = whole, KeepsResources = !rebuilds, ReadsAnswerOnce = !rebuilds };
            var kernel = new NullKernel();
            var agent = new EnforcementAgent(plane, kernel, new AgentOptions(host), _ => { });
            agent.ConvergeAsync(plane.FetchAsync(host, CancellationToken.None).GetAwaiter().GetResult(), CancellationToken.None).GetAwaiter().GetResult();
            for (var c = 0; c < changes; c++)
            {
                var body = tape.Answers[tape.Next];
                var (b0, t0) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                var policy = plane.FetchAsync(host, CancellationToken.None).GetAwaiter().GetResult();
                var (b1, t1) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                agent.ConvergeAsync(policy, CancellationToken.None).GetAwaiter().GetResult();
                var (b2, t2) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                if (Environment.GetEnvironmentVariable("PALISADE_AGENT_COST_SHIPPED_ONLY") == "1")
                {
                    if (round >= 6)
                        Add($"{kinds[c]}, shipped: fetch and converge", Stopwatch.GetElapsedTime(t0, t2).TotalMilliseconds, b2 - b0);
                    continue;
                }
                // The steps inside the fetch, measured apart on the same inputs.
                var (b3, t3) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                using (var doc = System.Text.Json.JsonDocument.Parse(body))
                    GC.KeepAlive(doc.RootElement.Clone());
                var (b4, t4) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                long readBytes = 0;
                double readMs = 0;
                foreach (var part in policy.Parts)
                {
                    if (part.Source is not { } source)
                        continue;
                    var (b5, t5) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                    GC.KeepAlive(StateFileReader.Read(source));
                    readBytes += GC.GetAllocatedBytesForCurrentThread() - b5;
                    readMs += Stopwatch.GetElapsedTime(t5).TotalMilliseconds;
                }
                foreach (var part in policy.Parts)
                {
                    if (part.SourceItems is not { } items)
                        continue;
                    var cache = new StateItemCache();
                    StateFileReader.Read(Region, items, cache, () => throw new InvalidOperationException());
                    var (b5, t5) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                    GC.KeepAlive(StateFileReader.Read(Region, items, cache, () => throw new InvalidOperationException()));
                    readBytes += GC.GetAllocatedBytesForCurrentThread() - b5;
                    readMs += Stopwatch.GetElapsedTime(t5).TotalMilliseconds;
                }
                var (b6, t6) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                foreach (var part in policy.Parts)
                    GC.KeepAlive(new NetworkState(part.State.RegionId, part.State.Groups, part.State.Instances, part.State.PrefixLists, part.State.PortRangeLists));
                var (b7, t7) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                if (round < 6)
                    continue;
                Add($"{kinds[c]}: a NetworkState made of its resources (indexes)", Stopwatch.GetElapsedTime(t6, t7).TotalMilliseconds, b7 - b6);
                var kind = $"{kinds[c]}, {mode}";
                Add($"{kind}: fetch (HTTP, answer read, parts merged, state assembled and read)", Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, b1 - b0);
                Add($"{kind}: converge (render, plan, nft text, kernel)", Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, b2 - b1);
                Add($"{kind}:   of the fetch: the answer's JSON alone", Stopwatch.GetElapsedTime(t3, t4).TotalMilliseconds, b4 - b3);
                Add($"{kind}:   of the fetch: the state text read into the domain (StateFileReader)", readMs, readBytes);
                Add($"{kind}: fetch and converge", Stopwatch.GetElapsedTime(t0, t2).TotalMilliseconds, b2 - b0);
            }
            Console.WriteLine($"{mode}: resources read {plane.Items.Read}, found read {plane.Items.Found}");
        }
        foreach (var (step, list) in steps.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var ms = list.Select(l => l.Ms).Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{step}: p50 {ms[ms.Count / 2]:F2} (min {ms[0]:F2}) ms, allocated p50 {list.Select(l => l.Bytes).Order().ElementAt(list.Count / 2) / 1024.0:F0} KiB (mean {list.Average(l => l.Bytes) / 1024.0:F0} KiB)"));
        }
        // Not with the shipped path alone (perf, and its 200 rounds of 40 changes: each measured step here takes two full collections of the bench's heap).
        if (Environment.GetEnvironmentVariable("PALISADE_AGENT_COST_SHIPPED_ONLY") != "1")
            Survivors(tape, client, host, kinds, Math.Min(rounds, 10));
    }

    /// <summary>
    /// What a change leaves alive (issue 17, twenty-third session): in rounds of their own after the timed
    /// ones (so no forced collection touches a timed step), the shipped path's steps each between two
    /// collections. Before a step, two full blocking collections leave generations 0 and 1 empty; right after
    /// it, a forced blocking generation-1 collection promotes exactly what the step allocated and still
    /// references (<see cref="GCMemoryInfo.PromotedBytes"/> of that collection): what a fleet's gen1
    /// collection after 1,000 agents' changes has to mark and copy, per agent. Objects of 85,000 bytes or
    /// more (the large-object heap) are not promoted and not counted; none of an agent's per-change objects is.
    /// The fetch and the converge are measured apart and together (alternate rounds): the two parts need not
    /// add up to the whole (what the fetch makes and the converge lets go counts in the fetch's part only).
    /// PALISADE_AGENT_COST_DUMP=1 stops after the first join's step in the first round with its survivors
    /// collected by a generation-0 collection only (so they sit in generation 1, alone there when the process
    /// runs with a generation-0 budget larger than a step, e.g. DOTNET_GCgen0size=0x10000000) until
    /// /tmp/a23-dump-done exists: for <c>dotnet-dump collect</c> and SOS's <c>dumpheap -stat -gen 1</c>.
    /// </summary>
    private static void Survivors(Tape tape, EcsClient client, string host, List<string> kinds, int rounds)
    {
        var survived = new Dictionary<string, List<long>>();
        var dump = Environment.GetEnvironmentVariable("PALISADE_AGENT_COST_DUMP") == "1";
        static void Empty()
        {
            GC.Collect();
            GC.Collect();
        }
        static long Promoted()
        {
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            return GC.GetGCMemoryInfo(GCKind.Ephemeral).PromotedBytes;
        }
        for (var round = 0; round < 2 * rounds; round++)
        {
            var apart = round % 2 == 1;
            tape.Next = 0;
            var plane = new EcsControlPlane(client, Region);
            var agent = new EnforcementAgent(plane, new NullKernel(), new AgentOptions(host), _ => { });
            agent.ConvergeAsync(plane.FetchAsync(host, CancellationToken.None).GetAwaiter().GetResult(), CancellationToken.None).GetAwaiter().GetResult();
            for (var c = 0; c < kinds.Count; c++)
            {
                void Add(string step, long bytes)
                {
                    if (!survived.TryGetValue(step, out var list))
                        survived[step] = list = [];
                    list.Add(bytes);
                }
                Empty();
                var policy = plane.FetchAsync(host, CancellationToken.None).GetAwaiter().GetResult();
                if (apart)
                {
                    Add($"{kinds[c]}, shipped:   of it the fetch", Promoted());
                    Empty();
                }
                agent.ConvergeAsync(policy, CancellationToken.None).GetAwaiter().GetResult();
                if (dump && round == 0 && kinds[c] == "join into db")
                {
                    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                    Console.WriteLine($"survivors of a join in generation 1 (promoted {GC.GetGCMemoryInfo(GCKind.Ephemeral).PromotedBytes:N0} bytes): pid {Environment.ProcessId}, waiting for /tmp/a23-dump-done");
                    while (!File.Exists("/tmp/a23-dump-done"))
                        Thread.Sleep(500);
                    GC.KeepAlive(policy);
                    dump = false;
                }
                Add(apart ? $"{kinds[c]}, shipped:   of it the converge" : $"{kinds[c]}, shipped: fetch and converge", Promoted());
            }
            GC.KeepAlive(agent);
        }
        foreach (var (step, list) in survived.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var sorted = list.Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{step}: survived p50 {sorted[sorted.Count / 2] / 1024.0:F1} KiB (min {sorted[0] / 1024.0:F1}, max {sorted[^1] / 1024.0:F1}; {sorted.Count} steps)"));
        }
    }
}
