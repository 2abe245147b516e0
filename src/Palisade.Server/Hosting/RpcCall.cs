using System.Diagnostics;
using Palisade.Domain.Errors;
using Palisade.Server.Actions;
using Palisade.Server.Protocol;
using Palisade.Server.Responses;

namespace Palisade.Server.Hosting;

/// <summary>One request on its way through <see cref="RpcEndpoint"/>'s stages: what each stage learnt, and the outcome.</summary>
internal sealed class RpcCall(string requestId)
{
    public string RequestId { get; } = requestId;

    public long Started { get; } = Stopwatch.GetTimestamp();

    /// <summary>When the request arrived, by the server's clock (a long poll's wait counts from it).</summary>
    public DateTimeOffset Arrived { get; init; }

    /// <summary>JSON until the request says otherwise, so that even an unreadable request gets a readable error.</summary>
    public ResponseFormat Format { get; set; } = ResponseFormat.Json;

    public RpcRequest? Request { get; set; }

    public Caller? Caller { get; set; }

    /// <summary>The catalogued action the request names (its version and action), looked up once when it is read; null for none.</summary>
    public IEcsAction? Catalogued { get; set; }

    /// <summary>Known once the action is resolved: the caller, the action and everything it may use.</summary>
    public ActionContext? Context { get; set; }

    /// <summary>The action the request names, as sent (logged only when catalogued).</summary>
    public string? ActionName => Request?.Action;

    /// <summary>The rendered success.</summary>
    public Responses.RenderedAnswer? Answer { get; set; }

    /// <summary>A success served from the read cache.</summary>
    public ReadCache.Entry? Cached { get; set; }

    /// <summary>What the request uses on the request threads (<see cref="RequestCpu"/>).</summary>
    public required RequestCpu Cpu { get; init; }

    /// <summary>A cache hit of an analysis's answer, admitted: settled at what serving it used.</summary>
    public AnalysisAdmission.Served? Served { get; set; }

    public EcsError? Failure { get; set; }

    /// <summary>Fields added to an error answer (a dry run's <c>Impact</c>).</summary>
    public EcsObject? FailureExtra { get; set; }
}
