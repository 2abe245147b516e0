using System.Text;
using System.Text.Json;
using Palisade.Server.Protocol;

namespace Palisade.Server.Actions.Trail;

/// <summary>
/// What the action trail keeps of a request's parameters: the business parameters as a JSON
/// object, in the order they came. The signature and its envelope (key, nonce, timestamp, tokens)
/// are left out; anything named like a secret is masked; long values and huge requests are cut,
/// so that a trail row stays small whatever a client sends.
/// </summary>
internal static class TrailParameters
{
    private static readonly HashSet<string> Envelope = new(StringComparer.OrdinalIgnoreCase)
    {
        "Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType",
        "Timestamp", "Format", "SecurityToken", "BearerToken",
    };

    public const int MaxValueLength = 1024;
    public const int MaxTotalLength = 32 * 1024;

    /// <summary>At most <see cref="MaxValueLength"/> characters, never half of a surrogate pair.</summary>
    private static string Cut(string value)
    {
        if (value.Length <= MaxValueLength)
            return value;
        var end = char.IsHighSurrogate(value[MaxValueLength - 1]) ? MaxValueLength - 1 : MaxValueLength;
        return value[..end] + "…";
    }

    /// <summary>What a refused call keeps: every parameter name, and values up to <see cref="MaxRefusalValueLength"/> characters in all.</summary>
    public const int MaxRefusalValueLength = 1024;

    /// <summary>Names count too (a client chooses them): past this many characters of names, the rest are left out.</summary>
    public const int MaxRefusalNameLength = 2048;

    /// <param name="leftOut">Parameters that are not the trailed call's (a poll's own, around the status report it carries); null keeps all.</param>
    public static string Json(RpcRequest request, Func<string, bool>? leftOut = null) => Json(request, MaxTotalLength, MaxTotalLength, leftOut);

    /// <summary>
    /// A refusal's parameters: it changed nothing, so its record only needs to say what was asked.
    /// Values share one small allowance (the first ones whole, then cut, then empty); names are kept
    /// while they fit theirs. A refused call is the cheapest thing a client can send, and must not cost disk.
    /// </summary>
    public static string RefusalJson(RpcRequest request, Func<string, bool>? leftOut = null) => Json(request, MaxRefusalValueLength, MaxRefusalNameLength, leftOut);

    private static string Json(RpcRequest request, int valueAllowance, int nameAllowance, Func<string, bool>? leftOut)
    {
        if (valueAllowance < MaxTotalLength)
            return Bounded(request, valueAllowance, nameAllowance, leftOut);
        return Full(request, leftOut);
    }

    private static string Bounded(RpcRequest request, int valueAllowance, int nameAllowance, Func<string, bool>? leftOut)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            int values = 0, names = 0;
            foreach (var (name, value) in request.Parameters)
            {
                if (Envelope.Contains(name) || leftOut?.Invoke(name) == true)
                    continue;
                names += name.Length;
                if (names > nameAllowance)
                {
                    w.WriteBoolean("…truncated", true);
                    break;
                }
                var shown = SecretParameters.IsSecret(name) ? SecretParameters.Mask : CutTo(value, Math.Max(0, valueAllowance - values));
                values += shown.Length;
                w.WriteString(name, shown);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string CutTo(string value, int length)
    {
        if (value.Length <= length)
            return value;
        if (length <= 1)
            return "…";
        var end = char.IsHighSurrogate(value[length - 2]) ? length - 2 : length - 1;
        return value[..end] + "…";
    }

    private static string Full(RpcRequest request, Func<string, bool>? leftOut)
    {
        // The thread's buffer and writer, reset (twenty-first session: every status report a fleet's polls carry
        // is trailed, and each made a buffer and a writer for a text of a few hundred bytes); FullFresh is the slow twin.
        if (t_writer is not { } kept)
        {
            var made = new System.Buffers.ArrayBufferWriter<byte>(1024);
            t_writer = kept = (made, new Utf8JsonWriter(made, Relaxed));
        }
        var (buffer, w) = kept;
        buffer.ResetWrittenCount();
        w.Reset(buffer);
        try
        {
            WriteFull(w, request, leftOut);
            w.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            buffer.ResetWrittenCount();
            // A huge request's text is not kept for the thread's next one.
            if (buffer.Capacity > KeptBufferBytes)
                t_writer = null;
        }
    }

    /// <summary>The slow twin of <see cref="Full"/>: a buffer and a writer of its own.</summary>
    internal static string FullFresh(RpcRequest request, Func<string, bool>? leftOut)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Relaxed))
            WriteFull(w, request, leftOut);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The largest buffer a thread keeps for its next trail text.</summary>
    private const int KeptBufferBytes = 16 * 1024;

    [ThreadStatic]
    private static (System.Buffers.ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_writer;

    // Relaxed escaping: the trail is read by people and tools, not pasted into HTML; quotes and control characters are still escaped.
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void WriteFull(Utf8JsonWriter w, RpcRequest request, Func<string, bool>? leftOut)
    {
        w.WriteStartObject();
        var total = 0;
        foreach (var (name, value) in request.Parameters)
        {
            if (Envelope.Contains(name) || leftOut?.Invoke(name) == true)
                continue;
            var shown = SecretParameters.IsSecret(name) ? SecretParameters.Mask : Cut(value);
            total += name.Length + shown.Length;
            if (total > MaxTotalLength)
            {
                w.WriteBoolean("…truncated", true);
                break;
            }
            w.WriteString(name, shown);
        }
        w.WriteEndObject();
    }
}
