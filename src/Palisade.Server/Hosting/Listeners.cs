using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Palisade.Server.Hosting;

/// <summary>
/// The listeners of <c>--urls</c> (and <c>--metrics-urls</c>), bound one by one rather than through
/// <c>UseUrls</c>: an HTTPS listener needs a connection middleware after Kestrel's TLS, which only an
/// explicitly configured endpoint can take (Kestrel adds its TLS last to the endpoints it makes from URLs).
/// </summary>
internal static class Listeners
{
    /// <summary>The listen addresses of a <c>;</c>-separated list, parsed as Kestrel parses them; a bad one is said in one line.</summary>
    public static IReadOnlyList<BindingAddress> Parse(string urls)
    {
        var addresses = new List<BindingAddress>();
        foreach (var text in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(text);
            }
            catch (FormatException e)
            {
                throw new TlsConfigurationException($"--urls: '{text}' is not a listen URL: {e.Message}");
            }
            if (!IsHttps(address) && !string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase))
                throw new TlsConfigurationException($"--urls: '{text}' is not an http:// or https:// URL");
            // Kestrel refuses a path base in a listen URL, and only at start: say it now.
            if (address.PathBase.Length > 0)
                throw new TlsConfigurationException($"--urls: '{text}' has a path ('{address.PathBase}'); a listen URL is a scheme, a host and a port");
            addresses.Add(address);
        }
        return addresses;
    }

    /// <summary>Binds each address as Kestrel binds a URL: localhost on both loopbacks, an IP address on itself, anything else (<c>*</c>, <c>+</c>, a host name) on every address.</summary>
    public static void Bind(KestrelServerOptions kestrel, IReadOnlyList<BindingAddress> addresses, TlsOutput tlsOutput = TlsOutput.GatheredRecords)
    {
        foreach (var address in addresses)
        {
            Action<ListenOptions> configure = !IsHttps(address) ? _ => { } : listen => UseHttps(listen, tlsOutput);
            var host = address.Host.Trim('[', ']');
            if (address.IsUnixPipe)
                kestrel.ListenUnixSocket(address.UnixPipePath, configure);
            else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
                kestrel.ListenLocalhost(address.Port, configure);
            else if (IPAddress.TryParse(host, out var ip))
                kestrel.Listen(ip, address.Port, configure);
            else
                kestrel.ListenAnyIP(address.Port, configure);
        }
    }

    public static bool IsHttps(BindingAddress address) => string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase);

    private static void UseHttps(ListenOptions listen, TlsOutput output)
    {
        if (output == TlsOutput.GatheredRecords)
            listen.Use(TlsRecords.BelowTls); // first: what SslStream writes goes through it
        listen.UseHttps(); // the certificate and options of ConfigureHttpsDefaults
        if (output != TlsOutput.Kestrels)
            listen.Use(TlsRecords.AboveTls);
    }
}

/// <summary>How answers leave an HTTPS listener (<see cref="TlsRecords"/>).</summary>
internal enum TlsOutput
{
    /// <summary>Records of 16 KiB, an answer's records sent together: what is served.</summary>
    GatheredRecords,

    /// <summary>Records of 16 KiB, each record sent on its own.</summary>
    Records,

    /// <summary>Kestrel's own output: a record per 4 KiB memory block, each sent on its own.</summary>
    Kestrels,
}

/// <summary>
/// Gives TLS whole records of an answer, and sends an answer's records in one go. Kestrel's own TLS
/// output is a pipe of its 4 KiB memory blocks, and <see cref="SslStream"/> seals each block written to
/// it as one TLS record: a 60 KB answer left as ~15 records, each one sealed, sent and opened by the
/// client on its own. Above TLS (<see cref="AboveTls"/>, after Kestrel's handshake) this output pipe
/// has segments of <see cref="SegmentBytes"/>, so the same answer leaves in ~4 writes of 16 KiB, TLS's
/// largest record. Below TLS (<see cref="BelowTls"/>) each sealed record is still written to the
/// socket's pipe with a flush of its own (Kestrel's stream under SslStream flushes every write), so one
/// answer woke the socket's sender and made a send call per record; while an answer is being flushed
/// its records are only gathered, and SslStream's flush at the end of the answer sends them together,
/// as an HTTP answer is sent (benchmark: docs/benchmarks.md, "HTTPS against HTTP"). Reading, the
/// handshake, ALPN, the certificate and the TLS features stay Kestrel's; what SslStream writes on its
/// own (handshake, alerts, session tickets, key updates) is flushed at once as before.
/// </summary>
internal static class TlsRecords
{
    /// <summary>2^14, the most plaintext one TLS record carries (RFC 8446 §5.1).</summary>
    public const int SegmentBytes = 16 * 1024;

