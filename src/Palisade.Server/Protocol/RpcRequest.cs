using Palisade.Domain.Signatures;
using Palisade.Domain.Errors;

namespace Palisade.Server.Protocol;

/// <summary>
/// One RPC call as it arrived: the method, the Host it was sent to, the query and form parameters
/// (decoded, in order), the headers (lower-case names) and the raw body. The merged
/// <see cref="Parameters"/> are what actions read; the raw parts are what signatures are checked on.
/// </summary>
internal sealed class RpcRequest(string method, string host, IReadOnlyList<KeyValuePair<string, string>> query, IReadOnlyList<KeyValuePair<string, string>> form,
    IReadOnlyDictionary<string, string> headers, byte[] body)
{
    public string Method { get; } = method;

    public string Host { get; } = host;

    public IReadOnlyList<KeyValuePair<string, string>> Query { get; } = query;

    public IReadOnlyList<KeyValuePair<string, string>> Form { get; } = form;

    public IReadOnlyDictionary<string, string> Headers { get; } = headers;

    public byte[] Body { get; } = body;

    public IReadOnlyDictionary<string, string> Parameters { get; } = Merge(query, form);

    private static Dictionary<string, string> Merge(IReadOnlyList<KeyValuePair<string, string>> query, IReadOnlyList<KeyValuePair<string, string>> form)
    {
        // Sized at once: a host's poll carrying its status report holds ~100 parameters, and growing the table
        // left each of its smaller tables as garbage (twentieth session).
        var merged = new Dictionary<string, string>(query.Count + form.Count, StringComparer.Ordinal);
        foreach (var (name, value) in query.Concat(form))
        {
            // No ECS parameter holds a NUL, and PostgreSQL cannot store one in text: refused here, for every action and store alike.
            if (name.Contains('\0') || value.Contains('\0'))
                throw new EcsException(EcsErrors.ParameterInvalid(name.Replace('\0', '?'), "it holds a NUL character."));
            // A parameter given twice has no single meaning; ECS signs each pair, we refuse to guess.
            if (!merged.TryAdd(name, value))
                throw new EcsException(EcsErrors.ParameterInvalid(name, "it is given more than once."));
        }
        return merged;
    }

    public string? Header(string lowerCaseName) => Headers.GetValueOrDefault(lowerCaseName);

    public string? Parameter(string name) => Parameters.GetValueOrDefault(name);

    /// <summary>
    /// The action: the signed <c>x-acs-action</c> header of a V3 request, the signed <c>Action</c>
    /// parameter of a V1 request. A V1 request's headers are not signed, so they never decide.
    /// </summary>
    public string? Action => IsV3 && Header("x-acs-action") is { Length: > 0 } h ? h : Parameter("Action");

    public string? Version => IsV3 && Header("x-acs-version") is { Length: > 0 } h ? h : Parameter("Version");

    public bool IsV3 => Header("authorization") is { } a && a.StartsWith(SignatureV3.Algorithm, StringComparison.Ordinal);
}
