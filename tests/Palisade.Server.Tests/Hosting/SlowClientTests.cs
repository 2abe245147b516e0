using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Palisade.Server.Hosting;
using Palisade.TestKit;
using Xunit.Abstractions;

namespace Palisade.Server.Tests.ServerHosting;

/// <summary>
/// Issue 19: an unauthenticated body sent at 250 B/s stayed open past 25 s (1 MB would have taken 70
/// minutes). A real server on 127.0.0.1 and real slow clients: each is cut, and the server still answers.
/// </summary>
public sealed class SlowClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-slow-" + Guid.NewGuid().ToString("N"));
    private Microsoft.AspNetCore.Builder.WebApplication _app = null!;
    private int _port;
    private TestStores.PostgresDatabase? _database;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "master.key"), Convert.ToBase64String(new byte[32]));
        _port = FreePort();
        _app = PalisadeServer.Build(new ServeSettings
        {
            Urls = $"http://127.0.0.1:{_port}",
            DataDirectory = _data,
            Store = (_database = TestStores.NewDatabase())?.ConnectionString,
            Connections = new ConnectionLimits
            {
                MinBodyBytesPerSecond = 1024, BodyGracePeriod = TimeSpan.FromSeconds(2), RequestHeadersTimeout = TimeSpan.FromSeconds(3), MaxConcurrentConnections = 8,
            },
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _database?.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Sends <paramref name="head"/> then dribbles <paramref name="dribble"/> bytes every 100 ms until the server closes; how long it took.</summary>
    private async Task<TimeSpan> DribbleUntilCut(string head, int dribble, TimeSpan giveUp)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        var stream = client.GetStream();
        var watch = Stopwatch.StartNew();
        var bytes = Encoding.ASCII.GetBytes(head);
        var sent = 0;
        var buffer = new byte[4096];
        var reading = stream.ReadAsync(buffer).AsTask();
        while (watch.Elapsed < giveUp)
        {
            if (reading.IsCompleted)
                return watch.Elapsed; // an answer or the end of the stream: the server let go
            try
            {
                if (sent < bytes.Length)
                {
                    var n = Math.Min(dribble, bytes.Length - sent);
                    await stream.WriteAsync(bytes.AsMemory(sent, n));
                    sent += n;
                }
                else
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(new string('a', dribble)));
                }
            }
            catch (IOException)
            {
                return watch.Elapsed;
            }
            await Task.WhenAny(reading, Task.Delay(100));
        }
        return TimeSpan.MaxValue;
    }

    [Fact]
    public async Task ABodyAt250BytesPerSecond_IsCut()
    {
        var head = $"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {1 << 20}\r\n\r\n";
        var took = await DribbleUntilCut(head + "Action=DescribeRegions&", 25, TimeSpan.FromSeconds(40));
        output.WriteLine($"cut after {took.TotalSeconds:F1} s (the whole body would take {(1 << 20) / 250 / 60} minutes)");
        Assert.True(took < TimeSpan.FromSeconds(40), "the slow body was never cut");
        await StillServes();
    }

    [Fact]
    public async Task HeadersSentByteByByte_AreCut()
    {
        var head = "GET /?Action=DescribeRegions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"X-Slow-{i}: {i}\r\n"));
        // Kestrel's own default (30 s) would outlast this wait: the configured timeout is what cuts.
        var took = await DribbleUntilCut(head, 2, TimeSpan.FromSeconds(25));
        output.WriteLine($"cut after {took.TotalSeconds:F1} s");
        Assert.True(took < TimeSpan.FromSeconds(25), "the slow headers were not cut by the configured timeout");
        await StillServes();
    }

    [Fact]
    public async Task ConnectionsPastTheCap_AreRefused_AndTheServerStillServes()
    {
        var idle = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, _port);
                await c.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n"));
                idle.Add(c);
            }
            await Task.Delay(300);
            using var extra = new TcpClient();
            await extra.ConnectAsync(IPAddress.Loopback, _port);
            var stream = extra.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
            var read = stream.ReadAsync(new byte[1024]).AsTask();
            var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.Same(read, finished);
            Assert.Equal(0, await read); // closed without an answer
        }
        finally
        {
            foreach (var c in idle)
                c.Dispose();
        }
        await Task.Delay(500);
        await StillServes();
    }

    private async Task StillServes()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        Assert.Equal("ok\n", await http.GetStringAsync($"http://127.0.0.1:{_port}/healthz"));
    }
}
