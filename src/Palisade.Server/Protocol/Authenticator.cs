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
internal sealed class Authenticator(AccountService accounts, INonceRegistry nonces, TimeProvider clock, Hosting.ServerOptions? options = null) : IDisposable
{
    private readonly bool _trustHeldHostSecrets = options?.HostSecretsHeldForPolls ?? true;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    /// <summary>How long a node trusts what it read of a key: a disabled or deleted key stops working within this.</summary>
    public static readonly TimeSpan KeyCacheLifetime = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (AccountService.KnownKey? Key, DateTimeOffset Until, long Revision)> _keys = new();

    /// <summary>How often a node records a host credential's use (its last use is shown to the minute).</summary>
    public static readonly TimeSpan HostCredentialUseInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _hostUseNoted = new(StringComparer.Ordinal);

    /// <param name="credentialReadByAction">
    /// The action reads the caller's host credential in its own read and refuses it when gone
    /// (<see cref="Actions.Hosts.IHostAgentAction.ReadsItsCredential"/>): a host credential's secret
    /// held from an earlier request is then used as it is, without a look at the store.
    /// </param>
    public Caller Authenticate(RpcRequest request, bool credentialReadByAction = false)
    {
        var verified = Verify(request, credentialReadByAction, mayReadStore: true)!;
        return Admit(verified.Key, verified.Nonce, verified.At);
    }

    /// <summary>A request whose signature and timestamp checked out with its key: its nonce is still to be recorded.</summary>
    internal sealed record Verified(AccountService.KnownKey Key, string Nonce, DateTimeOffset At);

    /// <summary>
    /// Everything <see cref="Authenticate"/> checks but the nonce. With <paramref name="mayReadStore"/>
    /// false, null when the key cannot be known without a look at the store (the caller then asks again
    /// holding a store slot): the request path takes a slot only for a request that reads (issue 17,
    /// fifteenth session). Refusals are the same either way: everything checked before the key is
    /// checked again, and after it the key is the same.
    /// </summary>
    internal Verified? Verify(RpcRequest request, bool credentialReadByAction, bool mayReadStore) =>
        request.IsV3 ? AuthenticateV3(request, credentialReadByAction, mayReadStore) : AuthenticateV1(request, credentialReadByAction, mayReadStore);

    /// <summary>
    /// The nonce of a verified request recorded without holding a thread (batched with others' on a
    /// PostgreSQL node: <see cref="StoreNonceRegistry"/>), then the caller. A host credential's use is
    /// noted as <see cref="Authenticate"/> notes it, except that a use to be written now goes with the
    /// next batch of uses instead (no store write on this path; the key was held, so the credential was
    /// used on this node before).
    /// </summary>
    internal async ValueTask<Caller> AdmitAsync(Verified verified, CancellationToken cancel)
    {
        var key = verified.Key;
        if (key.Record.Status != AccessKeyStatus.Active)
            throw new EcsException(EcsErrors.AccessKeyInactive());
        if (!await nonces.TryUseAsync(key.Record.AccessKeyId, verified.Nonce, verified.At + Window, cancel).ConfigureAwait(false))
            throw new EcsException(EcsErrors.NonceUsed());
        if (key.HostName is not null)
            NoteHostCredentialUse(key.Record.AccessKeyId, writeFirstUse: false);
        return new Caller(key.Record.AccountId, key.Record.AccessKeyId, key.Record.ReadOnly, key.HostName);
    }

    private Verified? AuthenticateV1(RpcRequest request, bool credentialReadByAction, bool mayReadStore)
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
        if (FindKey(keyId, credentialReadByAction && AsksOwnHostAtMost(request, keyId), mayReadStore) is not { } key)
            return null;

