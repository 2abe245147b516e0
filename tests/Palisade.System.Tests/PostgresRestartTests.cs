using System.Collections.Concurrent;
using Palisade.Client;
using Palisade.TestKit.Processes;
using Palisade.Domain.Ecs;

namespace Palisade.System.Tests;

/// <summary>
/// PostgreSQL restarted under load, with a real <c>palisade serve</c> on a private cluster: while
/// the database is away every call gets ServiceUnavailable (503, which SDKs retry), never another
/// 5xx; the server recovers by itself once it is back; and the data is whole: every acknowledged
/// write is there, and nothing that was not attempted.
/// </summary>
public sealed class PostgresRestartTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-pg-restart-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task PostgresRestartedUnderLoad_ClientsSeeServiceUnavailable_AndTheServerRecoversByItself()
    {
        using var postgres = PrivatePostgres.Start();
        using var server = await ServerProcess.StartAsync(_data, postgres.ConnectionString);
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(60) };
        var api = server.Client(http);
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = "cn-hangzhou", CidrBlock = "10.0.0.0/8" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var group = (await api.CallAsync("CreateSecurityGroup", new { RegionId = "cn-hangzhou", VpcId = vpc, SecurityGroupName = "restart" })).GetProperty("SecurityGroupId").GetString()!;

        var outcomes = new ConcurrentBag<string>();
        var acknowledged = new ConcurrentBag<int>();
        var attempted = new ConcurrentBag<int>();
        var next = 0;
        using var stop = new CancellationTokenSource();
        async Task Load(bool writes)
        {
            while (!stop.IsCancellationRequested)
            {
                var port = Interlocked.Increment(ref next);
                if (port > 60_000)
                    return;
                EcsResponse response;
                if (writes)
                {
                    attempted.Add(port);
                    response = await api.SendAsync("AuthorizeSecurityGroup",
                        [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", group), new("IpProtocol", "tcp"), new("PortRange", $"{port}/{port}"), new("SourceCidrIp", "10.0.0.0/8")]);
                    if (response.IsSuccess)
                        acknowledged.Add(port);
                }
                else
                    response = await api.SendAsync("DescribeSecurityGroups", [new("RegionId", "cn-hangzhou"), new("SecurityGroupName", $"r{port % 7}")]);
                outcomes.Add(response.IsSuccess ? "OK" : $"{response.Status} {response.Code}");
                await Task.Delay(5);
            }
        }
        var load = new[] { Load(true), Load(true), Load(false), Load(false) };
        while (acknowledged.Count < 50)
            await Task.Delay(20);

        postgres.StopServer();
        // With the database gone, every kind of call is answered, with the retryable code.
        foreach (var (action, parameters) in new (string, KeyValuePair<string, string>[])[]
        {
            ("DescribeSecurityGroups", [new("RegionId", "cn-hangzhou")]),
            ("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", group)]),
            ("AuthorizeSecurityGroup", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", group), new("IpProtocol", "udp"), new("PortRange", "53/53"), new("SourceCidrIp", "10.0.0.0/8")]),
        })
        {
            var down = await api.SendAsync(action, parameters);
            Assert.True((down.Status, down.Code) == (503, "ServiceUnavailable"), $"{action} with the database down -> {down.Status} {down.Code}: {down.Body}");
        }
        await Task.Delay(500); // the load keeps hitting the missing database meanwhile
        postgres.StartServer();

        // It recovers without a restart of its own: calls succeed again.
        var recovered = false;
        for (var attempt = 0; attempt < 600 && !recovered; attempt++)
        {
            recovered = (await api.SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", group)])).IsSuccess;
            if (!recovered)
                await Task.Delay(100);
        }
        Assert.True(recovered, "the server did not answer a read successfully within 60 s of PostgreSQL's return");
        var writesAfter = acknowledged.Count;
        for (var attempt = 0; attempt < 600 && acknowledged.Count < writesAfter + 20; attempt++)
            await Task.Delay(100);
        stop.Cancel();
        await Task.WhenAll(load);
        Assert.True(acknowledged.Count >= writesAfter + 20, "writes did not resume after PostgreSQL's return");

        output.WriteLine($"answers under load: {string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} ×{g.Count()}"))}; {acknowledged.Count} writes acknowledged");
        var unexpected = outcomes.Where(o => o is not ("OK" or "503 ServiceUnavailable")).GroupBy(o => o).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        Assert.True(unexpected.Count == 0, "answers other than success or ServiceUnavailable: " + string.Join(", ", unexpected));

        // Nothing lost, nothing invented: acknowledged ⊆ stored ⊆ attempted.
        var stored = (await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = "cn-hangzhou", SecurityGroupId = group }))
            .GetProperty("Permissions").GetProperty("Permission").EnumerateArray()
            .Select(r => int.Parse(r.GetProperty("PortRange").GetString()!.Split('/')[0], global::System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var lost = acknowledged.Where(p => !stored.Contains(p)).ToList();
        Assert.True(lost.Count == 0, $"acknowledged but missing: {string.Join(", ", lost)}");
        var invented = stored.Where(p => !attempted.Contains(p)).ToList();
        Assert.True(invented.Count == 0, $"stored but never sent: {string.Join(", ", invented)}");
    }
}
