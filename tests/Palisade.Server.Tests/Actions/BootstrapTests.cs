using Palisade.Client;
using Palisade.Storage.Accounts;
using Palisade.Server.Accounts;
using Palisade.Server.Hosting;
using Palisade.Storage.Sqlite;

namespace Palisade.Server.Tests.Actions;

/// <summary>The first start of a control plane makes the first account and its key, and says where it is.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BootstrapTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-boot-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private (Bootstrap Bootstrap, AccountService Accounts, SqliteStore Store) Make()
    {
        Directory.CreateDirectory(_directory);
        var store = new SqliteStore(Path.Combine(_directory, "palisade.db"));
        var accounts = new AccountService(store, SecretProtector.ForDataDirectory(Path.Combine(_directory, "master.key")), TimeProvider.System);
        return (new Bootstrap(store, accounts, new ServeSettings { DataDirectory = _directory }), accounts, store);
    }

    [Fact]
    public void WithoutEnvironment_AKeyIsWrittenToAPrivateFile_Once()
    {
        var (bootstrap, accounts, store) = Make();
        using (store)
        {
            var note = bootstrap.EnsureFirstAccount();
            Assert.Contains("credentials", note);
            var path = Path.Combine(_directory, "credentials");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "master.key")));
            var lines = File.ReadAllLines(path).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
            var key = accounts.FindKey(lines["access_key_id"])!;
            Assert.Equal(lines["access_key_secret"], key.Secret);
            // The secret is not in the database in the clear.
            Assert.DoesNotContain(lines["access_key_secret"], File.ReadAllText(Path.Combine(_directory, "palisade.db"), System.Text.Encoding.Latin1));
            // A later start makes nothing and says where the first key is (issue 21).
            Assert.Equal($"the first account's AccessKey is in {path}", bootstrap.EnsureFirstAccount());
        }
    }

    [Fact]
    public void EnvironmentKey_BecomesTheFirstKey()
    {
        Environment.SetEnvironmentVariable("PALISADE_ROOT_ACCESS_KEY_ID", "LTAIbootstraptest0001");
        Environment.SetEnvironmentVariable("PALISADE_ROOT_ACCESS_KEY_SECRET", "boot-secret-0123456789abcdef");
        try
        {
            var (bootstrap, accounts, store) = Make();
            using (store)
            {
                Assert.Contains("PALISADE_ROOT_ACCESS_KEY_ID", bootstrap.EnsureFirstAccount());
                Assert.Equal("boot-secret-0123456789abcdef", accounts.FindKey("LTAIbootstraptest0001")!.Secret);
                Assert.False(File.Exists(Path.Combine(_directory, "credentials")));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("PALISADE_ROOT_ACCESS_KEY_ID", null);
            Environment.SetEnvironmentVariable("PALISADE_ROOT_ACCESS_KEY_SECRET", null);
        }
    }
}
