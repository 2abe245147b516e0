namespace Palisade.Storage;

/// <summary>
/// The data directory and every file the server or <c>palisade backup</c> writes hold secrets or
/// tenants' data: the directory is the owner's alone (0700), each file too (0600), whatever the
/// umask. Existing ones are tightened, so an older installation is fixed by its next start.
/// SQLite gives its -wal and -shm files the database file's own mode.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Directory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return;
        }
        System.IO.Directory.CreateDirectory(path, DirectoryMode);
        File.SetUnixFileMode(path, DirectoryMode);
    }

    /// <summary>The file exists (created empty when it did not) with mode 0600; so do the SQLite companions that exist.</summary>
    public static void Prepare(string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        try
        {
            using var _ = new FileStream(path, new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode });
        }
        catch (IOException) when (File.Exists(path))
        {
            // It exists already (or another node made it first): tightened below.
        }
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            if (File.Exists(file))
                File.SetUnixFileMode(file, FileMode);
        }
    }

    /// <summary>A new (or truncated) file for writing, mode 0600.</summary>
    public static FileStream Create(string path)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = FileMode;
        var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, FileMode);
        return stream;
    }
}
