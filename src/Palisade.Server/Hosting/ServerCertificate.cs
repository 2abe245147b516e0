using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Palisade.Server.Hosting;

/// <summary>Where the HTTPS listener's certificate comes from.</summary>
public abstract record TlsSettings
{
    private TlsSettings()
    {
    }

    /// <summary>A PEM certificate (its chain may follow it in the same file) and its PEM private key.</summary>
    public sealed record PemFiles(string CertificateFile, string KeyFile) : TlsSettings;

    /// <summary>A certificate made by the server itself, for its listen addresses and <c>localhost</c>, kept in the data directory.</summary>
    public sealed record SelfSigned : TlsSettings;
}

/// <summary>A TLS setting that cannot be used: said in one line at start, never as a stack trace.</summary>
public sealed class TlsConfigurationException(string message) : Exception(message);

/// <summary>
/// The certificate the HTTPS listener presents, and the line <c>palisade serve</c> prints about it
/// (the path and SHA-256 fingerprint a client needs to trust a self-signed one).
/// </summary>
public sealed class ServerCertificate
{
    /// <summary>File names of the self-signed certificate in the data directory.</summary>
    public const string SelfSignedCertificateFile = "tls-self-signed.crt";

    public const string SelfSignedKeyFile = "tls-self-signed.key";

    /// <summary>A self-signed certificate is made again when it would expire within this long.</summary>
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private static readonly TimeSpan SelfSignedLifetime = TimeSpan.FromDays(825);

    private ServerCertificate(X509Certificate2? certificate, string? note)
    {
        Certificate = certificate;
        Note = note;
    }

    /// <summary>Null when no URL is HTTPS and no certificate was given.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>What to tell the operator at start; null when there is nothing to say.</summary>
    public string? Note { get; }

