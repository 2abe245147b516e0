using Palisade.Domain.Signatures;
using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Palisade.Domain.Errors;
using Palisade.Server.Actions;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Protocol;
using Palisade.Server.Responses;
using Palisade.Storage;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Hosting;

/// <summary>
/// The one RPC endpoint on <c>/</c>. A request passes through stages over one <see cref="RpcCall"/>:
/// read → authenticate → throttle → resolve the action → execute (the read cache, the dry run's
/// impact) → record (trail, log, metrics, once) → hold a throttled refusal → answer in JSON or XML, or with an ECS error. A
/// stage that refuses throws an <see cref="EcsException"/>; <see cref="FailureOf"/> is the one place
/// that turns anything thrown into the error the client gets. Nothing a client sends gets a 500.
/// </summary>
internal sealed class RpcEndpoint(ActionCatalog catalog, Authenticator authenticator, RequestThrottle throttle, IStore store, TimeProvider clock, ServerOptions options, ReadCache cache, ServerMetrics metrics, ILogger<RpcEndpoint> logger, Palisade.Storage.Accounts.AccountService accounts,
    AccountThrottle accountThrottle, RefusalTrail refusals, AnalysisAdmission analyses, ThrottledAnswerHold holds, StoreGate gate, AnalysisProcess analysisProcess)
{
    /// <summary>Bodies larger than this are refused before they are read: no ECS request comes near it.</summary>
    public const int MaxBodyBytes = 1 << 20;

    public async Task HandleAsync(HttpContext http)
    {
        var call = new RpcCall(Guid.NewGuid().ToString().ToUpperInvariant()) { Arrived = clock.GetUtcNow(), Cpu = analyses.MeterRequest() };
        // What this request uses on the request threads, from here to its answer's flush: a cache hit of
        // an analysis's answer is charged it (issue 19, sixteenth session); any other request stops
        // measuring once its action is known.
        var cpu = call.Cpu;
        cpu.Resume();
        http.Response.Headers["x-acs-request-id"] = call.RequestId;
        try
        {
            call.Request = await cpu.Around(new ValueTask<RpcRequest>(ReadAsync(http)));
            // Looked up once: authentication, the CPU meter and Resolve all ask what the action is.
            call.Catalogued = Lookup(call.Request);
            // Only an analysis's answer may be a charged cache hit: any other request reads no more clocks.
            if (call.Catalogued is not IAnalysisAction)
                cpu.Stop();
            call.Format = ChooseFormat(call.Request);
            // A request whose key the node holds reads nothing to authenticate: it takes no store slot,
            // and its nonce is recorded with the others arriving meanwhile (issue 17, fifteenth session:
            // after a 1,000-host change 3,000 requests each held a read slot for their nonce's round trip).
            // One whose key must be read is authenticated in a slot, as before.
            if (options.AuthenticationOffTheGate && Verify(call, mayReadStore: false) is { } verified)
            {
                call.Caller = await cpu.Around(authenticator.AdmitAsync(verified, http.RequestAborted));
                Throttle(call);
                Resolve(call);
            }
            else
            {
                // The synchronous stages that use the store wait for a store slot first, holding no thread while they wait (StoreGate).
                await cpu.Around(gate.RunAsync(StoreGate.Kind.Read, () =>
                {
                    Authenticate(call);
                    Throttle(call);
                    Resolve(call);
                }, http.RequestAborted));
            }
            await ExecuteAsync(call, http.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            call.Failure = FailureOf(e, call);
        }
        Record(call);
        if (call.Failure is { } failure && EcsErrorCodes.IsThrottling(failure.Code))
        {
            switch (await holds.HoldAsync(call.Caller, http.RequestAborted))
            {
                case ThrottledAnswerHold.Outcome.Gone:
                    call.Answer?.Release();
                    return;
                case ThrottledAnswerHold.Outcome.AnswerAndClose:
                    http.Response.Headers.Connection = "close";
                    break;
            }
        }
        try
        {
            await AnswerAsync(http, call);
        }
        finally
        {
            // Not written (an error on the way): a lent buffer goes back all the same.
            call.Answer?.Release();
            // A cache hit is charged what serving it used, answered or not (its client may have left).
            cpu.Stop();
            call.Served?.Settle(cpu.Used);
            // The answer's bytes go to its account's byte rate, whatever the answer (a host's own rate is its key's).
            if (call.Caller is { IsHost: false } caller)
                accountThrottle.Served(caller.AccountId, http.Response.ContentLength ?? 0);
        }
    }

    /// <summary>
    /// The server's own warm-up (<see cref="AnalysisPathWarmUp"/>): a request of an already known
    /// caller through the stages after authentication and throttling — resolve, then execute (the read
    /// cache, admission, the rehearsal, the analysis, the rendering) — the same code a tenant's request
    /// runs. Set on a warm-up's own endpoint only, over a store of its own.
    /// </summary>
    internal bool ForWarmUp { get; set; }

    /// <summary>A warm-up request (<see cref="ForWarmUp"/>): its call, answered or failed.</summary>
    internal async Task<RpcCall> ExecuteForWarmUpAsync(RpcRequest request, Caller caller, CancellationToken cancel)
    {
        if (!ForWarmUp)
            throw new InvalidOperationException("only a warm-up's endpoint takes requests without authentication");
        var call = new RpcCall(Guid.NewGuid().ToString().ToUpperInvariant()) { Arrived = clock.GetUtcNow(), Request = request, Caller = caller, Catalogued = Lookup(request), Cpu = analyses.MeterRequest() };
        call.Cpu.Resume();
        try
        {
            call.Format = ChooseFormat(request);
            await call.Cpu.Around(gate.RunAsync(StoreGate.Kind.Read, () => Resolve(call), cancel));
            await ExecuteAsync(call, cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            call.Failure = FailureOf(e, call);
        }
        finally
        {
            call.Cpu.Stop();
            call.Served?.Settle(call.Cpu.Used);
        }
        return call;
    }

    /// <summary>The catalogued action a request names, or null (no version or action, or none such).</summary>
    private IEcsAction? Lookup(RpcRequest request) =>
        request is { Version: { } version, Action: { } name } ? catalog.Find(version, name) : null;

    private void Authenticate(RpcCall call)
    {
        var request = call.Request!;
        if (request.Action is null)
            throw new EcsException(EcsErrors.MissingAction());
        if (request.Version is null)
            throw new EcsException(EcsErrors.Missing("Version"));
        // An action that reads its host credential itself (the long poll) lets the authenticator skip the store.
        call.Caller = authenticator.Authenticate(request, call.Catalogued is Actions.Hosts.IHostAgentAction { ReadsItsCredential: true });
    }

    /// <summary><see cref="Authenticate"/> but the nonce; null when the key must be read and <paramref name="mayReadStore"/> is false.</summary>
    private Authenticator.Verified? Verify(RpcCall call, bool mayReadStore)
    {
        var request = call.Request!;
        if (request.Action is null)
            throw new EcsException(EcsErrors.MissingAction());
        if (request.Version is null)
            throw new EcsException(EcsErrors.Missing("Version"));
        return authenticator.Verify(request, call.Catalogued is Actions.Hosts.IHostAgentAction { ReadsItsCredential: true }, mayReadStore);
    }

    // Counted after the signature and the nonce: only the key's own fresh requests use its rate,
    // so neither forged requests nor replays of a captured one can throttle a victim.
    private void Throttle(RpcCall call)
    {
        // A host credential has no account: its own key's rate is its whole budget.
        if (!throttle.TryAcquire(call.Caller!.AccessKeyId) || (!call.Caller.IsHost && !accountThrottle.TryAcquire(call.Caller.AccountId)))
            throw new EcsException(EcsErrors.Throttled());
    }

    /// <summary>Finds the action; from here on a refusal of a mutating action is on the trail.</summary>
    private void Resolve(RpcCall call)
    {
        var request = call.Request!;
        // A catalogued action's version is known; only a request that names none asks which error it gets.
        var action = call.Catalogued
            ?? throw new EcsException(!catalog.KnowsVersion(request.Version!) ? EcsErrors.VersionNotSupported(request.Version!)
                : Actions.Hosts.HostAccess.IsOperatorAct(request.Action!) ? EcsErrors.OperatorAct(request.Action!) : EcsErrors.ActionNotFound(request.Action!));
        call.Context = new ActionContext(request, call.Caller!, action, store, clock, options, call.RequestId, accounts)
        {
            Gate = gate,
            Arrived = call.Arrived,
            AnalysisProcess = options.Throttling.AnalysisInChild ? analysisProcess : null,
            AnalysisAccountKey = ForWarmUp ? AnalysisWarmUp.AccountId : null,
        };
        if (call.Caller!.ReadOnly && action.Mutates)
            throw new EcsException(EcsErrors.ReadOnlyKey(action.Name));
        // Before the read cache: a cached answer is never served to a caller who may not ask.
        Actions.Hosts.HostAccess.Admit(call.Context);
    }

    private async Task ExecuteAsync(RpcCall call, CancellationToken cancel)
    {
        var context = call.Context!;
        var action = context.Action;
        string? cacheKey = null;
        long revision = 0;
        if (options.CacheReads && action.Cacheable && !context.DryRun)
        {
            cacheKey = ReadCache.Key(call.Caller!, action, call.Request!, call.Format);
            revision = await call.Cpu.Around(gate.RunAsync(StoreGate.Kind.Read, store.CurrentRevision, cancel));
            if (cache.TryGet(cacheKey, revision, out var hit))
            {
                // A cached analysis answer is admitted at what serving one has cost its account per byte
                // lately, or refused past the budget, and charged what serving it used once answered
                // (issue 19: the same question in a loop is bounded as new questions are).
                if (action is IAnalysisAction)
                    call.Served = analyses.AdmitCached(context, hit.Body.Length);
                call.Cached = hit;
                return;
            }
        }
        // An analysis (or a dry run, whose impact is one) is admitted here or refused before any work:
        // its estimate against the account's budget, a place among the server's analyses.
        using var admitted = action is IAnalysisAction || (context.DryRun && action.Mutates) ? analyses.Admit(context) : null;
        var impact = context.DryRun && action.Mutates ? DryRunImpact.Prepare(context) : null;
        EcsObject body;
        if (action is IAnalysisAction analysis && admitted is not null)
            // What holds the store's write lock (a rehearsal) runs here, at the request's priority; the comparing on an analysis worker.
            body = await admitted.RunStagedAsync(() => analysis.Stage(context), cancel);
        else
        {
            // A long poll takes a slot for each of its reads (DescribeChanges), not while it is parked.
            body = action is IAsyncEcsAction waiting
                ? await waiting.ExecuteAsync(context, cancel)
                : action.Mutates
                    // A change, once authenticated, is made (and on the trail) even if its client left while it waited, as before the gate.
                    ? await gate.RunAsync(StoreGate.Kind.Write, () => action.Execute(context), CancellationToken.None)
                    : await gate.RunAsync(StoreGate.Kind.Read, () => action.Execute(context), cancel);
        }
        if (context.DryRun)
        {
            // ECS answers a dry run that would succeed with the DryRunOperation error; a change's
            // carries the flows it would open and close.
            call.Failure = EcsErrors.DryRunPassed();
            if (impact is not null && context.DryRunPassed)
            {
                var after = context.StateAfterDryRun;
                var flows = admitted is null ? impact.Complete(after) : await admitted.RunAsync(() => impact.Complete(after), cancel);
                call.FailureExtra = new EcsObject { { "Impact", flows } };
            }
            return;
        }
        var response = new EcsObject { { "RequestId", call.RequestId } };
        foreach (var (name, value) in body)
        {
            if (name != "RequestId")
                response.Add(name, value);
        }
        // An analysis's answer is large (100 KB and more for an impact): rendering and keeping it is
        // the server's work for that question, charged to its account with the rest (issue 19).
        // What it cost per byte is learnt: each cache hit is charged its bytes at that rate.
        // An answer written once to its connection and kept nowhere (not cached, not an analysis's, not a
        // warm-up's read back) lends its pooled buffer to that write instead of being copied out first.
        var answer = admitted is null
            ? ResponseWriter.Render(call.Format, $"{action.Name}Response", response, lend: cacheKey is null && !ForWarmUp)
            : admitted.Render(() => ResponseWriter.Render(call.Format, $"{action.Name}Response", response));
        if (cacheKey is not null)
            cache.Put(cacheKey, revision, answer, call.RequestId);
        call.Answer = answer;
        // A long poll's frames were made when it parked and are in the collector's oldest generation by the time it
        // answers, which no gen0 or gen1 collection looks at: whatever they still reference — the answer, this
        // method's copy of it, the action's own object, its task's result — would live through the join's collections
        // after the poll ended, until a full one (twenty-fourth session: the host policies of a 1,000-host join).
        // Both objects are rendered already and read by nobody after.
        if (action is IAsyncEcsAction waited)
        {
            response.Release();
            if (waited.AnswersAnObjectOfItsOwn)
                body.Release();
        }
    }

    /// <summary>The ECS error for whatever a stage threw: a refusal, the store's state, or (logged) a fault of ours.</summary>
    private EcsError FailureOf(Exception e, RpcCall call)
    {
        switch (e)
        {
            case EcsException refused:
                return refused.Error;
            case StoreFullException:
                logger.LogWarning(e, "Request {RequestId} ({Action}): the store is full; writes are refused", call.RequestId, LogValues.Action(call.ActionName, catalog));
                return EcsErrors.StoreFull();
            case StoreUnavailableException:
                // Retryable for the client (SDKs retry 503 ServiceUnavailable), and worth a warning here.
                logger.LogWarning(e, "Request {RequestId} ({Action}): the store is unavailable", call.RequestId, LogValues.Action(call.ActionName, catalog));
                return EcsErrors.Unavailable();
            case BadHttpRequestException bad:
                return EcsErrors.ParameterInvalid("request", bad.Message);
            default:
                // The exception's text may quote the request: escaped, on one line, like every other logged value.
                logger.LogError("Request {RequestId} ({Action}) failed unexpectedly: {Exception}", call.RequestId, LogValues.Action(call.ActionName, catalog), LogValues.Escape(e.ToString(), 8192));
                return EcsErrors.Internal();
        }
    }

    /// <summary>
    /// The trail, the log line and the metrics, once per request. Every mutating call of a verified
    /// key is on the trail: a committed change wrote its event with it; anything else is written here.
    /// </summary>
    private void Record(RpcCall call)
    {
        // A read that carries a write (a host's poll with its status report) is on the trail as that write's call;
        // answered before that write ended (twentieth session), by the write's outcome once it has one.
        if (call.Context is { CarriedWriteInFlight: { } write } carrying)
            _ = RecordTrailAfterAsync(carrying, write, call);
        else if (call.Context is { Committed: false } context && (context.Action.Mutates || context.CarriedWrite is not null))
            RecordTrail(context, call.Failure);
        Log(call);
    }

    /// <summary>
    /// The trail of a call answered before its carried write ended: the write's event is in its own
    /// transaction; a write that failed puts its refusal's event on the trail (the call is there once).
    /// </summary>
    /// <remarks>
    /// Nobody awaits this (the call was answered): whatever escapes it — the refusal's own trail write
    /// failing in a way <see cref="RecordTrail"/> lets through, a cancellation — is logged here, or the gap
    /// in the trail would go unseen.
    /// </remarks>
    private async Task RecordTrailAfterAsync(ActionContext context, Task write, RpcCall call)
    {
        try
        {
            try
            {
                await write.ConfigureAwait(false);
            }
            catch (Exception e) when (!context.Committed)
            {
                RecordTrail(context, FailureOf(e, call));
            }
        }
        catch (Exception e)
        {
            logger.LogWarning("Request {RequestId} ({Action}): answered before its carried write ended, its action-trail event could not be recorded: {Exception}",
                call.RequestId, LogValues.Action(call.ActionName, catalog), LogValues.Escape(e.ToString(), 8192));
        }
    }

    private Task AnswerAsync(HttpContext http, RpcCall call)
    {
        if (call.Failure is not null)
            return WriteErrorAsync(http, call.Format, call.Failure, call.RequestId, call.FailureExtra);
        if (call.Cached is { } hit)
            return WriteCachedAsync(http, call.Format, hit, call.RequestId, call.Cpu);
        return WriteAnswerAsync(http, call.Format, call.Answer!);
    }

    /// <summary>A path other than <c>/</c>: ECS's answer for a wrong URL, in JSON.</summary>
    public Task HandleUnknownPathAsync(HttpContext http)
    {
        var requestId = Guid.NewGuid().ToString().ToUpperInvariant();
        http.Response.Headers["x-acs-request-id"] = requestId;
        return WriteErrorAsync(http, ResponseFormat.Json, EcsErrors.ActionNotFound(http.Request.Path.Value ?? ""), requestId, null);
    }

    private Task WriteErrorAsync(HttpContext http, ResponseFormat format, EcsError failure, string requestId, EcsObject? extra)
    {
        var host = http.Request.Host.HasValue ? http.Request.Host.Value! : options.HostId;
        var error = new EcsObject
        {
            { "RequestId", requestId },
            { "HostId", host },
            { "Code", failure.Code },
            { "Message", failure.Message },
            { "Recommend", $"https://api.aliyun.com/troubleshoot?q={Uri.EscapeDataString(failure.Code)}&product=Ecs&requestId={requestId}" },
        };
        foreach (var (name, value) in extra ?? [])
            error.Add(name, value);
        return WriteAsync(http, failure.HttpStatus, format, "Error", error);
    }

    /// <summary>One line per request: action, status, code, time; never a parameter (they may carry secrets of other systems).</summary>
    private void Log(RpcCall call)
    {
        var elapsed = Stopwatch.GetElapsedTime(call.Started);
        var failure = call.Failure;
        // Off unless --log-requests: then the line's arguments are not even boxed (every renewal of a fleet's polls passes here).
        if (logger.IsEnabled(LogLevel.Information))
            logger.LogInformation("{Action} {Status} {Code} {ElapsedMs:F1} ms {Cached} {RequestId}", LogValues.Action(call.ActionName, catalog), failure?.HttpStatus ?? 200, failure?.Code ?? "OK",
                elapsed.TotalMilliseconds, call.Cached is not null ? "cached" : "computed", call.RequestId);
        metrics.Request(call.ActionName is { } action && catalog.KnowsName(action) ? action : "unknown", failure?.Code ?? "OK", elapsed);
    }

    private void RecordTrail(ActionContext context, EcsError? failure)
    {
        try
        {
            // A refusal's event is bounded, and rate-limited per account (RefusalTrail).
            var entry = failure is null ? context.TrailEntry(200, ActionContext.TrailOk) : refusals.Admit(context, failure.HttpStatus, failure.Code);
            if (entry is not null)
                store.RecordTrail(entry);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The answer stands (the call changed nothing, or committed with its own event); the gap is logged.
            logger.LogWarning(e, "Request {RequestId} ({Action}): its action-trail event could not be written", context.RequestId, context.Action.Name);
        }
    }

    private static ResponseFormat ChooseFormat(RpcRequest request)
    {
        if (request.Parameter("Format") is { Length: > 0 } format)
        {
            if (format.Equals("JSON", StringComparison.OrdinalIgnoreCase))
                return ResponseFormat.Json;
            if (format.Equals("XML", StringComparison.OrdinalIgnoreCase))
                return ResponseFormat.Xml;
            throw new EcsException(EcsErrors.ParameterInvalid("Format", $"'{format}' is not JSON or XML."));
        }
        if (request.IsV3 || (request.Header("accept") ?? "").Contains("json", StringComparison.OrdinalIgnoreCase))
            return ResponseFormat.Json;
        return ResponseFormat.Xml; // the documented default of V1
    }

    private static async Task<RpcRequest> ReadAsync(HttpContext http)
    {
        var r = http.Request;
        if (!HttpMethods.IsGet(r.Method) && !HttpMethods.IsPost(r.Method))
            throw new EcsException(EcsErrors.ParameterInvalid("method", $"'{r.Method}' is not supported; use GET or POST."));
        if (r.ContentLength > MaxBodyBytes)
            throw new EcsException(EcsErrors.ParameterInvalid("body", $"the body may hold at most {MaxBodyBytes} bytes."));
        var query = PercentEncoding.ParsePairs(r.QueryString.Value ?? "");
        byte[] body;
        if (r.ContentLength == 0)
            // A signed GET or a V3 call with its parameters in the query (an agent's long poll, every
            // renewal): no body, and no 16 KiB read buffer allocated for none (issue 17).
            body = [];
        else if (r.ContentLength is { } length)
        {
            // A body of a known length (every SDK's and agent's form body) is read into an array of that
            // length: no growing stream and no 16 KiB chunk rented and copied per request (issue 17,
            // eighteenth session: 3,000 requests a 1,000-host change).
            body = new byte[length];
            var read = 0;
            while (read < body.Length)
            {
                var n = await r.Body.ReadAsync(body.AsMemory(read), http.RequestAborted);
                if (n == 0)
                    throw new EcsException(EcsErrors.ParameterInvalid("body", $"the body ended after {read} of its {length} bytes."));
                read += n;
            }
        }
        else
        {
            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(16384);
            try
            {
                int read;
                while ((read = await r.Body.ReadAsync(chunk.AsMemory(0, 16384), http.RequestAborted)) > 0)
                {
                    if (buffer.Length + read > MaxBodyBytes)
                        throw new EcsException(EcsErrors.ParameterInvalid("body", $"the body may hold at most {MaxBodyBytes} bytes."));
                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
            body = buffer.ToArray();
        }
        var form = new List<KeyValuePair<string, string>>();
        if (body.Length > 0 && (r.ContentType ?? "").StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(body);
            }
            catch (DecoderFallbackException)
            {
                throw new EcsException(EcsErrors.ParameterInvalid("body", "the form body is not UTF-8."));
            }
            form = PercentEncoding.ParsePairs(text);
        }
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in r.Headers)
            headers[name.ToLowerInvariant()] = values.ToString();
        return new RpcRequest(r.Method, r.Host.Value ?? "", query, form, headers, body);
    }

    private static byte[] Render(ResponseFormat format, string rootName, EcsObject body) =>
        format == ResponseFormat.Xml ? ResponseWriter.Xml(rootName, body) : ResponseWriter.Json(body);

    private static Task WriteAsync(HttpContext http, int status, ResponseFormat format, string rootName, EcsObject body) =>
        WriteBytesAsync(http, status, format, Render(format, rootName, body));

    /// <summary>
    /// A cached answer, its pieces around the new RequestId copied into the output and sent by one
    /// flush: a write of the body stream flushes, and three flushes were three sends (over TLS, two of
    /// them records of a few bytes each).
    /// </summary>
    private static async Task WriteCachedAsync(HttpContext http, ResponseFormat format, ReadCache.Entry entry, string requestId, RequestCpu cpu)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = format == ResponseFormat.Xml ? ResponseWriter.XmlContentType : ResponseWriter.JsonContentType;
        http.Response.ContentLength = entry.LengthWith(requestId);
        entry.WriteTo(http.Response.BodyWriter, requestId);
        // The flush waits for the transport to take the answer (past its buffer's limit): no CPU of this request's meanwhile.
        await cpu.Around(http.Response.BodyWriter.FlushAsync());
    }

    /// <summary>A rendered answer, its pieces copied into the output and sent by one flush.</summary>
    private static async Task WriteAnswerAsync(HttpContext http, ResponseFormat format, RenderedAnswer answer)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = format == ResponseFormat.Xml ? ResponseWriter.XmlContentType : ResponseWriter.JsonContentType;
        http.Response.ContentLength = answer.Length;
        var body = http.Response.BodyWriter;
        foreach (var piece in answer.Pieces)
            body.Write((ReadOnlySpan<byte>)piece.AsSpan());
        // Copied into the connection's pipe: a lent buffer goes back now, not after a slow client took the bytes.
        answer.Release();
        await body.FlushAsync();
    }

    private static async Task WriteBytesAsync(HttpContext http, int status, ResponseFormat format, byte[] bytes)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = format == ResponseFormat.Xml ? ResponseWriter.XmlContentType : ResponseWriter.JsonContentType;
        http.Response.ContentLength = bytes.Length;
        await http.Response.Body.WriteAsync(bytes);
    }
}
