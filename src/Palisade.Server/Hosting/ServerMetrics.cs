using System.Diagnostics;
using System.Diagnostics.Metrics;
using Palisade.Storage;

namespace Palisade.Server.Hosting;

/// <summary>
/// What <c>/metrics</c> shows (Prometheus text, through OpenTelemetry): requests per action and
/// error code, their latency, the store's latency (<see cref="StoreMetrics"/>), and how many bound
/// NICs their agents keep in sync, the analysis workers and their queue (<see cref="Protocol.AnalysisScheduler"/>:
/// how they are configured, analyses running and waiting). Tags carry action names and ECS codes only, never a parameter,
/// key or secret.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "Palisade.Server";

    /// <summary>The meters of a server whose metrics are not exported (<see cref="ServerOptions.PublishesMetrics"/>).</summary>
    public const string UnpublishedPrefix = "Palisade.Unpublished.";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public ServerMetrics(IStore store, Protocol.AnalysisScheduler analyses, Protocol.ThrottledAnswerHold holds, ServerOptions options, Protocol.AnalysisProcess analysisProcess)
    {
        _meter = new(Named(MeterName, options));
        _meter.CreateObservableGauge("palisade.throttled.held", () => (long)holds.Held, "{request}", "Refusals for rate held before their answer (Throttling.ThrottledAnswerDelay).");
        _meter.CreateObservableGauge("palisade.analysis.workers", () => new Measurement<long>(analyses.Workers, new KeyValuePair<string, object?>("niceness", analyses.Niceness),
                new KeyValuePair<string, object?>("impact", options.Throttling.AnalysisInChild ? "child" : "in-process")),
            "{thread}", "Threads that run analyses (0: on the request threads), with their Linux niceness and where dry-run impacts are compared.");
        _meter.CreateObservableCounter("palisade.analysis.process.starts", () => analysisProcess.Started, "{process}",
            "Analysis processes started (issue 19): one on the first impact, one more after each that ended.");
        _meter.CreateObservableCounter("palisade.analysis.process.late", () => analysisProcess.Late, "{analysis}",
            "Impacts compared in-process because the analysis process did not answer in time, was still behind, or could not be started.");
        _meter.CreateObservableGauge("palisade.analysis.queue.limit", () => (long)analyses.QueueLimit, "{analysis}", "Analyses that may wait for a worker, all accounts together (past it: Throttling).");
        _meter.CreateObservableGauge("palisade.analysis.per_account.limit", () => (long)analyses.PerAccount, "{analysis}", "Analyses one account may have running or waiting (past it: Throttling.Analysis).");
        // The budget an account's analyses are charged against (issue 19): by default a share of the node's
        // cores, so an operator sees here what the node derived.
        _meter.CreateObservableGauge("palisade.analysis.budget.rate", () => options.Throttling.AnalysisSecondsPerSecond, "s/s",
            "CPU-seconds of analysis work per second each account may use on this node (0: no budget).");
        _meter.CreateObservableGauge("palisade.analysis.budget.burst", () => options.Throttling.AnalysisBurstSeconds, "s",
            "CPU-seconds of analysis work an account may use at once on this node.");
        _meter.CreateObservableGauge("palisade.analyses", () =>
        {
            var (running, waiting) = analyses.Load;
            return new[]
            {
                new Measurement<long>(running, new KeyValuePair<string, object?>("state", "running")),
                new Measurement<long>(waiting, new KeyValuePair<string, object?>("state", "waiting")),
            };
        }, "{analysis}", "Analyses running on a worker and waiting for one.");
        _requests = _meter.CreateCounter<long>("palisade.requests", "{request}", "ECS API requests, by action and result code (OK for success).");
        _duration = _meter.CreateHistogram<double>("palisade.request.duration", "s", "Time from reading an ECS API request to its answer.");
        _meter.CreateObservableGauge<long>("palisade.agent.nics", () =>
        {
            (long Bound, long InSync) counts;
            try
            {
                counts = store.Read(s => s.CountNicsInSync());
            }
            catch (StoreUnavailableException)
            {
                return Array.Empty<Measurement<long>>();
            }
            return new[]
            {
                new Measurement<long>(counts.InSync, new KeyValuePair<string, object?>("state", "in_sync")),
                new Measurement<long>(counts.Bound - counts.InSync, new KeyValuePair<string, object?>("state", "behind")),
            };
        }, "{nic}", "NICs bound to hosts, by whether their host's agent enforces the account's newest revision.");
    }

    public void Request(string? action, string code, TimeSpan elapsed)
    {
        // An unknown action name is the client's text: one bucket for all of them keeps the series bounded.
        var name = action is null ? "-" : action;
        var tags = new TagList { { "action", name }, { "code", code } };
        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("action", name));
    }

    public void Dispose() => _meter.Dispose();

    /// <summary>A meter's name as this server publishes it: its own, or one no exporter listens to.</summary>
    public static string Named(string meterName, ServerOptions options) => options.PublishesMetrics ? meterName : UnpublishedPrefix + meterName;
}
