using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Palisade.Client;

namespace Palisade.TestKit.Processes;

/// <summary>A real <c>palisade serve</c> child process on 127.0.0.1, started and ended by its PID only.</summary>
public sealed class ServerProcess : IDisposable
{
    public const string KeyId = "LTAIsystemtest0000001";
    public const string Secret = "system-test-secret-0123456789";

    private readonly Process _process;

    private ServerProcess(Process process, Uri url, string dataDirectory, string? store)
    {
        _process = process;
        Url = url;
        _data = dataDirectory;
        _store = store;
    }

    private readonly string _data;
    private readonly string? _store;

    /// <summary>The master key the server and the operator's commands share (tests only).</summary>
    private static readonly string MasterKey = Convert.ToBase64String(new byte[32]);

    /// <summary>
    /// Runs an operator's command (<c>palisade host …</c>, <c>palisade account …</c>) on this
    /// server's store, as the operator would on the machine: a child process with the server's
    /// <c>--data</c>/<c>--store</c> and master key. Throws with its output when it fails.
    /// </summary>
    public string Operator(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "palisade.dll") }.Concat(args).Concat(["--data", _data]))
            info.ArgumentList.Add(a);
        if (_store is not null)
        {
            info.ArgumentList.Add("--store");
            info.ArgumentList.Add(_store);
        }
        info.Environment["PALISADE_MASTER_KEY"] = MasterKey;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"palisade {string.Join(' ', args)} did not finish within 120 s");
        }
        var text = output.Result + error.Result;
        return process.ExitCode == 0 ? text : throw new InvalidOperationException($"palisade {string.Join(' ', args)} exited with {process.ExitCode}: {text}");
    }

    /// <summary>The operator declares a host and makes its agent's credential; the credentials file's path.</summary>
    public string HostCredential(string host, string interfaces, string addresses)
    {
        Operator("host", "declare", "--host", host, "--interfaces", interfaces, "--addresses", addresses);
        var file = Path.Combine(_data, $"host-{host}-{Guid.NewGuid():N}.credentials");
        Operator("host", "credential", "create", "--host", host, "--out", file);
        return file;
    }

    /// <summary>The operator binds an instance's NIC to a host's interface.</summary>
    public void Bind(string instance, string host, string interfaceName) =>
        Operator("host", "bind", "--instance", instance, "--host", host, "--interface", interfaceName);

    public Uri Url { get; }

    /// <summary>The server's output lines, kept when <see cref="StartAsync"/> was asked to (benchmarks read its request log).</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    public int Pid => _process.Id;

    /// <param name="serveArguments">More arguments for <c>palisade serve</c> (e.g. <c>--log-requests</c>).</param>
    /// <param name="keepOutput">Keep the server's output lines in <see cref="Output"/>.</param>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, string? store, int? port = null, IReadOnlyList<string>? serveArguments = null, bool keepOutput = false)
    {
        port ??= FreePort();
        var cli = Path.Combine(AppContext.BaseDirectory, "palisade.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(cli);
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.ArgumentList.Add("--data");
        info.ArgumentList.Add(dataDirectory);
        if (store is not null)
        {
            info.ArgumentList.Add("--store");
            info.ArgumentList.Add(store);
        }
        foreach (var a in serveArguments ?? [])
            info.ArgumentList.Add(a);
        if (!(serveArguments ?? []).Contains("--analysis-rate"))
        {
            info.ArgumentList.Add("--analysis-rate");
            info.ArgumentList.Add(TestNode.ProcessAnalysisRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        info.Environment["PALISADE_ROOT_ACCESS_KEY_ID"] = KeyId;
        info.Environment["PALISADE_ROOT_ACCESS_KEY_SECRET"] = Secret;
        info.Environment["PALISADE_MASTER_KEY"] = MasterKey;
        var process = Process.Start(info)!;
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"), dataDirectory, store);
        process.OutputDataReceived += (_, e) => { if (keepOutput && e.Data is { } line) server.Output.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (keepOutput && e.Data is { } line) server.Output.Enqueue(line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"palisade serve exited with {process.ExitCode}");
            try
            {
                if ((await probe.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                    return server;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        server.Kill();
        throw new TimeoutException("palisade serve did not answer /healthz within 60 s");
    }

    public EcsClient Client(HttpClient http) => new(http, new ClientCredentials(KeyId, Secret));

    /// <summary>SIGKILL: no shutdown, no flush, as a power cut looks to the process.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Kill();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
