using System.Globalization;
using System.Text.Json;
using Palisade.Domain.Errors;
using Palisade.Domain.Signatures;
using Palisade.Storage.Accounts;
using Palisade.Server.Protocol;
using Palisade.Storage.Sqlite;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Every request the official Node SDKs made in sdk-captures/ verifies, and stops verifying after
/// any change to a byte that its signature covers (sdk-wire.md §9).
/// </summary>
public sealed class CaptureSignatureTests : IDisposable
{
    private const string KeyId = "LTAI5tTESTKEYID0000000001";
    private const string Secret = "TestSecretKeyForCaptureServer000001";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-captures-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteStore _store;
    private readonly AccountService _accounts;

    public CaptureSignatureTests()
    {
        _store = new SqliteStore(Path.Combine(_directory, "palisade.db"));
        _accounts = new AccountService(_store, new SecretProtector(new byte[32]), TimeProvider.System);
        var account = _accounts.CreateAccount("capture");
        _accounts.CreateAccessKey(account.AccountId, id: KeyId, secret: Secret);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    public sealed record Capture(string File, int Line, string Method, string Url, Dictionary<string, string> Headers, string Body)
    {
        public override string ToString() => $"{File}:{Line}";
    }

    public static IEnumerable<Capture> All()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Protocol", "Captures");
        foreach (var file in Directory.GetFiles(folder, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var line = 0;
            foreach (var text in File.ReadLines(file))
            {
                line++;
                using var doc = JsonDocument.Parse(text);
                var r = doc.RootElement;
                var headers = r.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name.ToLowerInvariant(), p => p.Value.GetString()!);
                yield return new Capture(Path.GetFileName(file), line, r.GetProperty("method").GetString()!, r.GetProperty("url").GetString()!, headers,
                    r.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString()! : "");
            }
        }
    }