    /// <summary>The most an answer gathers below TLS before it is sent anyway: a large answer still streams.</summary>
    public const int GatherBytes = 256 * 1024;

    /// <summary>Before Kestrel's TLS: the socket's output as SslStream will write to it, able to gather.</summary>
    public static ConnectionDelegate BelowTls(ConnectionDelegate next) => async connection =>
    {
        var socket = connection.Transport;
        var records = new GatheringOutput(socket.Output);
        connection.Features.Set(records);
        connection.Transport = new Transport(socket.Input, records);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = socket;
        }
    };

    /// <summary>After Kestrel's TLS: answers written to SslStream in whole records, each answer's records gathered below.</summary>
    public static ConnectionDelegate AboveTls(ConnectionDelegate next) => async connection =>
    {
        if (connection.Features.Get<ISslStreamFeature>()?.SslStream is not { } tls)
        {
            await next(connection);
            return;
        }
        var kestrels = connection.Transport;
        // No pool: Kestrel's blocks are 4 KiB at most; the shared array pool lends 16 KiB arrays.
        var records = PipeWriter.Create(tls, new StreamPipeWriterOptions(minimumBufferSize: SegmentBytes, leaveOpen: true));
        var output = connection.Features.Get<GatheringOutput>() is { } below ? new AnswerOutput(records, below) : records;
        connection.Transport = new Transport(kestrels.Input, output);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = kestrels;
            try
            {
                // Whatever is still buffered is written; Kestrel then closes the TLS stream itself.
                await output.CompleteAsync();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
            {
                // The peer has gone: there is no one left to write to.
            }
        }
    };

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>
    /// The socket's output under SslStream. A write while an answer is being flushed is gathered (copied
    /// into the pipe, not flushed) up to <see cref="GatherBytes"/>; every other write, and every flush,
    /// is the socket pipe's own.
    /// </summary>
    internal sealed class GatheringOutput(PipeWriter socket) : PipeWriter
    {
        private int answers;
        private long gathered;

        public void BeginAnswer() => Interlocked.Increment(ref answers);

        public void EndAnswer() => Interlocked.Decrement(ref answers);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref answers) == 0 || gathered + source.Length > GatherBytes)
            {
                gathered = 0;
                return socket.WriteAsync(source, cancellationToken);
            }
            socket.Write(source.Span);
            gathered += source.Length;
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            gathered = 0;
            return socket.FlushAsync(cancellationToken);
        }

        public override void Advance(int bytes) => socket.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => socket.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => socket.GetSpan(sizeHint);

        public override void CancelPendingFlush() => socket.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => socket.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => socket.CompleteAsync(exception);
    }

    /// <summary>The answers' output above TLS: each flush (one answer, or a part of a long one) tells the output below to gather its records.</summary>
    private sealed class AnswerOutput(PipeWriter records, GatheringOutput below) : PipeWriter
    {
        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            below.BeginAnswer();
            try
            {
                return await records.FlushAsync(cancellationToken);
            }
            finally
            {
                below.EndAnswer();
            }
        }

        public override async ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            below.BeginAnswer();
            try
            {
                return await records.WriteAsync(source, cancellationToken);
            }
            finally
            {
                below.EndAnswer();
            }
        }

        public override void Advance(int bytes) => records.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => records.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => records.GetSpan(sizeHint);

        public override void CancelPendingFlush() => records.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => records.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => records.CompleteAsync(exception);
    }
}
