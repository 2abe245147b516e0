using System.Collections;

namespace Palisade.Server.Responses;

/// <summary>
/// A response body as ECS shapes it: named fields in order, whose values are strings, numbers,
/// booleans, nested objects or wrapped lists. JSON and XML are two renderings of this one tree,
/// so the shapes cannot drift apart.
/// </summary>
internal sealed class EcsObject : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> _fields = [];

    public void Add(string name, object? value) => _fields.Add(new(name, value));

    public object? this[string name]
    {
        get => _fields.FirstOrDefault(f => f.Key == name).Value;
        set
        {
            var index = _fields.FindIndex(f => f.Key == name);
            if (index < 0)
                _fields.Add(new(name, value));
            else
                _fields[index] = new(name, value);
        }
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A list as ECS wraps it: <c>"Permissions": {"Permission": [...]}</c> in JSON,
/// <c>&lt;Permissions&gt;&lt;Permission&gt;…&lt;/Permission&gt;&lt;/Permissions&gt;</c> in XML.
/// </summary>
internal sealed record EcsList(string ItemName, IReadOnlyList<object?> Items)
{
    public static EcsList Of<T>(string itemName, IEnumerable<T> items) => new(itemName, [.. items.Cast<object?>()]);
}

/// <summary>
/// A part of many answers written once (issue 17, nineteenth session): after a change a thousand hosts'
/// answers carry the same <c>State</c> and the same part entries, and each answer wrote their JSON again
/// from the tree. The JSON is written at the first answer that sends it and its bytes copied into every
/// later one (<see cref="ResponseWriter"/>); XML is written from the tree, as every other value. The
/// bytes are what writing the tree in place gives (<c>ResponseWriterTests</c>, <c>HostScopeTests</c>
/// compare them with <see cref="ResponseWriter.JsonWritingTrees"/>, the slow twin). The tree is never
/// changed once shared (the writers only read it).
/// </summary>
internal sealed class SharedJson(EcsObject tree)
{
    private byte[]? _json;

    public EcsObject Tree { get; } = tree;

    /// <summary>The tree's JSON, written by the first answer that asks (two at once may both write it: the same bytes).</summary>
    public byte[] Json => _json ??= ResponseWriter.Json(Tree);
}
