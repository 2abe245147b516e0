using Palisade.Domain.Signatures;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Palisade.Domain.Errors;
using Palisade.Server.Actions;
using Palisade.Server.Protocol;
using Palisade.Server.Responses;
using Palisade.Storage;

namespace Palisade.Server.Hosting;

/// <summary>
/// The one RPC endpoint on <c>/</c>: read the request, check its signature, find the action, run
/// it, and answer in JSON or XML, or with an ECS error. Nothing a client sends gets a 500.
/// </summary>
public sealed class RpcEndpoint(ActionCatalog catalog, Authenticator authenticator, RequestThrottle throttle, IStore store, TimeProvider clock, ServerOptions options, ReadCache cache, ServerMetrics metrics, ILogger<RpcEndpoint> logger, Accounts.AccountService accounts,
    AccountThrottle accountThrottle, RefusalTrail refusals, AnalysisBudget analysisBudget)
{
    /// <summary>Bodies larger than this are refused before they are read: no ECS request comes near it.</summary>
    public const int MaxBodyBytes = 1 << 20;

    public async Task HandleAsync(HttpContext http)
    {
        var requestId = Guid.NewGuid().ToString().ToUpperInvariant();
        http.Response.Headers["x-acs-request-id"] = requestId;
        var format = ResponseFormat.Json;
        string? action = null;
        var started = Stopwatch.GetTimestamp();
        EcsError? failure = null;
        EcsObject? extra = null;
        ActionContext? context = null;
        try
        {
            var request = await ReadAsync(http);
            format = ChooseFormat(request);
            action = request.Action;
            var ecsAction = Prepare(request, requestId, out context);
            var call = context!;
            string? cacheKey = null;
            long revision = 0;
            if (options.CacheReads && ecsAction.Cacheable && !call.DryRun)
            {
                cacheKey = ReadCache.Key(call.Caller, ecsAction, request, format);
                revision = store.CurrentRevision();
                if (cache.TryGet(cacheKey, revision, out var hit))
                {
                    await WriteCachedAsync(http, format, hit, requestId);
                    Log(action, null, started, requestId, cached: true);
                    return;
                }
            }
            EcsObject body;
            using (analysisBudget.Begin(call.AccountId, ecsAction))
            {
                body = ecsAction is IAsyncEcsAction waiting
                    ? await waiting.ExecuteAsync(call, http.RequestAborted)
                    : ecsAction.Execute(call);
            }
            if (!ecsAction.Mutates && call.DryRun)
                throw new EcsException(EcsErrors.DryRunPassed());
            var response = new EcsObject { { "RequestId", requestId } };
            foreach (var (name, value) in body)
            {
                if (name != "RequestId")
                    response.Add(name, value);
            }
            var bytes = Render(format, $"{action}Response", response);
            if (cacheKey is not null)
                cache.Put(cacheKey, revision, bytes, requestId);
            await WriteBytesAsync(http, 200, format, bytes);
        }
        catch (EcsException e)
        {
            failure = e.Error;
        }
        catch (DryRunPassedException e)
        {
            failure = e.Error;
            extra = e.Extra;
        }
        catch (StoreFullException e)
        {
            logger.LogWarning(e, "Request {RequestId} ({Action}): the store is full; writes are refused", requestId, LogValues.Action(action, catalog));
            failure = EcsErrors.StoreFull();
        }
        catch (StoreUnavailableException e)
        {
            // Retryable for the client (SDKs retry 503 ServiceUnavailable), and worth a warning here.
            logger.LogWarning(e, "Request {RequestId} ({Action}): the store is unavailable", requestId, LogValues.Action(action, catalog));
            failure = EcsErrors.Unavailable();
        }
        catch (BadHttpRequestException e)
        {
            failure = EcsErrors.ParameterInvalid("request", e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The exception's text may quote the request: escaped, on one line, like every other logged value.
            logger.LogError("Request {RequestId} ({Action}) failed unexpectedly: {Exception}", requestId, LogValues.Action(action, catalog), LogValues.Escape(e.ToString(), 8192));
            failure = EcsErrors.Internal();
        }
        // Every mutating call of a verified key is on the trail; a success that wrote its event with its change is there already.
        if (context is { Action.Mutates: true, Trailed: false })
            RecordTrail(context, failure);
        if (failure is not null)
            await WriteErrorAsync(http, format, failure, requestId, extra);
        Log(action, failure, started, requestId, cached: false);
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
    private void Log(string? action, EcsError? failure, long started, string requestId, bool cached)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        logger.LogInformation("{Action} {Status} {Code} {ElapsedMs:F1} ms {Cached} {RequestId}", LogValues.Action(action, catalog), failure?.HttpStatus ?? 200, failure?.Code ?? "OK",
            elapsed.TotalMilliseconds, cached ? "cached" : "computed", requestId);
        metrics.Request(action is not null && catalog.KnowsName(action) ? action : "unknown", failure?.Code ?? "OK", elapsed);
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

    /// <param name="context">Set as soon as the caller and the action are known, so that a refusal after that point is on the trail.</param>
    private IEcsAction Prepare(RpcRequest request, string requestId, out ActionContext? context)
    {
        context = null;
        var actionName = request.Action ?? throw new EcsException(EcsErrors.MissingAction());
        var version = request.Version ?? throw new EcsException(EcsErrors.Missing("Version"));
        var caller = authenticator.Authenticate(request);
        // Counted after the signature and the nonce: only the key's own fresh requests use its
        // rate, so neither forged requests nor replays of a captured one can throttle a victim.
        if (!throttle.TryAcquire(caller.AccessKeyId) || !accountThrottle.TryAcquire(caller.AccountId))
            throw new EcsException(EcsErrors.Throttled());
        if (!catalog.KnowsVersion(version))
            throw new EcsException(EcsErrors.VersionNotSupported(version));
        var action = catalog.Find(version, actionName) ?? throw new EcsException(EcsErrors.ActionNotFound(actionName));
        context = new ActionContext(request, caller, action, store, clock, options, requestId, accounts);
        if (caller.ReadOnly && action.Mutates)
            throw new EcsException(EcsErrors.ReadOnlyKey(action.Name));
        return action;
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
        using (var buffer = new MemoryStream())
        {
            var chunk = new byte[16384];
            int read;
            while ((read = await r.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                    throw new EcsException(EcsErrors.ParameterInvalid("body", $"the body may hold at most {MaxBodyBytes} bytes."));
                buffer.Write(chunk, 0, read);
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

    /// <summary>A cached answer, written in three pieces around the new RequestId: a large answer is never copied.</summary>
    private static async Task WriteCachedAsync(HttpContext http, ResponseFormat format, ReadCache.Entry entry, string requestId)
    {
        var id = Encoding.UTF8.GetBytes(requestId);
        http.Response.StatusCode = 200;
        http.Response.ContentType = format == ResponseFormat.Xml ? ResponseWriter.XmlContentType : ResponseWriter.JsonContentType;
        http.Response.ContentLength = entry.Head.Length + id.Length + entry.Tail.Length;
        var body = http.Response.Body;
        await body.WriteAsync(entry.Head);
        await body.WriteAsync(id);
        await body.WriteAsync(entry.Tail);
    }

    private static async Task WriteBytesAsync(HttpContext http, int status, ResponseFormat format, byte[] bytes)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = format == ResponseFormat.Xml ? ResponseWriter.XmlContentType : ResponseWriter.JsonContentType;
        http.Response.ContentLength = bytes.Length;
        await http.Response.Body.WriteAsync(bytes);
    }
}
