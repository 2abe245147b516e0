using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace Palisade.Server.Responses;

internal enum ResponseFormat
{
    Json,
    Xml,
}

/// <summary>Renders an <see cref="EcsObject"/> as ECS JSON or XML. Golden-tested.</summary>
internal static class ResponseWriter
{
    public const string JsonContentType = "application/json;charset=utf-8";
    public const string XmlContentType = "text/xml;charset=utf-8";

    public static byte[] Json(EcsObject body)
    {
        // Rendered into pooled buffers and copied once to an array of the answer's size: a growing
        // MemoryStream left a buffer of up to twice the answer as garbage, on the large-object heap
        // past 85 KB (issue 19: analyses answer 100 KB and more).
        using var buffer = new PooledBuffer();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJsonObject(writer, body);
        return buffer.ToArray();
    }

    /// <summary>
    /// An answer as the server sends it: in pieces below the large-object heap's threshold
    /// (<see cref="RenderedAnswer"/>), the same bytes as <see cref="Json"/> and <see cref="Xml"/> (their slow twins).
    /// </summary>
    /// <param name="lend">
    /// The answer is written once and released (<see cref="RenderedAnswer.Release"/>): its last piece is the
    /// pooled buffer it was rendered in, not a copy (<see cref="RenderedAnswer.Writer.Finish(bool)"/>).
    /// </param>
    public static RenderedAnswer Render(ResponseFormat format, string rootName, EcsObject body, int pieceBytes = RenderedAnswer.PieceBytes, bool lend = false)
    {
        var output = new RenderedAnswer.Writer(pieceBytes);
        if (format == ResponseFormat.Xml)
            WriteXml(output, rootName, body);
        else
        {
            using var writer = new Utf8JsonWriter((System.Buffers.IBufferWriter<byte>)output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            WriteJsonObject(writer, body);
        }
        return output.Finish(lend);
    }

    /// <summary>The slow twin of <see cref="Json"/>: the same writer on a growing stream (tests compare them).</summary>
    internal static byte[] JsonThroughStream(EcsObject body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJsonObject(writer, body);
        return stream.ToArray();
    }

    /// <summary>An <see cref="System.Buffers.IBufferWriter{T}"/> on arrays rented from the shared pool and returned when disposed.</summary>
    private sealed class PooledBuffer : System.Buffers.IBufferWriter<byte>, IDisposable
    {
        private byte[] _array = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _array.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _array.AsSpan(_written);
        }

        /// <summary>Makes room for <paramref name="sizeHint"/> more bytes (at least one), in a larger array if need be.</summary>
        private void Reserve(int sizeHint)
        {
            var needed = _written + Math.Max(sizeHint, 1);
            if (needed > _array.Length)
            {
                var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
                _array.AsSpan(0, _written).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(_array);
                _array = larger;
            }
        }

        public byte[] ToArray() => _array.AsSpan(0, _written).ToArray();

        public void Dispose()
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    private static void WriteJsonObject(Utf8JsonWriter w, EcsObject o)
    {
        w.WriteStartObject();
        foreach (var (name, value) in o)
        {
            w.WritePropertyName(name);
            WriteJsonValue(w, value);
        }
        w.WriteEndObject();
    }

    private static void WriteJsonValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case EcsObject o: WriteJsonObject(w, o); break;
            case EcsList list:
                w.WriteStartObject();
                w.WriteStartArray(list.ItemName);
                for (var i = 0; i < list.Items.Count; i++)
                    WriteJsonValue(w, list.Items[i]);
                w.WriteEndArray();
                w.WriteEndObject();
                break;
            // A bare array: not in ECS answers, but the lists of a state file are bare.
            case IReadOnlyList<EcsObject> items:
                w.WriteStartArray();
                for (var i = 0; i < items.Count; i++)
                    WriteJsonObject(w, items[i]);
                w.WriteEndArray();
                break;
            default: throw new InvalidOperationException($"A response cannot hold a {value.GetType().Name}.");
        }
    }

    public static byte[] Xml(string rootName, EcsObject body)
    {
        using var stream = new MemoryStream();
        WriteXml(stream, rootName, body);
        return stream.ToArray();
    }

    private static void WriteXml(Stream stream, string rootName, EcsObject body)
    {
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false, OmitXmlDeclaration = false };
        using var w = XmlWriter.Create(stream, settings);
        w.WriteStartDocument();
        w.WriteStartElement(rootName);
        WriteXmlFields(w, body);
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    private static void WriteXmlFields(XmlWriter w, EcsObject o)
    {
        foreach (var (name, value) in o)
            WriteXmlElement(w, name, value);
    }

    private static void WriteXmlElement(XmlWriter w, string name, object? value)
    {
        w.WriteStartElement(name);
        switch (value)
        {
            case null: break;
            case string s: w.WriteString(XmlSafe(s)); break;
            case bool b: w.WriteString(b ? "true" : "false"); break;
            case int i: w.WriteString(i.ToString(CultureInfo.InvariantCulture)); break;
            case long l: w.WriteString(l.ToString(CultureInfo.InvariantCulture)); break;
            case EcsObject o: WriteXmlFields(w, o); break;
            case EcsList list:
                foreach (var item in list.Items)
                    WriteXmlElement(w, list.ItemName, item);
                break;
            // A state file's bare lists (SecurityGroups, Instances): each item under the singular name, as ECS's XML lists are.
            case IReadOnlyList<EcsObject> items:
                foreach (var item in items)
                    WriteXmlElement(w, name.Length > 1 && name.EndsWith('s') ? name[..^1] : "Item", item);
                break;
            default: throw new InvalidOperationException($"A response cannot hold a {value.GetType().Name}.");
        }
        w.WriteEndElement();
    }

    // XML 1.0 cannot carry some characters even escaped (most controls, U+FFFE, U+FFFF, lone
    // surrogates); a description may hold them. They become U+FFFD rather than an error.
    private static string XmlSafe(string s)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb?.Append(s, i, 2);
                i++;
                continue;
            }
            var ok = XmlConvert.IsXmlChar(s[i]);
            if (!ok && sb is null)
                sb = new StringBuilder(s.Length).Append(s, 0, i);
            sb?.Append(ok ? s[i] : '\uFFFD');
        }
        return sb?.ToString() ?? s;
    }

    /// <summary>Reads back a JSON body written by <see cref="Json"/> (for ClientToken replays).</summary>
    public static EcsObject FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return (EcsObject)FromElement(doc.RootElement)!;
    }

    private static object? FromElement(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var props = e.EnumerateObject().ToList();
                if (props.Count == 1 && props[0].Value.ValueKind == JsonValueKind.Array)
                    return new EcsList(props[0].Name, [.. props[0].Value.EnumerateArray().Select(FromElement)]);
                var o = new EcsObject();
                foreach (var p in props)
                    o.Add(p.Name, FromElement(p.Value));
                return o;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number: return e.GetInt64();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default: return null;
        }
    }
}
