using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Palisade.Storage;

namespace Palisade.Server.Hosting;

/// <summary>
/// Deletes action-trail events past <see cref="ServerOptions.TrailRetention"/>, at start and then
/// once an hour. A refused call is on the trail too, so without this the trail would grow for as
/// long as clients keep making mistakes.
/// </summary>
internal sealed class TrailRetention(IStore store, ServerOptions options, TimeProvider clock, ILogger<TrailRetention> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>One pass; how many events went (0 when the trail is kept for ever).</summary>
    public int PurgeOnce() =>
        options.TrailRetention is { } keep ? store.PurgeTrail(clock.GetUtcNow() - keep) : 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.TrailRetention is null)
            return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (PurgeOnce() is > 0 and var purged)
                    logger.LogInformation("Deleted {Count} action-trail events older than {Days} days", purged, options.TrailRetention.Value.TotalDays);
            }
            catch (StoreUnavailableException e)
            {
                logger.LogWarning(e, "The action trail could not be pruned now; trying again in an hour");
            }
            await Task.Delay(Interval, clock, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
