using System.Globalization;
using System.Text.Json;

namespace Palisade.Server.Actions;

/// <summary>
/// Typed access to a request's business parameters, with ECS's errors for what is missing or
/// malformed. Lists use ECS's shapes: <c>Name.N</c>, <c>Name.N.Field</c> (N from 1) and
/// JSON-array strings (ecs-api.md §1.6).
/// </summary>
internal sealed class ParameterReader(IReadOnlyDictionary<string, string> parameters)
{
    public IReadOnlyDictionary<string, string> All => parameters;

    /// <summary>The value, or null when absent or empty (ECS treats an empty parameter as not given).</summary>
    public string? Optional(string name) => parameters.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    /// <summary>
    /// An optional text field (a name, a description): null when absent; refused with
    /// <paramref name="malformed"/> unless <paramref name="valid"/> (one of <see cref="Texts"/>' rules).
    /// </summary>
    public string? Text(string name, Func<string, bool> valid, Func<string, EcsError> malformed) =>
        Optional(name) is not { } text ? null : valid(text) ? text : throw new EcsException(malformed(text));

    public bool Has(string name) => Optional(name) is not null;

    public string Required(string name) => Optional(name) ?? throw new EcsException(EcsErrors.Missing(name));

    public bool Bool(string name, bool fallback = false) => Optional(name) switch
    {
        null => fallback,
        var v when v.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
        var v when v.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
        var v => throw new EcsException(EcsErrors.ParameterInvalid(name, $"'{v}' is not true or false.")),
    };

    /// <summary>An IP protocol as a flow names it (TCP, UDP, ICMP, ICMPv6, GRE or ALL, any case); null when absent.</summary>
    public Domain.Networking.IpProtocol? Protocol(string name) => Optional(name) switch
    {
        null => null,
        var text when Domain.Networking.IpProtocols.TryParse(text, out var protocol) => protocol,
        var text => throw new EcsException(EcsErrors.ParameterInvalid(name, $"'{text}' is not TCP, UDP, ICMP, ICMPv6, GRE or ALL.")),
    };

    public int Int(string name, int fallback, int min, int max, Func<string, EcsError>? error = null)
    {
        if (Optional(name) is not { } text)
            return fallback;
        if (text.Length > 10 || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new EcsException(error?.Invoke(text) ?? EcsErrors.ParameterInvalid(name, $"'{text}' is not an integer from {min} to {max}."));
        return value;
    }

    /// <summary><see cref="List"/>, refused with <paramref name="missing"/> when it names nothing.</summary>
    public IReadOnlyList<string> RequiredList(string name, int max, EcsError missing) =>
        List(name, max) is { Count: > 0 } items ? items : throw new EcsException(missing);

    /// <summary>
    /// <c>Name.1</c>, <c>Name.2</c>, … in index order. Indexes must be 1..<paramref name="max"/>;
    /// gaps are allowed (SDKs never make them, but a hand-made request may).
    /// </summary>
    /// <remarks>
    /// Read where the parameters lie, without cutting a string out of each name (issue 17, twenty-first
    /// session: a host's poll carries its report's lists and its held digests, read at each poll's arrival).
    /// <see cref="ListEach"/> is its slow twin (<c>ParameterReaderTests</c> holds them equal, refusals included).
    /// </remarks>
    public IReadOnlyList<string> List(string name, int max)
    {
        List<(int Index, string Value)>? items = null;
        foreach (var (key, value) in parameters)
        {
            if (!IsItemOf(key, name))
                continue;
            var index = ParseIndex(name, key.AsSpan(name.Length + 1), max);
            if (value.Length > 0)
                Put(items ??= [], index, value);
        }
        if (items is null)
            return [];
        var values = new string[items.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = items[i].Value;
        return values;
    }

    /// <summary>The slow twin of <see cref="List"/>: each name cut and its index parsed from the cut.</summary>
    internal IReadOnlyList<string> ListEach(string name, int max)
    {
        var items = new SortedDictionary<int, string>();
        var prefix = name + ".";
        foreach (var (key, value) in parameters)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var index = ParseIndex(name, key[prefix.Length..], max);
            if (value.Length > 0)
                items[index] = value;
        }
        return [.. items.Values];
    }

    /// <summary>
    /// <c>Name.N.Field</c> groups, in index order, each as its fields. <paramref name="fields"/> are the
    /// fields the caller reads, declared where it reads them (they are the only ones it may look up).
    /// </summary>
    /// <remarks>
    /// Each name read where it lies: the index parsed from it, a declared field's name not cut but found
    /// by its span, its value kept by position (<see cref="ItemFields"/>); any other field the client sent
    /// is cut as before. <see cref="ObjectsEach"/> is its slow twin.
    /// </remarks>
    public IReadOnlyList<(int Index, IReadOnlyDictionary<string, string> Fields)> Objects(string name, FieldNames fields, int max)
    {
        List<(int Index, ItemFields Fields)>? items = null;
        foreach (var (key, value) in parameters)
        {
            if (!IsItemOf(key, name))
                continue;
            var rest = key.AsSpan(name.Length + 1);
            var dot = rest.IndexOf('.');
            if (dot <= 0)
                throw new EcsException(EcsErrors.ParameterInvalid(key, $"expected {name}.N.Field."));
            var index = ParseIndex(name, rest[..dot], max);
            items ??= [];
            var at = Find(items, index);
            if (at < 0)
                items.Insert(at = ~at, (index, new ItemFields(name, fields)));
            items[at].Fields.Set(rest[(dot + 1)..], value);
        }
        if (items is null)
            return [];
        var objects = new (int, IReadOnlyDictionary<string, string>)[items.Count];
        for (var i = 0; i < objects.Length; i++)
            objects[i] = (items[i].Index, items[i].Fields);
        return objects;
    }

    /// <summary>The slow twin of <see cref="Objects"/>: each name cut in three.</summary>
    internal IReadOnlyList<(int Index, IReadOnlyDictionary<string, string> Fields)> ObjectsEach(string name, int max)
    {
        var items = new SortedDictionary<int, Dictionary<string, string>>();
        var prefix = name + ".";
        foreach (var (key, value) in parameters)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var rest = key[prefix.Length..];
            var dot = rest.IndexOf('.');
            if (dot <= 0)
                throw new EcsException(EcsErrors.ParameterInvalid(key, $"expected {name}.N.Field."));
            var index = ParseIndex(name, rest[..dot], max);
            if (!items.TryGetValue(index, out var fields))
                items[index] = fields = new Dictionary<string, string>(StringComparer.Ordinal);
            fields[rest[(dot + 1)..]] = value;
        }
        return [.. items.Select(kv => (kv.Key, (IReadOnlyDictionary<string, string>)kv.Value))];
    }

