using System.Globalization;
using System.Text.Json;

namespace Palisade.Domain.State;

/// <summary>
/// A JSON value with the path that leads to it, so that every complaint about a state file can
/// say exactly where the problem is. ECS writes unset fields as empty strings and numbers
/// sometimes as strings; these readers accept both.
/// </summary>
internal readonly record struct JsonNode(JsonElement Element, string Path)
{
    public StateFileException Error(string problem) => new(Path, problem);

    public JsonNode? Property(string name) =>
        Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? new JsonNode(value, $"{Path}.{name}")
            : null;

    public JsonNode RequireObject()
    {
        if (Element.ValueKind != JsonValueKind.Object)
            throw Error($"expected an object, found {Describe(Element)}");
        return this;
    }

    /// <summary>An optional string: absent, null and "" are all null. Numbers and booleans are read as their text.</summary>
    public string? String(string name)
    {
        if (Property(name) is not { } node)
            return null;
        return node.Element.ValueKind switch
        {
            JsonValueKind.String => node.Element.GetString() is { Length: > 0 } s ? s : null,
            JsonValueKind.Number => node.Element.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => throw node.Error($"expected a string, found {Describe(node.Element)}"),
        };
    }

    public string RequireString(string name) =>
        String(name) ?? throw new StateFileException($"{Path}.{name}", "required, but missing or empty");

    public DateTimeOffset Time(string name)
    {
        if (String(name) is not { } text)
            return default;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new StateFileException($"{Path}.{name}", $"'{text}' is not a time (expected yyyy-MM-ddTHH:mm:ssZ)");
    }

    /// <summary>
    /// The items of a list that ECS wraps (<c>"Permissions": {"Permission": [...]}</c>); a bare array
    /// is accepted too. Absent means empty.
    /// </summary>
    public IEnumerable<JsonNode> WrappedList(string name, string itemName)
    {
        if (Property(name) is not { } node)
            return [];
        if (node.Element.ValueKind == JsonValueKind.Object)
            return node.Property(itemName) is { } inner ? inner.Items() : [];
        return node.Items();
    }

    public IEnumerable<JsonNode> Items()
    {
        if (Element.ValueKind != JsonValueKind.Array)
            throw Error($"expected an array, found {Describe(Element)}");
        var path = Path;
        return Element.EnumerateArray().Select((e, i) => new JsonNode(e, $"{path}[{i}]")).ToArray();
    }

    /// <summary>The strings of a list ECS wraps, e.g. <c>"IpAddress": ["10.0.0.1"]</c> or a single string.</summary>
    public IEnumerable<(string Value, string Path)> StringList(string name, string itemName)
    {
        if (Property(name) is not { } node)
            yield break;
        var list = node.Element.ValueKind == JsonValueKind.Object ? node.Property(itemName) : node;
        if (list is not { } l)
            yield break;
        if (l.Element.ValueKind == JsonValueKind.String)
        {
            if (l.Element.GetString() is { Length: > 0 } single)
                yield return (single, l.Path);
            yield break;
        }
        foreach (var item in l.Items())
        {
            if (item.Element.ValueKind != JsonValueKind.String)
                throw item.Error($"expected a string, found {Describe(item.Element)}");
            if (item.Element.GetString() is { Length: > 0 } s)
                yield return (s, item.Path);
        }
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{Truncate(e.GetString() ?? "")}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        _ => "null",
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