        var stringToSign = SignatureV1.StringToSign(request.Method, request.Query.Concat(request.Form));
        var expected = SignatureV1.Sign(key.Secret, stringToSign);
        if (!FixedTimeEquals(expected, signature))
        {
            // ECS echoes the string to sign to help debug a client; the values of secret parameters are left out of the echo.
            var echoed = SignatureV1.StringToSign(request.Method, SecretParameters.Masked(request.Query.Concat(request.Form)));
            throw new EcsException(EcsErrors.SignatureMismatch(echoed));
        }
        return new Verified(key, nonce, at);
    }

    private Verified? AuthenticateV3(RpcRequest request, bool credentialReadByAction, bool mayReadStore)
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
        if (FindKey(authorization.AccessKeyId, credentialReadByAction && AsksOwnHostAtMost(request, authorization.AccessKeyId), mayReadStore) is not { } key)
            return null;

        // The canonical request hashed as it is written, never held as a text (twentieth session).
        var stringToSign = SignatureV3.StringToSignOf(request.Method, "/", request.Query,
            name => name == "host" ? request.Host : request.Header(name), authorization.SignedHeaders, request.Body);
        var expected = SignatureV3.Sign(key.Secret, stringToSign);
        if (!FixedTimeEquals(expected, authorization.Signature))
            throw new EcsException(EcsErrors.SignatureMismatch(stringToSign.Replace('\n', ' ')));
        return new Verified(key, nonce, at);
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
            NoteHostCredentialUse(key.Record.AccessKeyId, writeFirstUse: true);
        return new Caller(key.Record.AccountId, key.Record.AccessKeyId, key.Record.ReadOnly, key.HostName);
    }

    /// <summary>
    /// At most once per <see cref="HostCredentialUseInterval"/> per credential on this node. A
    /// credential's first use on the node is written at once; its later uses are collected and written
    /// with every other credential's in one write per interval (<see cref="FlushHostCredentialUses"/>):
    /// a fleet's long polls renew every minute, and a write per renewal was a store transaction on
    /// each (issue 17). A last use is then shown up to two intervals late. A store that cannot take a
    /// note now loses nothing but the note, which is tried again with the next batch.
    /// </summary>
    private void NoteHostCredentialUse(string accessKeyId, bool writeFirstUse)
    {
        var now = clock.GetUtcNow();
        if (_hostUseNoted.TryGetValue(accessKeyId, out var noted) || !writeFirstUse)
        {
            if (now - noted < HostCredentialUseInterval)
                return;
            if (_hostUseNoted.Count > 10_000)
                _hostUseNoted.Clear();
            _hostUseNoted[accessKeyId] = now;
            _hostUsesDue[accessKeyId] = now;
            // One request an interval starts the batch (off the request's path).
            var last = Interlocked.Read(ref _hostUsesFlushedAt);
            if (now.UtcTicks - last >= HostCredentialUseInterval.Ticks && Interlocked.CompareExchange(ref _hostUsesFlushedAt, now.UtcTicks, last) == last)
                _lastFlush = Task.Run(FlushHostCredentialUses);
            return;
        }
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

    private readonly ConcurrentDictionary<string, DateTimeOffset> _hostUsesDue = new(StringComparer.Ordinal);
    private long _hostUsesFlushedAt;
    private int _flushing;

    private Task _lastFlush = Task.CompletedTask;

    /// <summary>How many credentials' uses wait for the next batch (tests).</summary>
    internal int HostCredentialUsesDue => _hostUsesDue.Count;

    /// <summary>The last batch started (tests wait for it).</summary>
    internal Task LastHostCredentialUsesWrite => _lastFlush;

    /// <summary>
    /// Writes the collected uses in one write (due once an interval: the next request after it starts
    /// one, and the node's shutdown the last); a use noted meanwhile waits for the next batch.
    /// </summary>
    internal void FlushHostCredentialUses()
    {
        if (Interlocked.Exchange(ref _flushing, 1) == 1)
            return;
        try
        {
            var due = _hostUsesDue.ToArray();
            foreach (var use in due)
                _hostUsesDue.TryRemove(use);
            try
            {
                accounts.NoteHostCredentialUses(due);
            }
            catch (Exception e) when (e is Palisade.Storage.StoreUnavailableException or InvalidOperationException or System.Data.Common.DbException)
            {
                // Tried again with the next batch (a newer use of the same credential wins).
                foreach (var (id, at) in due)
                    _hostUsesDue.TryAdd(id, at);
            }
        }
        finally
        {
            Volatile.Write(ref _flushing, 0);
        }
    }

    /// <summary>The node stops: the uses collected since the last batch are written.</summary>
    public void Dispose()
    {
        try
        {
            FlushHostCredentialUses();
        }
        catch (ObjectDisposedException)
        {
            // The store closed first: only bookkeeping is lost.
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

    /// <summary>
    /// The request names no host, or the host of the credential held for the key: a request for another
    /// host is refused before the action's read (<c>Forbidden.HostCredentialOther</c>), so it is checked
    /// against the store here, and a revoked credential is told it is gone, as without the held secret.
    /// </summary>
    private bool AsksOwnHostAtMost(RpcRequest request, string accessKeyId) =>
        request.Parameter("HostName") is not { } asked || (_keys.TryGetValue(accessKeyId, out var held) && held.Key?.HostName == asked);

    private AccountService.KnownKey? FindKey(string accessKeyId, bool credentialReadByAction, bool mayReadStore)
    {
        // Unknown keys are cached too (up to 10,000 of them): an unbounded ID would let unsigned requests fill memory.
        if (accessKeyId.Length > MaxAccessKeyIdLength)
            throw new EcsException(EcsErrors.AccessKeyNotFound());
        var now = clock.GetUtcNow();
        // A host credential is trusted only while the store stands still: its revocation (or a
        // rotation) is a commit, so it stops working at once on every node, not within the cache's
        // lifetime. Agents call rarely (a long poll, a report), so the extra look costs little.
        var found = _keys.TryGetValue(accessKeyId, out var cached);
        // The long poll's renewal (issue 17): a host credential's secret never changes under its ID, and
        // the action reads the credential itself, in the read it makes anyway, and refuses it if it is
        // gone. So no look here: at 10,000 agents these looks (the revision, then the key's read once
        // the cache's lifetime ran out) were two of the four store visits of every renewal.
        if (found && credentialReadByAction && _trustHeldHostSecrets && cached.Key?.HostName is not null)
            return cached.Key;
        // An account's key within the cache's lifetime needs no look either; anything else does.
        if (!mayReadStore && !(found && cached.Until >= now && cached.Key?.HostName is null))
            return null;
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