    /// <summary>Whether <paramref name="key"/> is <c>Name.</c> and more.</summary>
    private static bool IsItemOf(string key, string name) =>
        key.Length > name.Length && key[name.Length] == '.' && key.StartsWith(name, StringComparison.Ordinal);

    /// <summary>Sets the item of <paramref name="index"/>, kept in index order.</summary>
    private static void Put(List<(int Index, string Value)> items, int index, string value)
    {
        var at = Find(items, index);
        if (at >= 0)
            items[at] = (index, value);
        else
            items.Insert(~at, (index, value));
    }

    /// <summary>
    /// Where <paramref name="index"/> is in <paramref name="items"/> (in index order), or the complement of
    /// where it goes. Searched from the end: items nearly always come in index order, so it is found at once.
    /// </summary>
    private static int Find<T>(List<(int Index, T Item)> items, int index)
    {
        var at = items.Count;
        while (at > 0 && items[at - 1].Index > index)
            at--;
        return at > 0 && items[at - 1].Index == index ? at - 1 : ~at;
    }

    private static int ParseIndex(string name, string text, int max) => ParseIndex(name, text.AsSpan(), max);

    /// <summary>An index of <c>Name.N</c>: 1 to <paramref name="max"/>, no sign, no leading zero, at most four digits.</summary>
    private static int ParseIndex(string name, ReadOnlySpan<char> text, int max)
    {
        if (text.Length is 0 or > 4 || text.ContainsAnyExceptInRange('0', '9') || text[0] == '0')
            throw new EcsException(EcsErrors.ParameterInvalid($"{name}.{text}", $"the index of {name}.N must be from 1 to {max}."));
        var index = int.Parse(text, CultureInfo.InvariantCulture);
        if (index > max)
            throw new EcsException(EcsErrors.ParameterInvalid($"{name}.{text}", $"the index of {name}.N must be from 1 to {max}."));
        return index;
    }

