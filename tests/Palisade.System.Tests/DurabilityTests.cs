using System.Collections.Concurrent;
using System.Text.Json;
using Palisade.Client;
using Palisade.TestKit;
using Palisade.TestKit.Processes;
using Palisade.Domain.Ecs;

namespace Palisade.System.Tests;

/// <summary>
/// <c>kill -9</c> of the server under write load: after a restart every acknowledged write is there,
/// and no batch is half there. On SQLite, and on PostgreSQL when the run provides one.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-durability-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();

    public void Dispose()
    {
        _database?.Dispose();
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    private sealed record Batch(string Group, int FirstPort);

    [Fact]
    public async Task KilledUnderLoad_KeepsEveryAcknowledgedWrite_AndNoHalfBatch()
    {
        const int batchSize = 10;
        var groups = new List<string>();
        var acknowledged = new ConcurrentBag<Batch>();
        var attempted = new ConcurrentBag<Batch>();

        using (var server = await ServerProcess.StartAsync(_data, _database?.ConnectionString))
        {
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(10) };
            var api = server.Client(http);
            var vpc = (await api.CallAsync("CreateVpc", new { RegionId = "cn-hangzhou", CidrBlock = "10.0.0.0/8" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
            for (var i = 0; i < 40; i++)
                groups.Add((await api.CallAsync("CreateSecurityGroup", new { RegionId = "cn-hangzhou", VpcId = vpc, SecurityGroupName = $"durable{i}" })).GetProperty("SecurityGroupId").GetString()!);

            var next = -1;
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var n = Interlocked.Increment(ref next);
                    var batch = new Batch(groups[n % groups.Count], n / groups.Count * batchSize + 1);
                    if (batch.FirstPort + batchSize > 200 * batchSize)
                        return;
                    attempted.Add(batch);
                    try
                    {
                        await api.CallAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new
                        {
                            RegionId = "cn-hangzhou",
                            SecurityGroupId = batch.Group,
                            Permissions = Enumerable.Range(batch.FirstPort, batchSize).Select(p => new { IpProtocol = "tcp", PortRange = $"{p}/{p}", SourceCidrIp = "0.0.0.0/0" }).ToArray(),
                        }));
                        acknowledged.Add(batch);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or EcsApiException)
                    {
                        return; // the server is gone
                    }
                }
            })).ToArray();

            // Let the load build, then cut the power.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (acknowledged.Count < 60 && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            server.Kill();
            stop.Cancel();
            await Task.WhenAll(writers);
        }
        Assert.True(acknowledged.Count >= 60, $"only {acknowledged.Count} batches were acknowledged before the kill");

        using var restarted = await ServerProcess.StartAsync(_data, _database?.ConnectionString);
        using var http2 = new HttpClient { BaseAddress = restarted.Url };
        var api2 = restarted.Client(http2);
        var ports = new Dictionary<string, HashSet<int>>();
        foreach (var group in groups)
        {
            var rules = await api2.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = "cn-hangzhou", SecurityGroupId = group });
            ports[group] = [.. rules.GetProperty("Permissions").GetProperty("Permission").EnumerateArray().Select(r => int.Parse(r.GetProperty("PortRange").GetString()!.Split('/')[0], global::System.Globalization.CultureInfo.InvariantCulture))];
        }
        foreach (var batch in acknowledged)
            Assert.True(Enumerable.Range(batch.FirstPort, batchSize).All(ports[batch.Group].Contains), $"acknowledged batch {batch} is missing after the restart");
        foreach (var batch in attempted)
        {
            var present = Enumerable.Range(batch.FirstPort, batchSize).Count(ports[batch.Group].Contains);
            Assert.True(present is 0 or batchSize, $"batch {batch} is half there: {present} of {batchSize} rules");
        }
        var stored = ports.Values.Sum(p => p.Count);
        Assert.Equal(0, stored % batchSize);
        Assert.True(stored >= acknowledged.Count * batchSize);
    }
}
