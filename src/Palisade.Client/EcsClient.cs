using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Palisade.Domain.Ecs;
using Palisade.Domain.Signatures;

namespace Palisade.Client;

public enum SignatureStyle
{
    /// <summary>ACS3-HMAC-SHA256 in an Authorization header, parameters in the query of a POST (the current SDKs).</summary>
    V3,

    /// <summary>HMAC-SHA1 over the parameters, all in the query of a GET (pop-core, the aliyun CLI).</summary>
    V1Get,

    /// <summary>HMAC-SHA1, all parameters in a form body (pop-core POST, terraform).</summary>
    V1Post,
}

public sealed record ClientCredentials(string AccessKeyId, string AccessKeySecret);

/// <summary>What the server answered: status, body, content type, and the ECS error fields when it failed.</summary>
public sealed record EcsResponse(int Status, string Body, string ContentType)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    /// <summary>The ECS error code of a failed answer, in JSON or XML; null on success or when there is none.</summary>
    public string? Code
    {
        get
        {
            if (IsSuccess)
                return null;
            if (ContentType.Contains("xml", StringComparison.Ordinal))
                return System.Xml.Linq.XDocument.Parse(Body).Root?.Element("Code")?.Value;
            return Json.TryGetProperty("Code", out var c) ? c.GetString() : null;
        }
    }
}

/// <summary>An ECS error answer, raised by <see cref="EcsClient.CallAsync"/>.</summary>
public sealed class EcsApiException(EcsResponse response, string code, string message, string requestId)
    : Exception($"{code}: {message} (HTTP {response.Status}, RequestId {requestId})")
{
    public EcsResponse Response { get; } = response;
    public string Code { get; } = code;
    public string EcsMessage { get; } = message;
    public string RequestId { get; } = requestId;
    public int Status => Response.Status;
}

/// <summary>
/// A signing client for the ECS RPC API, as the official SDKs sign (sdk-wire.md §7): used by the
/// CLI, the agent and the tests. Signatures are computed by the same code the server verifies with.
/// </summary>
public sealed class EcsClient(HttpClient http, ClientCredentials credentials, SignatureStyle style = SignatureStyle.V3, TimeProvider? clock = null)
{
    /// <summary>The server this client calls.</summary>
    public Uri Endpoint => http.BaseAddress ?? throw new InvalidOperationException("The HttpClient needs a BaseAddress.");

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public SignatureStyle Style => style;

    /// <summary>Calls an action; the JSON body on success, an <see cref="EcsApiException"/> on an ECS error.</summary>
    public async Task<JsonElement> CallAsync(string action, IEnumerable<KeyValuePair<string, string>>? parameters = null, string version = ApiVersions.Ecs, CancellationToken cancel = default)
    {
        var response = await SendAsync(action, parameters, version, cancel);
        JsonElement json;
        try
        {
            json = response.Json;
        }
        catch (JsonException)
        {
            // Not an ECS answer at all (a proxy's page, an empty 414): say what came back.
            throw new EcsApiException(response, $"Http{response.Status}", $"the server answered HTTP {response.Status} without an ECS body", "");
        }
        if (response.IsSuccess)
            return json;
        string Field(string name) => json.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";
        throw new EcsApiException(response, Field("Code"), Field("Message"), Field("RequestId"));
    }

    /// <summary>
    /// Calls an action and parses a successful answer straight from the response's UTF-8 bytes into a
    /// document the caller disposes (issue 17, twentieth session: the agent's fetch and woken poll; no
    /// body as a string, parsed from it and the document cloned); an ECS error as <see cref="CallAsync(string, IEnumerable{KeyValuePair{string, string}}?, string, CancellationToken)"/> raises it.
    /// </summary>
    public async Task<JsonDocument> CallDocumentAsync(string action, IEnumerable<KeyValuePair<string, string>>? parameters = null, string version = ApiVersions.Ecs, CancellationToken cancel = default)
    {
        using var request = Build(action, [.. parameters ?? []], version);
        using var response = await http.SendAsync(request, cancel);
        var body = await response.Content.ReadAsByteArrayAsync(cancel);
        if (response.IsSuccessStatusCode)
        {
            try
            {
                // A byte-order mark, which reading the body as a string would have dropped, is not JSON.
                return JsonDocument.Parse(body.AsMemory(body is [0xEF, 0xBB, 0xBF, ..] ? 3 : 0));
            }
            catch (JsonException)
            {
                // Not an ECS answer at all: said as CallAsync says it.
            }
        }
        var answer = new EcsResponse((int)response.StatusCode, System.Text.Encoding.UTF8.GetString(body), response.Content.Headers.ContentType?.ToString() ?? "");
        JsonElement json;
        try
        {
            json = answer.Json;
        }
        catch (JsonException)
        {
            throw new EcsApiException(answer, $"Http{answer.Status}", $"the server answered HTTP {answer.Status} without an ECS body", "");
        }
        string Field(string name) => json.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";
        throw new EcsApiException(answer, Field("Code"), Field("Message"), Field("RequestId"));
    }

    public Task<JsonElement> CallAsync(string action, object parameters, string version = ApiVersions.Ecs, CancellationToken cancel = default) =>
        CallAsync(action, Flatten(parameters), version, cancel);

