namespace Palisade.Cli.Tests.Backups;

public sealed class BackupCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "palisade-cli-backup-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void BackupThenRestore_IntoAnEmptyPlane_OnceOnly()
    {
        var source = Path.Combine(_root, "source");
        var target = Path.Combine(_root, "target");
        var file = Path.Combine(_root, "plane.json");
        Assert.Equal(ExitCodes.Ok, CliTester.Run("account", "create", "--name", "team-a", "--data", source).ExitCode);

        var backup = CliTester.Run("backup", "--out", file, "--data", source);
        Assert.Equal(ExitCodes.Ok, backup.ExitCode);
        Assert.Matches(@"^backed up \d+ rows of 30 tables at revision 2 to .*plane\.json\n$", backup.Output);
        if (!OperatingSystem.IsWindows())
        {
            // Issue 19: a backup holds every tenant's data; it and the data directory are the owner's alone.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(source));
            foreach (var f in Directory.GetFiles(source))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
        }

        var restore = CliTester.Run("restore", file, "--data", target);
        Assert.Equal((ExitCodes.Ok, "restored 4 rows; the control plane is at revision 3\n"), (restore.ExitCode, restore.Output));
        var again = CliTester.Run("restore", file, "--data", target);
        Assert.Equal((ExitCodes.BadInput, "error: restore needs an empty control plane; this one has accounts or history\n"), (again.ExitCode, again.Error));

        File.WriteAllText(file, "{ not json");
        var broken = CliTester.Run("restore", file, "--data", Path.Combine(_root, "other"));
        Assert.Equal(ExitCodes.BadInput, broken.ExitCode);
        Assert.StartsWith("error: ", broken.Error);
    }

    /// <summary>Issue 19: a store password on the command line is refused; --store-file and PALISADE_STORE carry it.</summary>
    [Fact]
    public void AStorePassword_StaysOffTheCommandLine()
    {
        var refused = CliTester.Run("backup", "--out", Path.Combine(_root, "x.json"), "--store", "postgres://palisade:s3cret@127.0.0.1:1/palisade");
        Assert.Equal(ExitCodes.BadInput, refused.ExitCode);
        Assert.Contains("--store holds a password", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", refused.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, CliTester.Run("backup", "--out", "x", "--store", "Host=h;Username=u;Password=p").ExitCode);
        Assert.Equal(ExitCodes.BadInput, CliTester.Run("backup", "--out", "x", "--store-file", Path.Combine(_root, "missing")).ExitCode);

        // The file is read: here it names a SQLite-free store that cannot be reached, which shows it was used.
        Directory.CreateDirectory(_root);
        var storeFile = Path.Combine(_root, "store");
        File.WriteAllText(storeFile, "postgres://palisade:s3cret@127.0.0.1:1/palisade?Timeout=1\n");
        var viaFile = CliTester.Run("backup", "--out", Path.Combine(_root, "y.json"), "--data", Path.Combine(_root, "unused"), "--store-file", storeFile);
        Assert.Equal(ExitCodes.BadInput, viaFile.ExitCode);
        Assert.DoesNotContain("--store holds a password", viaFile.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "unused")) && File.Exists(Path.Combine(_root, "unused", "palisade.db")));
    }

    [Fact]
    public void Export_WritesAStateFileTheOfflineCommandsRead()
    {
        var data = Path.Combine(_root, "plane");
        var file = Path.Combine(_root, "state.json");
        Assert.Equal(ExitCodes.Ok, CliTester.Run("account", "create", "--name", "team-a", "--data", data).ExitCode);
        var export = CliTester.Run("export", "--account", "team-a", "--out", file, "--data", data);
        Assert.Equal((ExitCodes.Ok, ""), (export.ExitCode, export.Error));
        Assert.Equal((ExitCodes.Ok, "no findings\n"), CliTester.Run("audit", "--state", file) is var a ? (a.ExitCode, a.Output) : default);
        var nobody = CliTester.Run("export", "--account", "nobody", "--out", file, "--data", data);
        Assert.Equal((ExitCodes.BadInput, "error: no account named or numbered 'nobody'\n"), (nobody.ExitCode, nobody.Error));
    }
}
