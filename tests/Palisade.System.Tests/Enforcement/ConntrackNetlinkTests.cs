using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Palisade.Agent.Kernel;
using Palisade.TestKit.Processes;
using Xunit.Abstractions;

namespace Palisade.System.Tests.Enforcement;

/// <summary>
/// Issue 20 in the kernel: the agent's own netlink reader of conntrack's new-connection events sees
/// real connections between two namespaces of ours exactly as <c>conntrack -E -e NEW</c> (its slow
/// twin, run at the same time in the same host namespace) prints them — TCP, UDP and ICMP over IPv4,
/// UDP and TCP over IPv6, in a conntrack zone. With <c>PALISADE_CAPTURE_NETLINK=DIR</c> it also writes
/// the datagrams and the lines it saw (the unit tests' captured data). Addresses in 198.18.0.0/15 and
/// 2001:db8::/32; every probe inside a namespace; namespaces removed even on failure.
/// </summary>
public sealed class ConntrackNetlinkTests(ITestOutputHelper output)
{
    private static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_NETNS") == "1";

    private const string Client = "198.18.31.11";
    private const string Server = "198.18.31.12";
    private const string Client6 = "2001:db8:31::11";
    private const string Server6 = "2001:db8:31::12";

    [Fact]
    public async Task RealConnections_AreSeenByTheNetlinkReader_ExactlyAsConntrackEPrintsThem()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        using var topology = new TestTopology();
        var c = topology.AddInstance("nc", Client);
        var s = topology.AddInstance("ns", Server);
        TestTopology.Run("ip", "-n", c, "addr", "add", Client6 + "/64", "dev", "eth0", "nodad");
        TestTopology.Run("ip", "-n", s, "addr", "add", Server6 + "/64", "dev", "eth0", "nodad");
        // Conntrack on in the host namespace (a rule that uses it), every connection in zone 7.
        var rules = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(rules, """
                table inet pztest {
                    chain zoning {
                        type filter hook prerouting priority raw;
                        ct zone set 7
                    }
                    chain passing {
                        type filter hook forward priority 0;
                        ct state new accept
                        accept
                    }
                }
                """);
            topology.InHost("nft", "-f", rules);
        }
        finally
        {
            File.Delete(rules);
        }
        topology.Listen(s, Server, [22, 80], [53]);
        topology.Listen(s, Server6, [22], [53]);

        var datagrams = new ConcurrentQueue<byte[]>();
        using var socket = ConntrackNetlinkSocket.Open(topology.HostNamespace, out var why, tap: d => datagrams.Enqueue(d.ToArray()));
        Assert.True(socket is not null, $"the netlink socket could not be opened: {why}");
        var batches = Channel.CreateUnbounded<TrackedConnection[]>();
        using var stop = new CancellationTokenSource();
        var reading = socket.Start(batches.Writer, TimeSpan.Zero, stop.Token);
        var netlink = new ConcurrentQueue<TrackedConnection>();
        var draining = Task.Run(async () =>
        {
            await foreach (var batch in batches.Reader.ReadAllAsync())
            {
                foreach (var connection in batch)
                    netlink.Enqueue(connection);
            }
        });
        var conntrack = topology.Start(topology.HostNamespace, "conntrack", "-E", "-e", "NEW");
        var lines = new ConcurrentQueue<string>();
        conntrack.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lines.Enqueue(e.Data);
        };
        conntrack.BeginOutputReadLine();
        try
        {
            // conntrack -E says nothing when it has subscribed: UDP to fresh ports until it prints one.
            var warmup = 40000;
            await UntilAsync(() =>
            {
                topology.Probe(c, [$"udp:{Server}:{warmup++}"], 0.2);
                return lines.Any(l => l.Contains("dport=4", StringComparison.Ordinal));
            }, TimeSpan.FromSeconds(60), "conntrack -E subscribed");
            var first = warmup;

            for (var i = 0; i < 3; i++)
                Assert.True(topology.ProbeOne(c, $"tcp:{Server}:22"));
            Assert.True(topology.ProbeOne(c, $"tcp:{Server}:80"));
            Assert.True(topology.ProbeOne(c, $"udp:{Server}:53"));
            Assert.True(topology.ProbeOne(c, $"icmp:{Server}:0"));
            TestTopology.Run("ip", "netns", "exec", c, "python3", "-c",
                "import socket\n"
                + $"u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.sendto(b'x', ('{Server6}', 53))\n"
                + "try:\n"
                + $"    socket.create_connection(('{Server6}', 22), timeout=5).close()\n"
                + "except ConnectionRefusedError:\n"
                + "    pass\n"); // a refusal is an answer: the SYN passed and conntrack confirmed it

            bool Ours(TrackedConnection t) => !(t.Flow.Protocol == Domain.Networking.IpProtocol.Udp && t.Flow.DestinationPort is >= 40000 and < 41000 && t.Flow.DestinationPort < first);
            List<string> Seen(IEnumerable<TrackedConnection> connections) =>
                [.. connections.Where(Ours).Select(t => t.ToString()).Order(StringComparer.Ordinal)];
            List<string> text = [], binary = [];
            // Seven connections of ours (3 + 1 TCP, UDP, ICMP; UDP and TCP over IPv6), both readers caught up.
            await UntilAsync(() =>
            {
                text = Seen(lines.Select(ConntrackLine.ParseEvent).OfType<TrackedConnection>());
                binary = Seen(netlink);
                return text.Count >= 8 && binary.Count >= 8;
            }, TimeSpan.FromSeconds(30), "both readers saw the connections");
            await Task.Delay(500); // nothing more is coming: a late extra one on either side must show below
            text = Seen(lines.Select(ConntrackLine.ParseEvent).OfType<TrackedConnection>());
            binary = Seen(netlink);
            output.WriteLine(string.Join("\n", binary));
            Assert.Equal(text, binary);
            Assert.Equal(8, binary.Count);
            Assert.Equal(3, binary.Count(b => b.StartsWith($"TCP {Client}:", StringComparison.Ordinal) && b.EndsWith($"{Server}:22 (zone 7)", StringComparison.Ordinal)));
            Assert.Contains(binary, b => b.StartsWith($"ICMP {Client} -> {Server}", StringComparison.Ordinal) && b.EndsWith("(zone 7)", StringComparison.Ordinal));
            Assert.Contains(binary, b => b.StartsWith($"UDP {Client6}:", StringComparison.Ordinal) && b.EndsWith($"{Server6}:53 (zone 7)", StringComparison.Ordinal));
            Assert.Contains(binary, b => b.StartsWith($"TCP {Client6}:", StringComparison.Ordinal) && b.EndsWith($"{Server6}:22 (zone 7)", StringComparison.Ordinal));
            var counts = socket.Counts.Snapshot();
            output.WriteLine(counts.ToString());
            Assert.Equal(0, counts.Malformed);
            Assert.Equal(0, counts.Lost);

            if (Environment.GetEnvironmentVariable("PALISADE_CAPTURE_NETLINK") is { Length: > 0 } dir)
            {
                Directory.CreateDirectory(dir);
                await File.WriteAllLinesAsync(Path.Combine(dir, "conntrack-netlink-captured.hex"), datagrams.Select(Convert.ToHexString));
                await File.WriteAllLinesAsync(Path.Combine(dir, "conntrack-netlink-captured.txt"), lines);
            }
        }
        finally
        {
            await stop.CancelAsync();
            Assert.True(reading.Join(TimeSpan.FromSeconds(10)), "the reading thread ends when stopped");
            await draining.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(200);
        }
    }
}
