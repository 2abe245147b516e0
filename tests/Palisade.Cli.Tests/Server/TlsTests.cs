using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// <c>palisade serve</c> over HTTPS (PEM files and <c>--tls self-signed</c>, next to HTTP) and the
/// CLI's <c>--ca-cert</c>, with certificates made here, at test time, by a throwaway CA.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "palisade-tls-" + Guid.NewGuid().ToString("N"));

    public TlsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A CA and a server certificate it signed for <paramref name="names"/>: the paths of ca.crt, server.crt, server.key.</summary>
    private (string Ca, string Certificate, string Key) MakeCa(string prefix, params string[] names)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Palisade test CA {prefix}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=palisade test server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
                san.AddIpAddress(address);
            else
                san.AddDnsName(name);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddDays(-1), now.AddDays(30), [1, 2, 3, 4, 5, 6, 7, 8]);

        string Write(string name, string text)
        {
            var path = Path.Combine(_dir, $"{prefix}-{name}");
            File.WriteAllText(path, text);
            return path;
        }
        return (Write("ca.crt", ca.ExportCertificatePem()), Write("server.crt", server.ExportCertificatePem()), Write("server.key", key.ExportPkcs8PrivateKeyPem()));
    }

    private async Task<(WebApplication App, string Http, string Https, string Credentials)> Start(string data, TlsSettings tls)
    {
        File.WriteAllText(Path.Combine(data, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings { Urls = "http://127.0.0.1:0;https://127.0.0.1:0", DataDirectory = data, Tls = tls });
        await app.StartAsync();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var key = accounts.CreateAccessKey(accounts.CreateAccount("tls").AccountId);
        var credentials = Path.Combine(data, "tls-credentials");
        File.WriteAllText(credentials, $"access_key_id={key.AccessKeyId}\naccess_key_secret={key.AccessKeySecret}\n");
        return (app, app.Urls.Single(u => u.StartsWith("http://", StringComparison.Ordinal)), app.Urls.Single(u => u.StartsWith("https://", StringComparison.Ordinal)), credentials);
    }

    [Fact]
    public async Task PemFiles_ServeHttpsNextToHttp_AndTheCliTrustsThemWithCaCert()
    {
        var (ca, certificate, key) = MakeCa("good", "localhost", "127.0.0.1");
        var data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        var (app, http, https, credentials) = await Start(data, new TlsSettings.PemFiles(certificate, key));
        await using (app)
        {
            var overHttps = CliTester.Run("region", "list", "--server", https, "--credentials", credentials, "--ca-cert", ca);
            Assert.True(overHttps.ExitCode == 0, overHttps.Error);
            Assert.Contains("cn-hangzhou", overHttps.Output, StringComparison.Ordinal);
            var overHttp = CliTester.Run("region", "list", "--server", http, "--credentials", credentials);
            Assert.Equal(overHttps.Output, overHttp.Output);

            // Without the CA the system does not trust the server: one line, which says what to do.
            var untrusted = CliTester.Run("region", "list", "--server", https, "--credentials", credentials);
            Assert.Equal(ExitCodes.Unavailable, untrusted.ExitCode);
            Assert.Single(untrusted.Error.TrimEnd('\n').Split('\n'));
            Assert.Contains("The remote certificate is invalid because of errors in the certificate chain", untrusted.Error, StringComparison.Ordinal);
            Assert.Contains("--ca-cert", untrusted.Error, StringComparison.Ordinal);

            // Another CA does not vouch for it.
            var (otherCa, _, _) = MakeCa("other", "127.0.0.1");
            var otherOutcome = CliTester.Run("region", "list", "--server", https, "--credentials", credentials, "--ca-cert", otherCa);
            Assert.Equal(ExitCodes.Unavailable, otherOutcome.ExitCode);
            Assert.Contains($"The remote certificate does not chain to a certificate of {otherCa}", otherOutcome.Error, StringComparison.Ordinal);

            // A CA file that is not one.
            var notPem = Path.Combine(_dir, "not.pem");
            File.WriteAllText(notPem, "hello\n");
            var bad = CliTester.Run("region", "list", "--server", https, "--credentials", credentials, "--ca-cert", notPem);
            Assert.Equal(ExitCodes.BadInput, bad.ExitCode);
            Assert.Equal($"error: --ca-cert {notPem}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n", bad.Error);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task CaCert_NeverForgivesAHostNameTheCertificateDoesNotName()
    {
        var (ca, certificate, key) = MakeCa("name", "other.example");
        var data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        var (app, _, https, credentials) = await Start(data, new TlsSettings.PemFiles(certificate, key));
        await using (app)
        {
            var outcome = CliTester.Run("region", "list", "--server", https, "--credentials", credentials, "--ca-cert", ca);
            Assert.Equal(ExitCodes.Unavailable, outcome.ExitCode);
            Assert.Contains("RemoteCertificateNameMismatch", outcome.Error, StringComparison.Ordinal);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task SelfSigned_IsMadeOnce_ForTheListenAddressesAndLocalhost_AndItsFingerprintIsPrinted()
    {
        var data = Path.Combine(_dir, "self");
        Directory.CreateDirectory(data);
        var (app, _, https, credentials) = await Start(data, new TlsSettings.SelfSigned());
        string note;
        string fingerprint;
        var file = Path.Combine(data, ServerCertificate.SelfSignedCertificateFile);
        await using (app)
        {
            note = app.Services.GetRequiredService<ServerCertificate>().Note!;
            using var made = X509Certificate2.CreateFromPem(File.ReadAllText(file));
            fingerprint = Convert.ToHexString(SHA256.HashData(made.RawData));
            Assert.StartsWith($"made a self-signed TLS certificate {file} for localhost, 127.0.0.1, ::1, SHA-256 ", note, StringComparison.Ordinal);
            Assert.Contains(string.Join(':', fingerprint.Chunk(2).Select(c => new string(c))), note, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, ServerCertificate.SelfSignedKeyFile)));

            var outcome = CliTester.Run("region", "list", "--server", https, "--credentials", credentials, "--ca-cert", file);
            Assert.True(outcome.ExitCode == 0, outcome.Error);
            var byName = CliTester.Run("region", "list", "--server", https.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), "--credentials", credentials, "--ca-cert", file);
            Assert.True(byName.ExitCode == 0, byName.Error);
            await app.StopAsync();
        }

        // The second start uses the same certificate: clients that trust it keep trusting it.
        File.Delete(Path.Combine(data, "tls-credentials"));
        var again = PalisadeServer.Build(new ServeSettings { Urls = "https://127.0.0.1:0", DataDirectory = data, Tls = new TlsSettings.SelfSigned() });
        await using (again)
        {
            var second = again.Services.GetRequiredService<ServerCertificate>();
            Assert.Equal(fingerprint, Convert.ToHexString(SHA256.HashData(second.Certificate!.RawData)));
            Assert.StartsWith($"using the self-signed TLS certificate {file}", second.Note, StringComparison.Ordinal);
        }

        // A new listen address the certificate does not name: a new certificate that names it.
        var moved = PalisadeServer.Build(new ServeSettings { Urls = "https://127.0.0.2:0", DataDirectory = data, Tls = new TlsSettings.SelfSigned() });
        await using (moved)
        {
            var third = moved.Services.GetRequiredService<ServerCertificate>();
            Assert.NotEqual(fingerprint, Convert.ToHexString(SHA256.HashData(third.Certificate!.RawData)));
            Assert.StartsWith("made a new self-signed TLS certificate", third.Note, StringComparison.Ordinal);
            Assert.Contains("127.0.0.2", third.Note, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string> BadStarts => ["missing-cert", "missing-key", "cert-not-pem", "key-not-pem", "key-of-another", "encrypted-key", "https-without-cert", "cert-without-key", "both-kinds", "bad-url"];

    [Theory]
    [MemberData(nameof(BadStarts))]
    public void BadCertificateOrKeyFiles_GetOneLine_AtStart(string kind)
    {
        var (_, certificate, key) = MakeCa("bad", "127.0.0.1");
        var (_, _, otherKey) = MakeCa("bad2", "127.0.0.1");
        var garbage = Path.Combine(_dir, "garbage.pem");
        File.WriteAllText(garbage, "not a pem file\n");
        var encrypted = Path.Combine(_dir, "encrypted.key");
        using (var rsa = RSA.Create(2048))
            File.WriteAllText(encrypted, rsa.ExportEncryptedPkcs8PrivateKeyPem("secret", new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000)));
        var missing = Path.Combine(_dir, "missing.pem");
        string[] https = ["--urls", "https://127.0.0.1:0", "--data", Path.Combine(_dir, "data")];
        var (args, expected) = kind switch
        {
            "missing-cert" => ((string[])[.. https, "--tls-cert", missing, "--tls-key", key], $"error: --tls-cert {missing}: no such file"),
            "missing-key" => ([.. https, "--tls-cert", certificate, "--tls-key", missing], $"error: --tls-key {missing}: no such file"),
            "cert-not-pem" => ([.. https, "--tls-cert", garbage, "--tls-key", key], $"error: --tls-cert {garbage} / --tls-key {key}: the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
            "key-not-pem" => ([.. https, "--tls-cert", certificate, "--tls-key", garbage], $"error: --tls-cert {certificate} / --tls-key {garbage}: the key file holds no PEM private key (-----BEGIN PRIVATE KEY-----)"),
            "key-of-another" => ([.. https, "--tls-cert", certificate, "--tls-key", otherKey], $"error: --tls-cert {certificate} / --tls-key {otherKey}: the private key does not belong to the certificate (or cannot be read)"),
            "encrypted-key" => ([.. https, "--tls-cert", certificate, "--tls-key", encrypted], $"error: --tls-cert {certificate} / --tls-key {encrypted}: the private key is encrypted; give it unencrypted (e.g. openssl pkey -in KEY -out PLAIN)"),
            "https-without-cert" => (https, "error: an https:// URL needs a certificate: give --tls-cert FILE --tls-key FILE, or --tls self-signed"),
            "cert-without-key" => ([.. https, "--tls-cert", certificate], "--tls-cert and --tls-key go together."),
            "both-kinds" => ([.. https, "--tls-cert", certificate, "--tls-key", key, "--tls", "self-signed"], "give either --tls-cert and --tls-key or --tls self-signed, not both."),
            "bad-url" => (["--urls", "ftp://127.0.0.1:0", "--data", Path.Combine(_dir, "data")], "error: --urls: 'ftp://127.0.0.1:0' is not an http:// or https:// URL"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var outcome = CliTester.Run(["serve", .. args]);
        Assert.Equal(ExitCodes.BadInput, outcome.ExitCode);
        Assert.DoesNotContain("   at ", outcome.Error, StringComparison.Ordinal);
        Assert.Contains(expected, outcome.Error, StringComparison.Ordinal);
        if (expected.StartsWith("error: ", StringComparison.Ordinal))
            Assert.Equal(expected + "\n", outcome.Error);
        Assert.False(File.Exists(Path.Combine(_dir, "data", "palisade.db")), "a refused start must create no store");
    }
}
