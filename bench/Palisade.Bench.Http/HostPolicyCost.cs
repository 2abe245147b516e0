using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Agent.Following;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Identifiers;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Hosting;
using Palisade.Server.Responses;
using Palisade.Storage;
using Palisade.Storage.Accounts;
using Palisade.Storage.Hosts;

/// <summary>
/// Where the time of a host's policy fetch goes (issue 17): the convergence bench's account (100
/// NICs on one host sharing target groups, a server group with the rule that changes) on one
/// in-process node (SQLite), without the kernel. Times, over HTTP with the host credential, the
/// agent's whole fetch (<see cref="EcsControlPlane.FetchAsync"/>: the server's answer and the
/// agent's assembly of each account's state) as a full fetch and as the incremental fetch after a
/// revoke; then, in process, the server's phases on one read: the store reads (the account's region
/// loaded once), the selection of each NIC's part, rendering and hashing each resource once, the
/// changed parts' union rendered, and the JSON.
///   dotnet run -c Release --project bench/Palisade.Bench.Http -- --host-policy [--runs 30]
/// </summary>
internal static class HostPolicyCost
{
    private const string Region = "cn-hangzhou";

    public static async Task<int> RunAsync(int runs)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-bench-hp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = directory,
            Options = new ServerOptions { Throttling = Throttling.Off },
        });
        await app.StartAsync();
        try
        {
            var url = new Uri(app.Urls.First());
            var accounts = app.Services.GetRequiredService<AccountService>();
            var key = accounts.CreateAccessKey(accounts.CreateAccount("bench").AccountId);
            using var http = new HttpClient { BaseAddress = url };
            var api = new EcsClient(http, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));

            // The convergence bench's account (bench/Palisade.Bench.Agent, Converge).
            var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
            var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.1.0/24" }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
            async Task<string> Group(string name) => (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = name })).GetProperty("SecurityGroupId").GetString()!;
            var serverGroup = await Group("server");
            var targets = new Dictionary<int, string>();
            foreach (var k in new[] { 1, 10, 100 })
            {
                targets[k] = await Group($"target{k}");
                var source = await Group($"source{k}");
                await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = targets[k], IpProtocol = "TCP", PortRange = $"{7000 + k}/{7000 + k}", SourceGroupId = source });
            }
            async Task<string> Run(string name, string? ip, params string[] groups)
            {
                var p = new List<KeyValuePair<string, string>> { new("RegionId", Region), new("ImageId", "ubuntu"), new("InstanceType", "ecs.g7.large"), new("VSwitchId", vsw), new("InstanceName", name) };
                if (ip is not null)
                    p.Add(new("PrivateIpAddress", ip));
                for (var i = 0; i < groups.Length; i++)
                    p.Add(new($"SecurityGroupIds.{i + 1}", groups[i]));
                return (await api.CallAsync("RunInstances", p)).GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
            }
            var s = await Run("s", "198.18.1.3", serverGroup, targets[1], targets[10], targets[100]);
            await Run("c", "198.18.1.2", await Group("client"));
            var nics = new List<string> { s };
            for (var i = 0; i < 99; i++)
                nics.Add(await Run($"n{i}", null, i < 9 ? [targets[10], targets[100]] : [targets[100]]));
            var hosts = app.Services.GetRequiredService<HostService>();
            hosts.Declare("bench", Palisade.Domain.Hosts.HostDeclaration.Parse("vh-* vf*", "198.18.0.0/15"));
            hosts.Bind(s, "bench", "vh-s");
            for (var i = 1; i < nics.Count; i++)
                hosts.Bind(nics[i], "bench", $"vf{i - 1}");
            var credential = hosts.CreateCredential("bench");
            var agentApi = new EcsClient(http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));

            Console.WriteLine($"## DescribeHostPolicy for 100 NICs sharing groups (one node, SQLite, in process), {runs} runs each, load average {Load()}");
            var full = new List<double>();
            var afterRevoke = new List<double>();
            var afterAuthorize = new List<double>();
            var render = new List<double>();
            long fullBytes = 0, revokeBytes = 0;
            var rule = new { RegionId = Region, SecurityGroupId = serverGroup, IpProtocol = "TCP", PortRange = "7000/7000", SourceCidrIp = "198.18.1.2/32" };
            for (var r = 0; r < runs + 3; r++)
            {
                // A full fetch (a fresh agent holds nothing), then the same agent's fetch after each change.
                var plane = new EcsControlPlane(agentApi, Region);
                var t = Stopwatch.GetTimestamp();
                await plane.FetchAsync("bench", CancellationToken.None);
                var fullMs = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                await api.CallAsync("AuthorizeSecurityGroup", rule);
                t = Stopwatch.GetTimestamp();
                await plane.FetchAsync("bench", CancellationToken.None);
                var authorizeMs = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                await api.CallAsync("RevokeSecurityGroup", rule);
                t = Stopwatch.GetTimestamp();
                var policy = await plane.FetchAsync("bench", CancellationToken.None);
                var revokeMs = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                // The agent's next step, before its kernel: every NIC's policy compiled and rendered.
                t = Stopwatch.GetTimestamp();
                Palisade.Agent.Rendering.PolicyRenderer.Render(policy.Parts, policy.Revision);
                if (r >= 3)
                    render.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if (r < 3)
                    continue; // warm-up
                full.Add(fullMs);
                afterAuthorize.Add(authorizeMs);
                afterRevoke.Add(revokeMs);
                if (r == 3)
                {
                    fullBytes = (await RawAsync(agentApi, [])).Length;
                    var (received, unchanged) = plane.Parts;
                    Console.WriteLine($"parts over this agent's 3 fetches: {received} received, {unchanged} unchanged");
                }
            }
            Console.WriteLine("| agent's fetch (server answer + assembly), over HTTP | p50 | p99 | max |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine($"| full (holds nothing; answer {fullBytes:N0} bytes) | {P(full, 50):F1} ms | {P(full, 99):F1} ms | {full.Max():F1} ms |");
            Console.WriteLine($"| after an authorize of one rule in the server group | {P(afterAuthorize, 50):F1} ms | {P(afterAuthorize, 99):F1} ms | {afterAuthorize.Max():F1} ms |");
            Console.WriteLine($"| after its revoke | {P(afterRevoke, 50):F1} ms | {P(afterRevoke, 99):F1} ms | {afterRevoke.Max():F1} ms |");
            Console.WriteLine($"| (then the agent's render of 100 NICs, before its kernel) | {P(render, 50):F1} ms | {P(render, 99):F1} ms | {render.Max():F1} ms |");

            // The incremental answer's size after a revoke: the digests the agent would send.
            var held = await RawAsync(agentApi, []);
            var known = Digests(held);
            await api.CallAsync("AuthorizeSecurityGroup", rule);
            var incremental = await RawAsync(agentApi, known);
            revokeBytes = incremental.Length;
            await api.CallAsync("RevokeSecurityGroup", rule);
            Console.WriteLine($"answer after one rule change, all digests sent: {revokeBytes:N0} bytes, NICs changed: {System.Text.RegularExpressions.Regex.Matches(incremental, "\"Changed\":true").Count} of 100");

            // The server's phases, in process, on one read (what DescribeHostPolicy PerNic does).
            var store = app.Services.GetRequiredService<IStore>();
            var accountId = key.AccountId;
            var instances = nics.Select(InstanceId.Parse).ToList();
            var phases = new Dictionary<string, List<double>>();
            void Add(string phase, long from) => (phases.TryGetValue(phase, out var l) ? l : phases[phase] = []).Add(Stopwatch.GetElapsedTime(from).TotalMilliseconds);
            for (var r = 0; r < runs + 3; r++)
            {
                store.Read(session =>
                {
                    var t = Stopwatch.GetTimestamp();
                    var source = new StateExport.Source(session, accountId, Region);
                    foreach (var g in source.Groups)
                        source.RulesOf(g.Id);
                    Add("store reads (the region, every group's rules)", t);
                    t = Stopwatch.GetTimestamp();
                    var parts = instances.Select(i => StateExport.Select(source, new HashSet<InstanceId> { i })).ToList();
                    Add("selection of 100 parts, one per NIC (before)", t);
                    t = Stopwatch.GetTimestamp();
                    foreach (var i in instances.DistinctBy(i => string.Join(",", source.Instances.First(r => r.Id == i).SecurityGroupIds.Order())))
                        StateExport.Select(source, new HashSet<InstanceId> { i });
                    Add("selection of the 3 distinct parts (one per set of groups, after)", t);
                    t = Stopwatch.GetTimestamp();
                    var hashes = new Dictionary<string, byte[]>();
                    foreach (var g in source.Groups)
                        hashes[g.Id.Value] = SHA256.HashData(ResponseWriter.Json(StateExport.GroupItem(source, g)));
                    foreach (var i in source.Instances)
                        hashes[i.Id.Value] = SHA256.HashData(ResponseWriter.Json(StateExport.InstanceItem(source, i)));
                    Add("render + hash every resource once", t);
                    t = Stopwatch.GetTimestamp();
                    foreach (var part in parts)
                    {
                        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        foreach (var g in part.Groups)
                            digest.AppendData(hashes[g.Id.Value]);
                        foreach (var i in part.Instances)
                            digest.AppendData(hashes[i.Id.Value]);
                        digest.GetHashAndReset();
                    }
                    Add("100 part digests from the resources' hashes", t);
                    t = Stopwatch.GetTimestamp();
                    var body = StateExport.Body(source, instances.ToHashSet());
                    Add("render the union of 100 parts", t);
                    t = Stopwatch.GetTimestamp();
                    ResponseWriter.Json(body);
                    Add("JSON of the union", t);
                    return 0;
                });
            }
            Console.WriteLine("\n| server phase (one read, in process) | p50 | p99 |");
            Console.WriteLine("|---|---:|---:|");
            foreach (var (phase, times) in phases)
                Console.WriteLine($"| {phase} | {P(times.Skip(3).ToList(), 50):F2} ms | {P(times.Skip(3).ToList(), 99):F2} ms |");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<string> RawAsync(EcsClient client, IReadOnlyList<(string Instance, string Digest)> known)
    {
        var p = new List<KeyValuePair<string, string>> { new("RegionId", Region), new("HostName", "bench"), new("PerNic", "true"), new("SharedParts", "true") };
        for (var i = 0; i < known.Count; i++)
        {
            p.Add(new($"KnownNic.{i + 1}.InstanceId", known[i].Instance));
            p.Add(new($"KnownNic.{i + 1}.Digest", known[i].Digest));
        }
        return (await client.CallAsync("DescribeHostPolicy", p)).GetRawText();
    }

    private static List<(string, string)> Digests(string answer)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(answer);
        return [.. doc.RootElement.GetProperty("Accounts").GetProperty("Account").EnumerateArray()
            .SelectMany(a => a.GetProperty("Nics").GetProperty("Nic").EnumerateArray())
            .Select(n => (n.GetProperty("InstanceId").GetString()!, n.GetProperty("Digest").GetString()!))];
    }

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
