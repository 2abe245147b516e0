using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Palisade.Client;
using Palisade.TestKit.Processes;
using Palisade.Domain.Ecs;

// A soak: a real `palisade serve` (SQLite) and a real `palisade agent` following it in a throwaway
// network namespace, under mixed signed traffic (reads, rule churn, joins and leaves, the change
// feed) for --minutes. Every minute: the server's and the agent's resident memory and open file
// descriptors, the minute's request count, p50/p99 latency and errors, and whether the agent is in
// sync. Flat columns are the point.
//   sudo dotnet run -c Release --project bench/Palisade.Bench.Soak -- [--minutes 30] [--clients 4]
var minutes = Arg("--minutes", 30);
var clients = Arg("--clients", 4);
if (TestTopology.Missing() is { } missing)
{
    Console.Error.WriteLine($"the soak needs root, iproute2, nftables, conntrack and python3: {missing}");
    return 2;
}
// One key drives all the load: the per-key limit would measure itself, not the server.
Environment.SetEnvironmentVariable("PALISADE_KEY_RATE", "0");
var data = Path.Combine(Path.GetTempPath(), "palisade-soak-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(data);
using var topology = new TestTopology();
using var server = await ServerProcess.StartAsync(data, null);
AgentProcess? agent = null;
try
{
    using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
    var api = server.Client(http);
    const string region = "cn-hangzhou";
    var vpc = (await api.CallAsync("CreateVpc", new { RegionId = region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
    var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.4.0/22" }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
    var groups = new List<string>();
    for (var g = 0; g < 10; g++)
        groups.Add((await api.CallAsync("CreateSecurityGroup", new { RegionId = region, VpcId = vpc, SecurityGroupName = $"soak{g}" })).GetProperty("SecurityGroupId").GetString()!);
    for (var g = 0; g < 10; g++)
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = region, SecurityGroupId = groups[g], IpProtocol = "TCP", PortRange = "22/22", SourceGroupId = groups[(g + 1) % 10] });
    var instances = new List<string>();
    var toBind = new List<string>();
    for (var i = 0; i < 50; i++)
    {
        instances.Add((await api.CallAsync("RunInstances", new { RegionId = region, ImageId = "soak", InstanceType = "ecs.soak", VSwitchId = vsw, SecurityGroupId = groups[i % 10] }))
            .GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!);
        if (i < 20)
            toBind.Add(instances[i]);
    }
    // The operator declares the host, makes its agent's credential and binds (issue 18).
    var credentials = server.HostCredential("soak", "vs*", "198.18.0.0/15");
    for (var i = 0; i < toBind.Count; i++)
        server.Bind(toBind[i], "soak", $"vs{i}");
    agent = AgentProcess.Start(server.Url, credentials, "soak", topology.HostNamespace);
    await agent.WaitForLogAsync("applied 20 NICs", TimeSpan.FromSeconds(60));

    var latencies = new ConcurrentBag<double>();
    long errors = 0;
    using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
    var workers = Enumerable.Range(0, clients).Select(w => Task.Run(async () =>
    {
        var random = new Random(w);
        var own = groups[w % groups.Count];
        while (!stop.IsCancellationRequested)
        {
            var roll = random.Next(100);
            var clock = Stopwatch.StartNew();
            try
            {
                if (roll < 40)
                    await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = region, SecurityGroupId = groups[random.Next(groups.Count)] });
                else if (roll < 55)
                    await api.CallAsync("DescribeInstances", new { RegionId = region, MaxResults = 100 });
                else if (roll < 60)
                    await api.CallAsync("DescribeChanges", new { AfterRevision = 0, MaxResults = 10 });
                else if (roll < 80)
                {
                    var port = 1000 + random.Next(20_000);
                    await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = region, SecurityGroupId = own, IpProtocol = "TCP", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8" });
                    await api.CallAsync("RevokeSecurityGroup", new { RegionId = region, SecurityGroupId = own, IpProtocol = "TCP", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8" });
                }
                else
                {
                    var instance = instances[20 + random.Next(30)];
                    var extra = groups[random.Next(groups.Count)];
                    try
                    {
                        await api.CallAsync("JoinSecurityGroup", new { RegionId = region, InstanceId = instance, SecurityGroupId = extra });
                        await api.CallAsync("LeaveSecurityGroup", new { RegionId = region, InstanceId = instance, SecurityGroupId = extra });
                    }
                    catch (EcsApiException e) when (e.Code is "InvalidInstanceId.AlreadyExists" or "InstanceLastSecurityGroup" or "InvalidSecurityGroupId.NotFound")
                    {
                        // Another worker's join or leave of the same pair: an expected refusal, not an error.
                    }
                }
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
            catch (Exception e) when (e is EcsApiException or HttpRequestException or TaskCanceledException)
            {
                if (!stop.IsCancellationRequested)
                    Interlocked.Increment(ref errors);
            }
        }
    })).ToList();

    Console.WriteLine($"# Palisade soak, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {minutes} min, {clients} clients, server pid {server.Pid}");
    Console.WriteLine("| minute | requests | p50 | p99 | errors | server RSS | server fds | agent RSS | agent fds | agent log lines | in sync |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (var minute = 1; minute <= minutes; minute++)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(1), stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        var window = latencies.ToArray();
        latencies.Clear();
        Array.Sort(window);
        double P(double q) => window.Length == 0 ? double.NaN : window[Math.Clamp((int)Math.Ceiling(q * window.Length) - 1, 0, window.Length - 1)];
        var inSync = "?";
        try
        {
            var hosts = await api.CallAsync("DescribeHostInterfaces", new { RegionId = region, HostName = "soak" });
            var items = hosts.GetProperty("HostInterfaces").GetProperty("HostInterface").EnumerateArray().ToList();
            inSync = $"{items.Count(i => i.GetProperty("InSync").GetBoolean())}/{items.Count}";
        }
        catch (EcsApiException)
        {
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {minute} | {window.Length:N0} | {P(0.5):F1} ms | {P(0.99):F1} ms | {Interlocked.Exchange(ref errors, 0)} | {Rss(server.Pid)} | {Fds(server.Pid)} | {Rss(agent.Pid)} | {Fds(agent.Pid)} | {agent.Log.Count:N0} | {inSync} |"));
    }
    await Task.WhenAll(workers);
    return 0;
}
finally
{
    agent?.Dispose();
    server.Dispose();
    Directory.Delete(data, recursive: true);
}

static string Rss(int pid)
{
    var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return line is null ? "?" : $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024} MB";
}

static string Fds(int pid) => Directory.Exists($"/proc/{pid}/fd") ? Directory.GetFiles($"/proc/{pid}/fd").Length.ToString(CultureInfo.InvariantCulture) : "?";

static int Arg(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
