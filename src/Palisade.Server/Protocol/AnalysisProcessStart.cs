using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// Starts the analysis process with the server (issue 19), so that it is warm before a tenant's first
/// impact (<see cref="AnalysisProcess.WarmsUp"/>), on a thread of the pool: the server's start does not
/// wait for it. Where the child cannot be started, that is logged (<see cref="AnalysisProcess"/>), each
/// impact is compared in-process, and the start is tried again after <see cref="AnalysisProcess.RetryStartAfter"/>.
/// </summary>
internal sealed class AnalysisProcessStart(AnalysisProcess process, ServerOptions options, ILogger<AnalysisProcessStart> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (process.WarmsUp && options.Throttling.AnalysisInChild)
        {
            _ = Task.Run(() =>
            {
                try
                {
                    process.Start();
                }
                catch (AnalysisProcessLateException)
                {
                    // Its start failed, and that was logged where it failed (AnalysisProcess): once is enough.
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or ObjectDisposedException)
                {
                    logger.LogWarning("The analysis process was not started with the server: {Error}", LogValues.Escape(e.Message, 512));
                }
            }, CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
