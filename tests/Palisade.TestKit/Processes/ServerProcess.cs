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

    private ServerProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    public static async Task<ServerProcess> StartAsync(string dataDirectory, string? store, int? port = null)
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
        info.Environment["PALISADE_ROOT_ACCESS_KEY_ID"] = KeyId;
        info.Environment["PALISADE_ROOT_ACCESS_KEY_SECRET"] = Secret;
        info.Environment["PALISADE_MASTER_KEY"] = Convert.ToBase64String(new byte[32]);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
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
