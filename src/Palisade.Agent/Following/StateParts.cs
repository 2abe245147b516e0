using System.Text.Json;
using Palisade.Domain.State;

namespace Palisade.Agent.Following;

/// <summary>
/// An account's state on a host from its NICs' parts (issue 17, the incremental fetch): the server narrows the
/// state to what one NIC's policy depends on, and an account's part is the union of its NICs' parts.
/// The agent holds each NIC's list of IDs and the resources they name; the state is every resource
/// some NIC's part names, once, in the order the parts name them.
/// </summary>
public static class StateParts
{
    public static readonly (string List, string Id)[] Lists = [.. PartDigest.Lists.Select(l => (l.List, l.Id))];

    /// <summary>Each resource text's hash, kept while the text is held (the texts an agent holds are kept as one instance each; agents sharing content share the hashes too).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<string, byte[]> Hashes = new();

    /// <summary>
    /// The digest of a part from its lists and its resources' texts (<see cref="PartDigest"/>, as the
    /// server computes it): equal to the digest the server gave exactly when the lists, their order and
    /// every resource's text are the server's.
    /// </summary>
    public static string Digest(IReadOnlyDictionary<string, ChunkedTexts> part, Func<(string List, string Id), string> resource) =>
        PartDigest.Of(PartDigest.Lists.SelectMany(l => part.GetValueOrDefault(l.List, ChunkedTexts.Empty).Select(id =>
            (l.Kind, id, Hashes.GetValue(resource((l.List, id)), PartDigest.ResourceHash)))));

    /// <summary>A resource text's hash (<see cref="PartDigest.ResourceHash(string)"/>), computed once while the text is held.</summary>
    internal static byte[] Hash(string text) => Hashes.GetValue(text, PartDigest.ResourceHash);

    /// <summary>
    /// The resources of a state file by list and ID, each as its JSON: the file written out as text and
    /// parsed again (the slow twin of <see cref="Resources(JsonElement)"/>, and the reading of a state file).
    /// </summary>
    public static Dictionary<(string List, string Id), string> Resources(string state)
    {
        using var document = JsonDocument.Parse(state);
        return Resources(document.RootElement);
    }

    /// <summary>
    /// The resources of a state by list and ID, each as its JSON, read where the state stands in the answer
    /// that carried it (issue 17, twentieth session: no <c>State</c> member written out and parsed again).
    /// </summary>
    public static Dictionary<(string List, string Id), string> Resources(JsonElement state)
    {
        var resources = new Dictionary<(string List, string Id), string>();
        foreach (var (list, id) in Lists)
        {
            if (!state.TryGetProperty(list, out var items))
                continue;
            foreach (var item in items.EnumerateArray())
                resources[(list, item.GetProperty(id).GetString() ?? throw new JsonException($"an item of {list} has no {id}"))] = item.GetRawText();
        }
        return resources;
    }

    /// <summary>The state file of the union of the parts.</summary>
    public static string Assemble(IEnumerable<IReadOnlyDictionary<string, ChunkedTexts>> parts, IReadOnlyDictionary<(string List, string Id), string> resources, string regionId) =>
        Write(regionId, Union(parts, key => resources[key]));

    /// <summary>
    /// The resources of the union of the parts, by list (in <see cref="Lists"/>' order): each once, in
    /// the order the parts name them — all that <see cref="Write"/> makes the state file of.
    /// </summary>
    public static List<string>[] Union(IEnumerable<IReadOnlyDictionary<string, ChunkedTexts>> parts, Func<(string List, string Id), string> resource)
    {
        var seen = new HashSet<(string, string)>();
        var union = Lists.Select(_ => new List<string>()).ToArray();
        var index = Lists.Select((l, i) => (l.List, i)).ToDictionary(l => l.List, l => l.i, StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (list, ids) in part)
            {
                foreach (var id in ids)
                {
                    if (seen.Add((list, id)))
                        union[index[list]].Add(resource((list, id)));
                }
            }
        }
        return union;
    }

    /// <summary>
    /// The state file of <paramref name="union"/> (<see cref="Union"/>), written straight into the one
    /// string it is (issue 17, sixteenth session): every resource is already JSON text, so the file is
    /// the region, the lists' names and their items joined, each character copied once. Through a
    /// <see cref="Utf8JsonWriter"/> (<see cref="WriteThroughJsonWriter"/>, the slow twin) each ~1 MB
    /// state of a 1,000-host account was transcoded to UTF-8 into a growing stream and back to UTF-16,
    /// about 6 MB of large-object garbage an assembly: a third of the fleet bench's agents' CPU with the
    /// page faults and collections it caused. Both write the same text (<c>StatePartsTests</c>).
    /// </summary>
    public static string Write(string regionId, IReadOnlyList<IReadOnlyList<string>> union)
    {
        // The region as the writer escapes a string value (its default encoder), quotes included.
        var region = JsonEncodedText.Encode(regionId).ToString();
        const string RegionName = "{\"RegionId\":\"";
        var length = RegionName.Length + region.Length + 1 + 1;
        for (var l = 0; l < Lists.Length; l++)
        {
            if (!Written(l, union))
                continue;
            // ,"List":[ … ]
            length += 1 + 1 + Lists[l].List.Length + 3 + 1 + Math.Max(0, union[l].Count - 1);
            foreach (var item in union[l])
                length += item.Length;
        }
        return string.Create(length, (region, union), static (span, state) =>
        {
            var at = 0;
            void Put(ReadOnlySpan<char> text, Span<char> into)
            {
                text.CopyTo(into[at..]);
                at += text.Length;
            }
            Put(RegionName, span);
            Put(state.region, span);
            Put("\"", span);
            for (var l = 0; l < Lists.Length; l++)
            {
                if (!Written(l, state.union))
                    continue;
                Put(",\"", span);
                Put(Lists[l].List, span);
                Put("\":[", span);
                var items = state.union[l];
                for (var i = 0; i < items.Count; i++)
                {
                    if (i > 0)
                        Put(",", span);
                    Put(items[i], span);
                }
                Put("]", span);
            }
            Put("}", span);
        });
    }

    /// <summary>Whether list <paramref name="l"/> is in the file: the lists are absent when empty, as in the whole answer (files made before them had none), but for groups and instances.</summary>
    private static bool Written(int l, IReadOnlyList<IReadOnlyList<string>> union) =>
        union[l].Count > 0 || Lists[l].List is "SecurityGroups" or "Instances";

    /// <summary>The slow twin of <see cref="Write"/>: the same file through a <see cref="Utf8JsonWriter"/>, as before.</summary>
    public static string WriteThroughJsonWriter(string regionId, IReadOnlyList<IReadOnlyList<string>> union)
    {
        // Each resource's JSON as it came (the server's rendering, already checked by the parser
        // that split it out), not parsed and written again.
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("RegionId", regionId);
            for (var l = 0; l < Lists.Length; l++)
            {
                var list = Lists[l].List;
                // The lists are absent when empty, as in the whole answer (files made before them had none).
                if (union[l].Count == 0 && list is not ("SecurityGroups" or "Instances"))
                    continue;
                writer.WriteStartArray(list);
                foreach (var item in union[l])
                    writer.WriteRawValue(item, skipInputValidation: true);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