    /// <summary>A JSON-array string such as <c>["sg-a","sg-b"]</c> (DescribeSecurityGroups.SecurityGroupIds).</summary>
    public IReadOnlyList<string>? JsonArray(string name, int max)
    {
        if (Optional(name) is not { } text)
            return null;
        List<string>? items = null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                items = [.. doc.RootElement.EnumerateArray().Select(e => e.GetString()!)];
        }
        catch (JsonException)
        {
        }
        if (items is null)
            throw new EcsException(EcsErrors.ParameterInvalid(name, "expected a JSON array of strings, such as [\"id-1\",\"id-2\"]."));
        if (items.Count > max)
            throw new EcsException(EcsErrors.ParameterInvalid(name, $"at most {max} items."));
        return items;
    }

    /// <summary>The fields of a tag (<c>Tag.N.Key</c>, <c>Tag.N.Value</c>), as <see cref="Tags"/> reads them.</summary>
    public static readonly FieldNames TagFields = new("Key", "Value");

    /// <summary><c>Tag.N.Key</c>/<c>Tag.N.Value</c> pairs, validated as ECS validates tags.</summary>
    public IReadOnlyList<Tag> Tags(string name = "Tag", int max = 20, bool keyRequired = true)
    {
        var tags = new List<Tag>();
        foreach (var (index, fields) in Objects(name, TagFields, max))
        {
            var key = fields.GetValueOrDefault("Key") ?? "";
            var value = fields.GetValueOrDefault("Value") ?? "";
            if (key.Length == 0)
            {
                if (keyRequired || value.Length > 0)
                    throw new EcsException(value.Length > 0 ? EcsErrors.TagValueWithoutKey(index) : EcsErrors.TagKeyMalformed(key));
                continue;
            }
            TagRules.Check(key, value);
            if (tags.Any(t => t.Key.Equals(key, StringComparison.OrdinalIgnoreCase)))
                throw new EcsException(EcsErrors.TagKeyDuplicated(key));
            tags.Add(new Tag(key, value));
        }
        return tags;
    }
}

/// <summary>ECS's tag rules (ecs-api.md §3.1, §3.12).</summary>
internal static class TagRules
{
    public static void Check(string key, string value)
    {
        if (key.Length is 0 or > 128 || key.StartsWith("aliyun", StringComparison.OrdinalIgnoreCase) || key.StartsWith("acs:", StringComparison.OrdinalIgnoreCase) || Texts.HasUrl(key) || Texts.HasControl(key))
            throw new EcsException(EcsErrors.TagKeyMalformed(key));
        if (value.Length > 128 || Texts.HasUrl(value) || Texts.HasControl(value))
            throw new EcsException(EcsErrors.TagValueMalformed(value));
    }
}

/// <summary>Checks shared by names and descriptions.</summary>
internal static class Texts
{
    public static bool HasUrl(string s) => s.Contains("http://", StringComparison.OrdinalIgnoreCase) || s.Contains("https://", StringComparison.OrdinalIgnoreCase);

    public static bool StartsWithUrl(string s) => s.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || s.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    public static bool HasControl(string s) => s.Any(char.IsControl);

    /// <summary>ECS names: 2..128 characters, a letter (or CJK) first, then letters, digits, ':', '_', '.', '-'.</summary>
    public static bool IsName(string s, int min = 2, int max = 128) =>
        s.Length >= min && s.Length <= max && (char.IsLetter(s[0])) && !StartsWithUrl(s)
        && s.All(c => char.IsLetterOrDigit(c) || c is ':' or '_' or '.' or '-');

    public static bool IsDescription(string s, int min = 2, int max = 256) =>
        s.Length >= min && s.Length <= max && !StartsWithUrl(s) && !s.Any(c => char.IsControl(c) && c is not ('\n' or '\t'));

    /// <summary>An ECS name (<see cref="IsName"/>) or description (<see cref="IsDescription"/>) of the default lengths.</summary>
    public static bool IsEcsName(string s) => IsName(s);

    public static bool IsEcsDescription(string s) => IsDescription(s);

    /// <summary>A name of the VPC API (VPC, vSwitch) or of an instance: at most 128 characters, no control character, not starting with http(s)://.</summary>
    public static bool IsFreeName(string s) => s.Length <= 128 && !StartsWithUrl(s) && !HasControl(s);

    /// <summary>A description of the VPC API: 1 to 256 characters (<see cref="IsDescription"/>).</summary>
    public static bool IsVpcDescription(string s) => IsDescription(s, 1, 256);

    /// <summary>An instance's description: at most 256 characters, not starting with http(s)://.</summary>
    public static bool IsInstanceDescription(string s) => s.Length <= 256 && !StartsWithUrl(s);
}