    /// <summary>Sends a signed request and returns whatever came back, success or not.</summary>
    public async Task<EcsResponse> SendAsync(string action, IEnumerable<KeyValuePair<string, string>>? parameters, string version = ApiVersions.Ecs, CancellationToken cancel = default,
        Action<HttpRequestMessage>? tamper = null)
    {
        using var request = Build(action, [.. parameters ?? []], version);
        tamper?.Invoke(request);
        using var response = await http.SendAsync(request, cancel);
        var body = await response.Content.ReadAsStringAsync(cancel);
        return new EcsResponse((int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString() ?? "");
    }

    /// <summary>Sends a GET for an already signed URL (to replay one, for instance).</summary>
    public Task<HttpResponseMessage> SendRawAsync(Uri signedUrl, CancellationToken cancel = default) => http.GetAsync(signedUrl, cancel);

    /// <summary>The headers a V3 request signs, in V3's (ordinal) order; <c>host</c> first, which HttpClient sends itself.</summary>
    private static readonly string[] SignedV3Headers = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"];

    private static readonly string SignedV3HeaderList = string.Join(';', SignedV3Headers);

    /// <summary>Every request's body is empty (its parameters are in the query): the SHA-256 of nothing.</summary>
    private static readonly string EmptyBodySha256 = Convert.ToHexStringLower(SHA256.HashData([]));

    public HttpRequestMessage Build(string action, IReadOnlyList<KeyValuePair<string, string>> parameters, string version)
    {
        var baseUri = http.BaseAddress ?? throw new InvalidOperationException("The HttpClient needs a BaseAddress.");
        var now = _clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        if (style == SignatureStyle.V3)
        {
            var query = string.Join('&', parameters.Select(p => $"{PercentEncoding.Encode(p.Key)}={PercentEncoding.Encode(p.Value)}"));
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, query.Length > 0 ? "/?" + query : "/"));
            // The signed headers' values in the names' order (SignedV3Headers, sorted as V3 signs them).
            string[] values = [baseUri.Authority, action, EmptyBodySha256, now, nonce, version];
            string? Header(string name) => Array.IndexOf(SignedV3Headers, name) is var at and >= 0 ? values[at] : null;
            // The canonical request hashed as it is written (issue 17, twenty-second session: an agent's poll
            // carries its status report, ~100 parameters, and its canonical text and that text's bytes were
            // two more copies of the query a request); the server verifies with the same function, and the
            // text is its slow twin (SigningShortcutsTests).
            var signature = SignatureV3.Sign(credentials.AccessKeySecret, SignatureV3.StringToSignOf("POST", "/", parameters, Header, SignedV3Headers, []));
            for (var k = 1; k < SignedV3Headers.Length; k++)
                request.Headers.TryAddWithoutValidation(SignedV3Headers[k], values[k]);
            request.Headers.TryAddWithoutValidation("accept", "application/json");
            request.Headers.TryAddWithoutValidation("Authorization",
                $"{SignatureV3.Algorithm} Credential={credentials.AccessKeyId},SignedHeaders={SignedV3HeaderList},Signature={signature}");
            request.Content = new ByteArrayContent([]);
            return request;
        }

        // Format=JSON unless the caller names one; an empty Format leaves it out (XML is then the V1 default).
        var all = new List<KeyValuePair<string, string>>(parameters.Where(p => p.Key != "Format" || p.Value.Length > 0))
        {
            new("Action", action), new("Version", version), new("AccessKeyId", credentials.AccessKeyId),
            new("SignatureMethod", "HMAC-SHA1"), new("SignatureVersion", "1.0"), new("SignatureNonce", nonce), new("Timestamp", now),
        };
        if (parameters.All(p => p.Key != "Format"))
            all.Add(new("Format", "JSON"));
        var method = style == SignatureStyle.V1Get ? "GET" : "POST";
        var v1Signature = SignatureV1.Sign(credentials.AccessKeySecret, SignatureV1.StringToSign(method, all));
        all.Add(new("Signature", v1Signature));
        var encoded = string.Join('&', all.Select(p => $"{PercentEncoding.Encode(p.Key)}={PercentEncoding.Encode(p.Value)}"));
        if (style == SignatureStyle.V1Get)
            return new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/?" + encoded));
        return new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/"))
        {
            Content = new StringContent(encoded, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
    }

    /// <summary>
    /// Turns an anonymous object into ECS parameters: properties by name; arrays of scalars as
    /// <c>Name.N</c>; arrays of objects as <c>Name.N.Field</c>; nulls left out.
    /// </summary>
    public static List<KeyValuePair<string, string>> Flatten(object parameters)
    {
        var list = new List<KeyValuePair<string, string>>();
        void Add(string name, object? value)
        {
            switch (value)
            {
                case null:
                    return;
                case string s:
                    list.Add(new(name, s));
                    return;
                case bool b:
                    list.Add(new(name, b ? "true" : "false"));
                    return;
                case IFormattable f when value.GetType().IsPrimitive:
                    list.Add(new(name, f.ToString(null, CultureInfo.InvariantCulture)));
                    return;
                case System.Collections.IEnumerable items:
                    var n = 0;
                    foreach (var item in items)
                        Add($"{name}.{++n}", item);
                    return;
                default:
                    foreach (var p in value.GetType().GetProperties())
                        Add($"{name}.{p.Name}", p.GetValue(value));
                    return;
            }
        }
        if (parameters is IEnumerable<KeyValuePair<string, string>> pairs)
            return [.. pairs];
        foreach (var p in parameters.GetType().GetProperties())
            Add(p.Name, p.GetValue(parameters));
        return list;
    }
}
