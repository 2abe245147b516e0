using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.ServerHosting; // not ".Hosting": it would hide Palisade.Server.Hosting from the other tests

/// <summary>Issue 19: the data directory was 0755 and palisade.db, nonces.db 0644; they hold every tenant's data.</summary>
public sealed class DataDirectoryTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;

    [Fact]
    public async Task TheDataDirectory_AndEveryFileTheServerWrites_AreTheOwnersAlone()
    {
        if (OperatingSystem.IsWindows() || TestStores.OnPostgres)
            return; // file modes are Unix's; on PostgreSQL the database's files are the database server's
        var directory = Path.Combine(Path.GetTempPath(), "palisade-modes-" + Guid.NewGuid().ToString("N"));
        // An older installation, made under a permissive umask: tightened by the next start.
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await using (var plane = await TestControlPlane.StartOnAsync(directory, null))
        {
            var a = new Scenario(plane.Client(plane.NewAccount("modes")));
            await a.GroupAsync(await a.VpcAsync());
            var files = Directory.GetFiles(directory);
            Assert.Contains(files, f => f.EndsWith("palisade.db", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith("palisade.db-wal", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith("nonces.db", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith("master.key", StringComparison.Ordinal));
            Assert.Equal(PrivateDirectory, File.GetUnixFileMode(directory));
            foreach (var f in files)
                Assert.True(File.GetUnixFileMode(f) == Private, $"{Path.GetFileName(f)} is {File.GetUnixFileMode(f)}");
        }
        // Files left 0644 by an older version are tightened on start too.
        File.SetUnixFileMode(Path.Combine(directory, "palisade.db"), Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using (var again = await TestControlPlane.StartOnAsync(directory, null))
            Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(directory, "palisade.db")));
        Directory.Delete(directory, recursive: true);
    }
}