    /// <summary>The SHA-256 fingerprint as <c>openssl x509 -fingerprint -sha256</c> prints it.</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', SHA256.HashData(certificate.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>The HTTP(S) URLs of a <c>--urls</c> value (separated by <c>;</c>, as ASP.NET Core takes them).</summary>
    public static IReadOnlyList<Uri> ListenUrls(string urls)
    {
        var list = new List<Uri>();
        foreach (var text in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // '*' and '+' are ASP.NET Core's "every address"; Uri does not take them as a host.
            var parsable = text.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(parsable, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw new TlsConfigurationException($"--urls: '{text}' is not an http:// or https:// URL");
            list.Add(url);
        }
        return list;
    }

    /// <summary>Loads or makes the certificate the settings call for, or says in one line why it cannot.</summary>
    public static ServerCertificate Prepare(string urls, TlsSettings? tls, string dataDirectory, TimeProvider clock)
    {
        var listen = ListenUrls(urls);
        var https = listen.Any(u => u.Scheme == "https");
        switch (tls)
        {
            case null when https:
                throw new TlsConfigurationException("an https:// URL needs a certificate: give --tls-cert FILE --tls-key FILE, or --tls self-signed");
            case null:
                return new ServerCertificate(null, null);
            case TlsSettings.PemFiles files:
                var loaded = LoadPem(files.CertificateFile, files.KeyFile, clock);
                return new ServerCertificate(loaded, https
                    ? $"TLS certificate {Path.GetFullPath(files.CertificateFile)} for {Subjects(loaded)}, SHA-256 {Fingerprint(loaded)}"
                    : "--tls-cert is given but no URL is https://: the certificate is not used");
            case TlsSettings.SelfSigned:
                return SelfSigned(listen, dataDirectory, clock);
            default:
                throw new ArgumentOutOfRangeException(nameof(tls));
        }
    }

    private static X509Certificate2 LoadPem(string certificateFile, string keyFile, TimeProvider clock)
    {
        foreach (var (file, option) in new[] { (certificateFile, "--tls-cert"), (keyFile, "--tls-key") })
        {
            if (!File.Exists(file))
                throw new TlsConfigurationException($"{option} {file}: no such file");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (CryptographicException e)
        {
            throw new TlsConfigurationException($"--tls-cert {certificateFile} / --tls-key {keyFile}: {Explain(certificateFile, keyFile, e)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsConfigurationException($"--tls-cert {certificateFile} / --tls-key {keyFile}: {e.Message}");
        }
        var now = clock.GetUtcNow();
        if (certificate.NotAfter.ToUniversalTime() < now.UtcDateTime)
            throw new TlsConfigurationException($"--tls-cert {certificateFile}: the certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}");
        return certificate;
    }

    /// <summary>.NET says "malformed or does not match" in one message: tell the two cases apart for the operator.</summary>
    private static string Explain(string certificateFile, string keyFile, CryptographicException e)
    {
        string Read(string path)
        {
            try
            {
                return File.ReadAllText(path);
            }
            catch (Exception io) when (io is IOException or UnauthorizedAccessException)
            {
                return "";
            }
        }
        var certificateText = Read(certificateFile);
        var keyText = Read(keyFile);
        if (!certificateText.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            return "the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
        if (keyText.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal) || keyText.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
            return "the private key is encrypted; give it unencrypted (e.g. openssl pkey -in KEY -out PLAIN)";
        if (!System.Text.RegularExpressions.Regex.IsMatch(keyText, "-----BEGIN (RSA |EC )?PRIVATE KEY-----"))
            return "the key file holds no PEM private key (-----BEGIN PRIVATE KEY-----)";
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(certificateText);
        }
        catch (CryptographicException)
        {
            return "the certificate file is not a valid PEM certificate";
        }
        return e.Message.Contains("does not match", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("key", StringComparison.OrdinalIgnoreCase)
            ? "the private key does not belong to the certificate (or cannot be read)"
            : e.Message;
    }

    private static string Subjects(X509Certificate2 certificate)
    {
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(s => s.EnumerateDnsNames().Concat(s.EnumerateIPAddresses().Select(a => a.ToString())))
            .ToList();
        return names.Count > 0 ? string.Join(", ", names) : certificate.Subject;
    }

    /// <summary>The names a self-signed certificate must hold: localhost, the loopback addresses, each listen host (every address of this host for 0.0.0.0 / ::).</summary>
    private static (SortedSet<string> Dns, List<IPAddress> Addresses) Names(IReadOnlyList<Uri> listen)
    {
        var dns = new SortedSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost" };
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        void AddAddress(IPAddress a)
        {
            if (!addresses.Contains(a))
                addresses.Add(a);
        }
        foreach (var url in listen.Where(u => u.Scheme == "https"))
        {
            var host = url.Host.Trim('[', ']');
            if (IPAddress.TryParse(host, out var address))
            {
                if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
                {
                    dns.Add(Dns.GetHostName());
                    try
                    {
                        foreach (var own in Dns.GetHostAddresses(Dns.GetHostName()))
                            AddAddress(own);
                    }
                    catch (System.Net.Sockets.SocketException)
                    {
                        // The host's own name may not resolve; its name is in the certificate anyway.
                    }
                }
                else
                    AddAddress(address);
            }
            else
                dns.Add(host);
        }
        return (dns, addresses);
    }

    private static ServerCertificate SelfSigned(IReadOnlyList<Uri> listen, string dataDirectory, TimeProvider clock)
    {
        var certificateFile = Path.Combine(Path.GetFullPath(dataDirectory), SelfSignedCertificateFile);
        var keyFile = Path.Combine(Path.GetFullPath(dataDirectory), SelfSignedKeyFile);
        var (dns, addresses) = Names(listen);
        var now = clock.GetUtcNow();
        string made;
        if (File.Exists(certificateFile) && File.Exists(keyFile))
        {
            var existing = LoadPem(certificateFile, keyFile, clock);
            if (Covers(existing, dns, addresses) && existing.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore)
                return new ServerCertificate(existing, Describe("using the self-signed", certificateFile, existing));
            made = "made a new self-signed";
        }
        else
            made = "made a self-signed";

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Palisade self-signed", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in dns)
            san.AddDnsName(name);
        foreach (var address in addresses)
            san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(SelfSignedLifetime));
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
            WritePrivate(keyFile, key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(certificateFile, created.ExportCertificatePem() + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsConfigurationException($"--tls self-signed: cannot write {certificateFile}: {e.Message}");
        }
        var certificate = LoadPem(certificateFile, keyFile, clock);
        return new ServerCertificate(certificate, Describe(made, certificateFile, certificate));
    }

    private static string Describe(string what, string file, X509Certificate2 certificate) =>
        $"{what} TLS certificate {file} for {Subjects(certificate)}, SHA-256 {Fingerprint(certificate)} "
        + "(trust it with SSL_CERT_FILE, NODE_EXTRA_CA_CERTS or --ca-cert)";

    private static bool Covers(X509Certificate2 certificate, SortedSet<string> dns, List<IPAddress> addresses)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
            return false;
        var names = san.EnumerateDnsNames().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var ips = san.EnumerateIPAddresses().ToHashSet();
        return dns.All(names.Contains) && addresses.All(ips.Contains);
    }

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(text + "\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
