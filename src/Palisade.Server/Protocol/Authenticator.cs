using Palisade.Domain.Signatures;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Palisade.Domain.Errors;
using Palisade.Storage.Accounts;
using Palisade.Storage.Records;

namespace Palisade.Server.Protocol;

/// <summary>
/// Who a verified request acts as: an account's key, or a host's agent (<paramref name="HostName"/>
/// set, <paramref name="AccountId"/> 0), which may call only its host's agent actions (issue 18).
/// </summary>
internal sealed record Caller(long AccountId, string AccessKeyId, bool ReadOnly, string? HostName = null)
{
    public bool IsHost => HostName is not null;
}

/// <summary>
/// Verifies a request's signature (V1 or V3), its timestamp window and its nonce, before anything
/// runs. Every failure is a catalogue error; none reveals the secret.
/// </summary>
internal sealed class Authenticator(AccountService accounts, INonceRegistry nonces, TimeProvider clock)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    /// <summary>How long a node trusts what it read of a key: a disabled or deleted key stops working within this.</summary>
    public static readonly TimeSpan KeyCacheLifetime = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (AccountService.KnownKey? Key, DateTimeOffset Until, long Revision)> _keys = new();

    /// <summary>How often a node records a host credential's use (its last use is shown to the minute).</summary>
    public static readonly TimeSpan HostCredentialUseInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _hostUseNoted = new(StringComparer.Ordinal);

    public Caller Authenticate(RpcRequest request) =>
        request.IsV3 ? AuthenticateV3(request) : AuthenticateV1(request);

    private Caller AuthenticateV1(RpcRequest request)
    {
        string Required(string name) => request.Parameter(name) is { Length: > 0 } v ? v : throw new EcsException(EcsErrors.Missing(name));
        var keyId = Required("AccessKeyId");
        var signature = Required("Signature");
        var timestamp = Required("Timestamp");
        var nonce = Required("SignatureNonce");
        CheckNonce(nonce);
        if (request.Parameter("SignatureMethod") is { } method && method != "HMAC-SHA1")
            throw new EcsException(EcsErrors.ParameterInvalid("SignatureMethod", $"'{method}' is not supported; use HMAC-SHA1."));
        if (request.Parameter("SignatureVersion") is { } version && version != "1.0")
            throw new EcsException(EcsErrors.ParameterInvalid("SignatureVersion", $"'{version}' is not supported; use 1.0."));
        var at = CheckTimestamp(timestamp);
        var key = FindKey(keyId);

        var stringToSign = SignatureV1.StringToSign(request.Method, request.Query.Concat(request.Form));
        var expected = SignatureV1.Sign(key.Secret, stringToSign);
        if (!FixedTimeEquals(expected, signature))
        {
            // ECS echoes the string to sign to help debug a client; the values of secret parameters are left out of the echo.
            var echoed = SignatureV1.StringToSign(request.Method, SecretParameters.Masked(request.Query.Concat(request.Form)));
            throw new EcsException(EcsErrors.SignatureMismatch(echoed));
        }
        return Admit(key, nonce, at);
    }

    private Caller AuthenticateV3(RpcRequest request)
    {
        var authorization = SignatureV3.ParseAuthorization(request.Header("authorization")!)
            ?? throw new EcsException(EcsErrors.SignatureIncomplete("the Authorization header must be 'ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…'."));
        var date = request.Header("x-acs-date") ?? throw new EcsException(EcsErrors.Missing("x-acs-date"));
        var nonce = request.Header("x-acs-signature-nonce") ?? throw new EcsException(EcsErrors.Missing("x-acs-signature-nonce"));
        CheckNonce(nonce);
        var signed = authorization.SignedHeaders.ToHashSet(StringComparer.Ordinal);
        // Everything that decides what the request does must be covered by the signature.
        // content-type decides whether the body is read as parameters, so it must be signed too.
        foreach (var name in request.Headers.Keys.Where(h => h.StartsWith("x-acs-", StringComparison.Ordinal) || h == "content-type").Append("host"))
        {
            if (!signed.Contains(name))
                throw new EcsException(EcsErrors.SignatureIncomplete($"the header '{name}' must be signed."));
        }
        if (authorization.SignedHeaders.Any(h => h != h.ToLowerInvariant()))
            throw new EcsException(EcsErrors.SignatureIncomplete("SignedHeaders must be lower-case."));
        var at = CheckTimestamp(date);
        var key = FindKey(authorization.AccessKeyId);

        var canonical = SignatureV3.CanonicalRequest(request.Method, "/", request.Query,
            name => name == "host" ? request.Host : request.Header(name), authorization.SignedHeaders, request.Body);
        var stringToSign = SignatureV3.StringToSign(canonical);
        var expected = SignatureV3.Sign(key.Secret, stringToSign);
        if (!FixedTimeEquals(expected, authorization.Signature))
            throw new EcsException(EcsErrors.SignatureMismatch(stringToSign.Replace('\n', ' ')));
        return Admit(key, nonce, at);
    }

    /// <summary>SDKs send a UUID or 32 to 64 hex digits; a longer nonce would be stored (and indexed) for 15 minutes.</summary>
    public const int MaxNonceLength = 256;

    /// <summary>Alibaba Cloud key IDs are 16 to 30 characters; a longer one is looked up nowhere and never cached.</summary>
    public const int MaxAccessKeyIdLength = 128;

    private static void CheckNonce(string nonce)
    {
        if (nonce.Length > MaxNonceLength)
            throw new EcsException(EcsErrors.ParameterInvalid("SignatureNonce", $"at most {MaxNonceLength} characters."));
    }

    private Caller Admit(AccountService.KnownKey key, string nonce, DateTimeOffset at)
    {
        if (key.Record.Status != AccessKeyStatus.Active)
            throw new EcsException(EcsErrors.AccessKeyInactive());
        // After the signature: an unsigned request must not be able to burn someone's nonce.
        if (!nonces.TryUse(key.Record.AccessKeyId, nonce, at + Window))
            throw new EcsException(EcsErrors.NonceUsed());
        if (key.HostName is not null)
            NoteHostCredentialUse(key.Record.AccessKeyId);
        return new Caller(key.Record.AccountId, key.Record.AccessKeyId, key.Record.ReadOnly, key.HostName);
    }

    /// <summary>At most once per <see cref="HostCredentialUseInterval"/> per credential on this node; a store that cannot take it now loses nothing but the note.</summary>
    private void NoteHostCredentialUse(string accessKeyId)
    {
        var now = clock.GetUtcNow();
        if (_hostUseNoted.TryGetValue(accessKeyId, out var noted) && now - noted < HostCredentialUseInterval)
            return;
        _hostUseNoted[accessKeyId] = now;
        if (_hostUseNoted.Count > 10_000)
            _hostUseNoted.Clear();
        try
        {
            accounts.NoteHostCredentialUse(accessKeyId, now);
        }
        catch (Palisade.Storage.StoreUnavailableException)
        {
            _hostUseNoted.TryRemove(accessKeyId, out _);
        }
    }

    private DateTimeOffset CheckTimestamp(string text)
    {
        if (!DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            throw new EcsException(EcsErrors.TimestampFormat(text));
        if ((clock.GetUtcNow() - at).Duration() > Window)
            throw new EcsException(EcsErrors.TimestampExpired(text));
        return at;
    }

    private AccountService.KnownKey FindKey(string accessKeyId)
    {
        // Unknown keys are cached too (up to 10,000 of them): an unbounded ID would let unsigned requests fill memory.
        if (accessKeyId.Length > MaxAccessKeyIdLength)
            throw new EcsException(EcsErrors.AccessKeyNotFound());
        var now = clock.GetUtcNow();
        // A host credential is trusted only while the store stands still: its revocation (or a
        // rotation) is a commit, so it stops working at once on every node, not within the cache's
        // lifetime. Agents call rarely (a long poll, a report), so the extra look costs little.
        var found = _keys.TryGetValue(accessKeyId, out var cached);
        if (!found || cached.Until < now || (cached.Key?.HostName is not null && accounts.CurrentRevision() != cached.Revision))
        {
            // Read before the key: a revocation committed after this look moves it, and the next call reads again.
            var revision = accounts.CurrentRevision();
            var key = accounts.FindKey(accessKeyId);
            cached = (key, now + KeyCacheLifetime, revision);
            if (_keys.Count > 10_000)
                _keys.Clear();
            _keys[accessKeyId] = cached;
        }
        return cached.Key ?? throw new EcsException(EcsErrors.AccessKeyNotFound());
    }

    private static bool FixedTimeEquals(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));
}
