using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Palisade.Client;

/// <summary>
/// <c>--ca-cert FILE</c>: a server whose certificate chains to one of the PEM certificates in FILE
/// (a private CA, or <c>palisade serve --tls self-signed</c>'s own certificate) is trusted as well as
/// those the system trusts. The host name must still match; nothing else is relaxed.
/// </summary>
public static class CaCertificates
{
    /// <summary>The certificates of a PEM file, or an <see cref="InvalidOperationException"/> saying in one line why not.</summary>
    public static X509Certificate2Collection Read(string file)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPemFile(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"--ca-cert {file}: {e.Message}");
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"--ca-cert {file}: not a PEM certificate file ({e.Message})");
        }
        if (collection.Count == 0)
            throw new InvalidOperationException($"--ca-cert {file}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return collection;
    }

    /// <summary>A handler that trusts the system's roots and those of <paramref name="file"/>; the system's alone when null.</summary>
    public static SocketsHttpHandler Handler(string? file)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (file is null)
            return handler;
        var roots = Read(file);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            errors == SslPolicyErrors.None || Chains(certificate, chain, errors, roots, file);
        return handler;
    }

    /// <remarks>
    /// A rejection throws rather than returning false, so that the reason reaches the user: .NET
    /// would otherwise say only that the callback refused the certificate.
    /// </remarks>
    private static bool Chains(X509Certificate? presented, X509Chain? sent, SslPolicyErrors errors, X509Certificate2Collection roots, string file)
    {
        // A name mismatch or a missing certificate is never forgiven: only the trust anchor is added.
        if (presented is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            throw new AuthenticationException("The server sent no certificate (RemoteCertificateNotAvailable).");
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            throw new AuthenticationException("The remote certificate does not name the host of the URL (RemoteCertificateNameMismatch).");
        using var leaf = new X509Certificate2(presented);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (sent is not null)
        {
            foreach (var element in sent.ChainElements)
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        if (chain.Build(leaf))
            return true;
        var status = string.Join(", ", chain.ChainStatus.Select(c => c.Status).Distinct());
        throw new AuthenticationException($"The remote certificate does not chain to a certificate of {file} ({status}).");
    }
}
