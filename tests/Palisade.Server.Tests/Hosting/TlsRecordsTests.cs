using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Quotas;
using Palisade.Server.Hosting;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.ServerHosting;

/// <summary>
/// Issue 15: a 60 KB answer over HTTPS left Kestrel as ~15 TLS records of 4 KiB (one per memory block
/// of its output pipe), which cost the HTTPS listener 40 % of HTTP's reads/s. A real node on
/// 127.0.0.1 with its self-signed certificate; the client counts the TLS records as they arrive on
/// the socket, below its own TLS.
/// </summary>
public sealed class TlsRecordsTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-records-" + Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;
    private AccountService.NewKey _key = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "master.key"), Convert.ToBase64String(new byte[32]));
        _app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0;https://127.0.0.1:0",
            DataDirectory = _data,
            Tls = new TlsSettings.SelfSigned(),
            Options = new ServerOptions { Throttling = Throttling.Off },
        });
        await _app.StartAsync();
        var accounts = _app.Services.GetRequiredService<AccountService>();
        _key = accounts.CreateAccessKey(accounts.CreateAccount("records").AccountId);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private string Url(string scheme) => _app.Urls.Single(u => u.StartsWith(scheme + "://", StringComparison.Ordinal));

    /// <summary>A client on one connection whose raw bytes from the server pass through <paramref name="records"/>.</summary>
    private EcsClient Client(string scheme, RecordCounter? records = null)
    {
        var handler = CaCertificates.Handler(Path.Combine(_data, ServerCertificate.SelfSignedCertificateFile));
        handler.MaxConnectionsPerServer = 1;
        if (records is not null)
        {
            handler.ConnectCallback = async (context, cancel) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancel);
                return records.Wrap(new NetworkStream(socket, ownsSocket: true));
            };
        }
        return new EcsClient(new HttpClient(handler) { BaseAddress = new Uri(Url(scheme)) }, new ClientCredentials(_key.AccessKeyId, _key.AccessKeySecret));
    }

    [Fact]
    public async Task ALargeAnswer_LeavesInRecordsOf16KiB_AndIsTheSameAnswerAsOverHttp()
    {
        var plain = Client("http");
        var vpc = (await plain.CallAsync("CreateVpc", new { RegionId = "cn-hangzhou", CidrBlock = "10.0.0.0/8" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var group = (await plain.CallAsync("CreateSecurityGroup", new { RegionId = "cn-hangzhou", VpcId = vpc })).GetProperty("SecurityGroupId").GetString()!;
        for (var batch = 0; batch < 2; batch++)
        {
            await plain.CallAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new
            {
                RegionId = "cn-hangzhou",
                SecurityGroupId = group,
                Permissions = Enumerable.Range(1, 100).Select(i => new { IpProtocol = "tcp", PortRange = $"{batch * 100 + i}/{batch * 100 + i}", SourceCidrIp = $"10.{i}.0.0/16", Description = "a rule of a large answer" }).ToArray(),
            }));
        }
        var records = new RecordCounter();
        var secure = Client("https", records);
        await secure.CallAsync("DescribeRegions"); // the handshake and its tickets are behind us
        var describe = new KeyValuePair<string, string>[] { new("RegionId", "cn-hangzhou"), new("SecurityGroupId", group) };
        // Twice: the first answer is rendered, the second comes from the read cache, in its three pieces.
        foreach (var _ in new[] { "rendered", "cached" })
        {
            records.Reset();
            var overTls = await secure.CallAsync("DescribeSecurityGroupAttribute", describe);
            var (count, payload) = records.Snapshot();
            var overHttp = await plain.CallAsync("DescribeSecurityGroupAttribute", describe);

            Assert.Equal(200, overTls.GetProperty("Permissions").GetProperty("Permission").GetArrayLength());
            Assert.Equal(WithoutRequestId(overHttp), WithoutRequestId(overTls));
            Assert.True(payload > 50_000, $"the answer is large: {payload} bytes of records");
            // Full records of 2^14 bytes (each sealed record carries 17 bytes more: its type and tag).
            var fewest = (int)Math.Ceiling(payload / (16_384.0 + 17));
            Assert.True(count <= fewest + 1, $"{count} TLS records for {payload} bytes; {fewest} would do (Kestrel's own output made ~15 records of 4 KiB)");
        }
    }

    private static string WithoutRequestId(JsonElement answer) =>
        JsonSerializer.Serialize(answer.EnumerateObject().Where(p => p.Name != "RequestId").ToDictionary(p => p.Name, p => p.Value));

    [Theory]
    [InlineData("ftp://127.0.0.1:21", "is not an http:// or https:// URL")]
    [InlineData("http://127.0.0.1:8080/ecs", "has a path")]
    public void AListenUrlKestrelWouldRefuse_IsSaidInOneLine_BeforeStart(string urls, string said)
    {
        var e = Assert.Throws<TlsConfigurationException>(() => PalisadeServer.Build(new ServeSettings { Urls = urls, DataDirectory = _data }));
        Assert.Contains(said, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task EveryAddressAndLocalhost_AreBoundAsKestrelBindsThem()
    {
        var port = FreePort();
        var data = Path.Combine(_data, "any");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "master.key"), Convert.ToBase64String(new byte[32]));
        await using var app = PalisadeServer.Build(new ServeSettings { Urls = $"http://*:{port};https://localhost:{FreePort()}", DataDirectory = data, Tls = new TlsSettings.SelfSigned() });
        await app.StartAsync();
        try
        {
            Assert.Contains($"http://[::]:{port}", app.Urls);
            Assert.Contains(app.Urls, u => u.StartsWith("https://localhost:", StringComparison.Ordinal));
            using var http = new HttpClient();
            Assert.Equal("ok\n", await http.GetStringAsync($"http://127.0.0.1:{port}/healthz"));
            using var https = new HttpClient(CaCertificates.Handler(Path.Combine(data, ServerCertificate.SelfSignedCertificateFile)));
            Assert.Equal("ok\n", await https.GetStringAsync(app.Urls.Single(u => u.StartsWith("https://", StringComparison.Ordinal)) + "/healthz"));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Counts the TLS records (5-byte header: type, version, length) the server sends, as they pass.</summary>
    private sealed class RecordCounter
    {
        private readonly Lock _lock = new();
        private readonly byte[] _header = new byte[5];
        private int _headerHave;
        private int _bodyLeft;
        private int _records;
        private long _payload;

        public Stream Wrap(Stream inner) => new Counting(inner, this);

        public void Reset()
        {
            lock (_lock)
            {
                _records = 0;
                _payload = 0;
            }
        }

        public (int Records, long Payload) Snapshot()
        {
            lock (_lock)
                return (_records, _payload);
        }

        private void Saw(ReadOnlySpan<byte> bytes)
        {
            lock (_lock)
            {
                while (bytes.Length > 0)
                {
                    if (_bodyLeft > 0)
                    {
                        var n = Math.Min(_bodyLeft, bytes.Length);
                        _bodyLeft -= n;
                        bytes = bytes[n..];
                        continue;
                    }
                    _header[_headerHave++] = bytes[0];
                    bytes = bytes[1..];
                    if (_headerHave < 5)
                        continue;
                    _headerHave = 0;
                    _bodyLeft = (_header[3] << 8) | _header[4];
                    if (_header[0] == 23) // application data (in TLS 1.3 every record after the handshake)
                    {
                        _records++;
                        _payload += _bodyLeft;
                    }
                }
            }
        }

        private sealed class Counting(Stream inner, RecordCounter counter) : Stream
        {
            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var n = await inner.ReadAsync(buffer, cancellationToken);
                counter.Saw(buffer.Span[..n]);
                return n;
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                var n = inner.Read(buffer, offset, count);
                counter.Saw(buffer.AsSpan(offset, n));
                return n;
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

            public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

            public override void Flush() => inner.Flush();

            public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                    inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
