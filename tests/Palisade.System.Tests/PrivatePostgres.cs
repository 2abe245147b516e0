using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Palisade.System.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster of this test alone, as ./test.sh makes its own: a temporary data
/// directory owned by <c>postgres</c>, a free port on 127.0.0.1, fsync off; started, stopped and
/// restarted with its own <c>pg_ctl</c> (as the <c>postgres</c> user, through runuser), and
/// removed on dispose. The test can therefore take the database away under load without touching
/// the cluster the other suites share.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _directory;

    private PrivatePostgres(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=30";

    private string Data => Path.Combine(_directory, "data");

    public static PrivatePostgres Start()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderBy(b => b, StringComparer.Ordinal).LastOrDefault()
            : null;
        if (bin is null)
            throw new InvalidOperationException("PostgreSQL's initdb is not under /usr/lib/postgresql/*/bin; ./test.sh installs it");
        var directory = Directory.CreateTempSubdirectory("palisade-pg-restart-").FullName;
        Run("chown", "postgres:postgres", directory);
        var server = new PrivatePostgres(bin, directory, FreePort());
        server.AsPostgres("initdb", "-D", server.Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync");
        server.StartServer();
        return server;
    }

    public void StartServer() =>
        AsPostgres("pg_ctl", "-D", Data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {_directory} -c fsync=off -c full_page_writes=off", "start");

    /// <summary>A fast shutdown: open connections are cut, as when the database server is restarted by its operator.</summary>
    public void StopServer() => AsPostgres("pg_ctl", "-D", Data, "-m", "fast", "-w", "-t", "60", "stop");

    private void AsPostgres(string tool, params string[] args) => Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]);

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {output.Result} {error.Result}");
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
                StopServer();
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
