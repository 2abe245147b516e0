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
        Assert.Matches(@"^backed up \d+ rows of 14 tables at revision 2 to .*plane\.json\n$", backup.Output);

        var restore = CliTester.Run("restore", file, "--data", target);
        Assert.Equal((ExitCodes.Ok, "restored 4 rows; the control plane is at revision 3\n"), (restore.ExitCode, restore.Output));
        var again = CliTester.Run("restore", file, "--data", target);
        Assert.Equal((ExitCodes.BadInput, "error: restore needs an empty control plane; this one has accounts or history\n"), (again.ExitCode, again.Error));

        File.WriteAllText(file, "{ not json");
        var broken = CliTester.Run("restore", file, "--data", Path.Combine(_root, "other"));
        Assert.Equal(ExitCodes.BadInput, broken.ExitCode);
        Assert.StartsWith("error: ", broken.Error);
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
