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
public sealed class RpcEndpoint(ActionCatalog catalog, Authenticator authenticator, IStore store, TimeProvider clock, ServerOptions options, ILogger<RpcEndpoint> logger)
{
    /// <summary>Bodies larger than this are refused before they are read: no ECS request comes near it.</summary>
    public const int MaxBodyBytes = 1 << 20;

    public async Task HandleAsync(HttpContext http)
    {
        var requestId = Guid.NewGuid().ToString().ToUpperInvariant();
        var format = ResponseFormat.Json;
        string? action = null;
        var started = Stopwatch.GetTimestamp();
        EcsError? failure = null;
        try
        {
            var request = await ReadAsync(http);
            format = ChooseFormat(request);
            action = request.Action;
            var body = Dispatch(request);
            var response = new EcsObject { { "RequestId", requestId } };
            foreach (var (name, value) in body)
            {
                if (name != "RequestId")
                    response.Add(name, value);
            }
            await WriteAsync(http, 200, format, $"{action}Response", response);
        }
        catch (EcsException e)
        {
            failure = e.Error;
        }
        catch (BadHttpRequestException e)
        {
            failure = EcsErrors.ParameterInvalid("request", e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Request {RequestId} ({Action}) failed unexpectedly", requestId, action);
            failure = EcsErrors.Internal();
        }
        if (failure is not null)
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
            await WriteAsync(http, failure.HttpStatus, format, "Error", error);
        }
        logger.LogInformation("{Action} {Status} {Code} {ElapsedMs:F1} ms {RequestId}", action ?? "-", failure?.HttpStatus ?? 200, failure?.Code ?? "OK",
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, requestId);
    }

    private EcsObject Dispatch(RpcRequest request)
    {
        var actionName = request.Action ?? throw new EcsException(EcsErrors.MissingAction());
        var version = request.Version ?? throw new EcsException(EcsErrors.Missing("Version"));
        var caller = authenticator.Authenticate(request);
        if (!catalog.KnowsVersion(version))
            throw new EcsException(EcsErrors.VersionNotSupported(version));
        var action = catalog.Find(version, actionName) ?? throw new EcsException(EcsErrors.ActionNotFound(actionName));
        if (caller.ReadOnly && action.Mutates)
            throw new EcsException(EcsErrors.ReadOnlyKey(action.Name));
        var context = new ActionContext(request, caller, action, store, clock, options);
        var result = action.Execute(context);
        if (!action.Mutates && context.DryRun)
            throw new EcsException(EcsErrors.DryRunPassed());
        return result;
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

    private static async Task WriteAsync(HttpContext http, int status, ResponseFormat format, string rootName, EcsObject body)
    {
        var bytes = format == ResponseFormat.Xml ? ResponseWriter.Xml(rootName, body) : ResponseWriter.Json(body);
        http.Response.StatusCode = status;
        http.Response.ContentType = format == ResponseFormat.Xml ? ResponseWriter.XmlContentType : ResponseWriter.JsonContentType;
        http.Response.Headers["x-acs-request-id"] = (string?)body["RequestId"];
        http.Response.ContentLength = bytes.Length;
        await http.Response.Body.WriteAsync(bytes);
    }
}
