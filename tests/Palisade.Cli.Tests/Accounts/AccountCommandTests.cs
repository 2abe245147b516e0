using Palisade.TestKit;

namespace Palisade.Cli.Tests.Accounts;

public sealed class AccountCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    private static Dictionary<string, string> Fields(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    [Fact]
    public void AccountAndKeys_AreCreated_AndPrintedOnce()
    {
        var account = CliTester.Run("account", "create", "--name", "team-a", "--data", _data);
        Assert.Equal(ExitCodes.Ok, account.ExitCode);
        var created = Fields(account.Output);
        Assert.Equal("team-a", created["account_name"]);
        Assert.StartsWith("LTAI", created["access_key_id"]);
        Assert.Equal(30, created["access_key_secret"].Length);

        var key = CliTester.Run("accesskey", "create", "--account", "team-a", "--read-only", "--data", _data);
        Assert.Equal(ExitCodes.Ok, key.ExitCode);
        var second = Fields(key.Output);
        Assert.Equal(created["account_id"], second["account_id"]);
        Assert.Equal("true", second["read_only"]);
        Assert.NotEqual(created["access_key_id"], second["access_key_id"]);

        var byId = CliTester.Run("accesskey", "create", "--account", created["account_id"], "--data", _data);
        Assert.Equal(ExitCodes.Ok, byId.ExitCode);
    }

    [Fact]
    public void Mistakes_AreOneLineErrors()
    {
        CliTester.Run("account", "create", "--name", "team-a", "--data", _data);
        var twice = CliTester.Run("account", "create", "--name", "team-a", "--data", _data);
        Assert.Equal((ExitCodes.BadInput, "error: an account named 'team-a' exists already\n"), (twice.ExitCode, twice.Error));
        var nobody = CliTester.Run("accesskey", "create", "--account", "nobody", "--data", _data);
        Assert.Equal((ExitCodes.BadInput, "error: no account named or numbered 'nobody'\n"), (nobody.ExitCode, nobody.Error));
    }

    [Fact]
    public void Keys_AreDisabledEnabledAndDeleted()
    {
        var key = Fields(CliTester.Run("account", "create", "--name", "team-a", "--data", _data).Output)["access_key_id"];
        Assert.Equal((ExitCodes.Ok, $"disabled {key}\n"), CliTester.Run("accesskey", "disable", "--id", key, "--data", _data) is var d ? (d.ExitCode, d.Output) : default);
        Assert.Equal(Palisade.Storage.Records.AccessKeyStatus.Inactive, KeyStatus(key));
        Assert.Equal((ExitCodes.Ok, $"enabled {key}\n"), CliTester.Run("accesskey", "enable", "--id", key, "--data", _data) is var e ? (e.ExitCode, e.Output) : default);
        Assert.Equal(Palisade.Storage.Records.AccessKeyStatus.Active, KeyStatus(key));
        Assert.Equal((ExitCodes.Ok, $"deleted {key}\n"), CliTester.Run("accesskey", "delete", "--id", key, "--data", _data) is var x ? (x.ExitCode, x.Output) : default);
        Assert.Null(KeyStatus(key));
        var gone = CliTester.Run("accesskey", "disable", "--id", key, "--data", _data);
        Assert.Equal((ExitCodes.BadInput, $"error: no AccessKey {key}\n"), (gone.ExitCode, gone.Error));
    }

    private Palisade.Storage.Records.AccessKeyStatus? KeyStatus(string id)
    {
        using var store = new Palisade.Storage.Sqlite.SqliteStore(Path.Combine(_data, "palisade.db"));
        return store.Read(s => s.FindAccessKey(id))?.Status;
    }

    [Fact]
    public void Help_IsGolden()
    {
        Golden.Assert("help/root.txt", CliTester.Run("--help").Output);
        Golden.Assert("help/serve.txt", CliTester.Run("serve", "--help").Output);
        Golden.Assert("help/account-create.txt", CliTester.Run("account", "create", "--help").Output);
        Golden.Assert("help/accesskey-create.txt", CliTester.Run("accesskey", "create", "--help").Output);
    }
}
