using System.Security.Cryptography;
using System.Text;

namespace Palisade.Storage.Accounts;

/// <summary>
/// Encrypts AccessKey secrets at rest with AES-256-GCM. Signatures need the plain secret, so it
/// cannot be hashed; the master key lives outside the database (<c>DIR/master.key</c>, mode 0600,
/// or <c>PALISADE_MASTER_KEY</c> as base64), so a stolen database file alone reveals no secret.
/// </summary>
public sealed class SecretProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretProtector(byte[] key)
    {
        if (key.Length != 32)
            throw new ArgumentException("The master key must be 32 bytes.", nameof(key));
        _key = key;
    }

    /// <summary>The master key from the environment, else from <paramref name="path"/>, created there (0600) on first use.</summary>
    public static SecretProtector ForDataDirectory(string path)
    {
        if (Environment.GetEnvironmentVariable("PALISADE_MASTER_KEY") is { Length: > 0 } fromEnvironment)
            return new SecretProtector(Convert.FromBase64String(fromEnvironment));
        if (!File.Exists(path))
        {
            var key = RandomNumberGenerator.GetBytes(32);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                using var stream = new FileStream(path, options);
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key)));
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another node on the same directory made it first; use theirs.
            }
        }
        return new SecretProtector(Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }

    public byte[] Protect(string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        return output;
    }

    public string Unprotect(byte[] protectedSecret)
    {
        var plain = new byte[protectedSecret.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(protectedSecret.AsSpan(0, NonceSize), protectedSecret.AsSpan(NonceSize + TagSize), protectedSecret.AsSpan(NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
