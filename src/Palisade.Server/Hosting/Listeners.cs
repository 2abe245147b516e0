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
    public static void Bind(KestrelServerOptions kestrel, IReadOnlyList<BindingAddress> addresses, bool largeTlsRecords = true)
    {
        foreach (var address in addresses)
        {
            Action<ListenOptions> configure = !IsHttps(address) ? _ => { } : largeTlsRecords ? UseLargeTlsRecords : listen => listen.UseHttps();
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

    private static void UseLargeTlsRecords(ListenOptions listen)
    {
        listen.UseHttps(); // the certificate and options of ConfigureHttpsDefaults
        listen.Use(TlsRecords.Middleware);
    }
}

/// <summary>
/// Gives TLS whole records of an answer. Kestrel's own TLS output is a pipe of its 4 KiB memory blocks,
/// and <see cref="SslStream"/> seals each block written to it as one TLS record: a 60 KB answer left as
/// ~15 records, each one sealed, sent and opened by the client on its own. This output pipe has
/// segments of <see cref="SegmentBytes"/>, so the same answer leaves in ~4 writes of 16 KiB, TLS's
/// largest record (benchmark: docs/benchmarks.md, "HTTPS against HTTP"). Reading, the handshake,
/// ALPN, the certificate and the TLS features stay Kestrel's.
/// </summary>
internal static class TlsRecords
{
    /// <summary>2^14, the most plaintext one TLS record carries (RFC 8446 §5.1).</summary>
    public const int SegmentBytes = 16 * 1024;

    public static ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        if (connection.Features.Get<ISslStreamFeature>()?.SslStream is not { } tls)
        {
            await next(connection);
            return;
        }
        var kestrels = connection.Transport;
        // No pool: Kestrel's blocks are 4 KiB at most; the shared array pool lends 16 KiB arrays.
        var output = PipeWriter.Create(tls, new StreamPipeWriterOptions(minimumBufferSize: SegmentBytes, leaveOpen: true));
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
}