    public static TheoryData<string> CaptureNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in All())
            data.Add(c.ToString());
        return data;
    }

    [Fact]
    public void AllCapturesAreThere() => Assert.Equal(133, All().Count());

    [Theory]
    [MemberData(nameof(CaptureNames))]
    public void Capture_Verifies(string name)
    {
        var capture = All().Single(c => c.ToString() == name);
        var caller = Authenticate(capture);
        Assert.Equal(KeyId, caller.AccessKeyId);
    }

    [Theory]
    [MemberData(nameof(CaptureNames))]
    public void Capture_FailsAfterAnyChangeToASignedByte(string name)
    {
        var capture = All().Single(c => c.ToString() == name);
        var tampered = Tamperings(capture).ToList();
        Assert.NotEmpty(tampered);
        foreach (var (what, changed) in tampered)
        {
            var e = Assert.Throws<EcsException>(() => Authenticate(changed));
            // Mostly SignatureDoesNotMatch; a changed key ID, timestamp or signature method is refused before the signature is computed.
            Assert.True(e.Error.Code is EcsErrorCodes.SignatureDoesNotMatch or EcsErrorCodes.InvalidAccessKeyIdNotFound or EcsErrorCodes.IncompleteSignature
                or EcsErrorCodes.InvalidTimeStampFormat or EcsErrorCodes.InvalidTimeStampExpired or EcsErrorCodes.InvalidParameter, $"{what}: {e.Error}");
        }
    }

    [Fact]
    public void ACaptureReplayed_IsRejected()
    {
        var capture = All().First();
        // The registry keeps a nonce until its request's timestamp leaves the window, on the server's clock.
        using var nonces = new LocalNonceRegistry(Path.Combine(_directory, "replay-nonces.db"), new ManualClock(new DateTimeOffset(2026, 11, 28, 14, 3, 18, TimeSpan.Zero)));
        Authenticate(capture, nonces);
        var e = Assert.Throws<EcsException>(() => Authenticate(capture, nonces));
        Assert.Equal(EcsErrorCodes.SignatureNonceUsed, e.Error.Code);
    }

    [Fact]
    public void ACaptureOutsideTheWindow_IsRejected()
    {
        var capture = All().First();
        var e = Assert.Throws<EcsException>(() => Authenticate(capture, clockOffset: TimeSpan.FromMinutes(16)));
        Assert.Equal(EcsErrorCodes.InvalidTimeStampExpired, e.Error.Code);
        Authenticate(capture, clockOffset: TimeSpan.FromMinutes(14));
    }

    /// <summary>Changes one signed thing at a time: each query value, each signed header, each form value, the signature itself.</summary>
    private static IEnumerable<(string What, Capture Changed)> Tamperings(Capture c)
    {
        var query = c.Url.Contains('?') ? c.Url[(c.Url.IndexOf('?') + 1)..] : "";
        var pairs = query.Split('&', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < pairs.Length; i++)
        {
            if (pairs[i].StartsWith("Signature=", StringComparison.Ordinal))
                continue;
            var changed = (string[])pairs.Clone();
            changed[i] = Flip(changed[i]);
            yield return ($"query {pairs[i]}", c with { Url = "/?" + string.Join('&', changed) });
        }
        yield return ("an extra query parameter", c with { Url = c.Url + (c.Url.Contains('?') ? "&" : "/?") + "Extra=1" });
        var isV3 = c.Headers.TryGetValue("authorization", out var authorization);
        if (isV3)
        {
            var signed = SignatureV3.ParseAuthorization(authorization!)!.SignedHeaders;
            foreach (var h in signed)
            {
                var headers = new Dictionary<string, string>(c.Headers) { [h] = Flip(c.Headers[h]) };
                yield return ($"header {h}", c with { Headers = headers });
            }
            var sig = authorization![^1] == '0' ? authorization[..^1] + "1" : authorization[..^1] + "0";
            yield return ("the signature", c with { Headers = new Dictionary<string, string>(c.Headers) { ["authorization"] = sig } });
            yield return ("a body", c with { Body = "x" });
        }
        var form = c.Body.Split('&', StringSplitOptions.RemoveEmptyEntries);
        if (!isV3 && c.Body.Length > 0)
        {
            for (var i = 0; i < form.Length; i++)
            {
                if (form[i].StartsWith("Signature=", StringComparison.Ordinal))
                    continue;
                var changed = (string[])form.Clone();
                changed[i] = Flip(changed[i]);
                yield return ($"form {form[i]}", c with { Body = string.Join('&', changed) });
            }
        }
        if (!isV3)
            yield return ("the method", c with { Method = c.Method == "GET" ? "POST" : "GET" });
    }

    /// <summary>Changes the last character of a value (keeping percent-escapes intact).</summary>
    private static string Flip(string s)
    {
        var i = s.Length - 1;
        while (i > 0 && (s[i - 1] == '%' || (i > 1 && s[i - 2] == '%')))
            i--;
        var c = s[i];
        var replacement = c == 'a' ? 'b' : c == '0' ? '1' : c == '1' ? '2' : 'a';
        return s[..i] + replacement + s[(i + 1)..];
    }

    private Caller Authenticate(Capture c, INonceRegistry? nonces = null, TimeSpan clockOffset = default)
    {
        var query = PercentEncoding.ParsePairs(c.Url.Contains('?') ? c.Url[c.Url.IndexOf('?')..] : "");
        var isForm = c.Headers.TryGetValue("content-type", out var type) && type.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal);
        var form = isForm ? PercentEncoding.ParsePairs(c.Body) : [];
        var request = new RpcRequest(c.Method, c.Headers.GetValueOrDefault("host") ?? "", query, form, c.Headers, System.Text.Encoding.UTF8.GetBytes(c.Body));
        var when = request.IsV3 ? request.Header("x-acs-date")! : request.Parameter("Timestamp")!;
        var at = DateTimeOffset.TryParse(when, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : new DateTimeOffset(2026, 11, 28, 14, 3, 18, TimeSpan.Zero);
        var clock = new ManualClock(at + clockOffset);
        using var fresh = nonces is null ? new LocalNonceRegistry(Path.Combine(_directory, $"nonces-{Guid.NewGuid():N}.db"), clock) : null;
        return new Authenticator(_accounts, nonces ?? fresh!, clock).Authenticate(request);
    }
}
