using System.Collections.Concurrent;
using System.Diagnostics;

namespace Palisade.TestKit.Processes;

/// <summary>A real <c>palisade agent</c> child process, its log kept for the test's report; ended by its PID.</summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process _process;

    public ConcurrentQueue<string> Log { get; } = new();

    private AgentProcess(Process process) => _process = process;

    public static AgentProcess Start(Uri server, string credentialsFile, string host, string netns, params string[] extra)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "palisade.dll"), "agent", "--server", server.ToString(), "--credentials", credentialsFile,
                     "--host", host, "--netns", netns, "--poll-seconds", "2" }.Concat(extra))
            info.ArgumentList.Add(a);
        var agent = new AgentProcess(Process.Start(info)!);
        agent._process.OutputDataReceived += (_, e) => { if (e.Data is not null) agent.Log.Enqueue(e.Data); };
        agent._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) agent.Log.Enqueue("stderr: " + e.Data); };
        agent._process.BeginOutputReadLine();
        agent._process.BeginErrorReadLine();
        return agent;
    }

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    /// <summary>Waits until a log line contains <paramref name="text"/>.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Log.Any(l => l.Contains(text, StringComparison.Ordinal)))
                return;
            if (_process.HasExited)
                throw new InvalidOperationException($"palisade agent exited ({_process.ExitCode}):\n{string.Join("\n", Log)}");
            await Task.Delay(50);
        }
        throw new TimeoutException($"the agent never logged '{text}':\n{string.Join("\n", Log)}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
