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

    /// <summary>
    /// Lets go of every field, for an object rendered already and read by nobody after (twenty-fourth session): the
    /// result of a long poll's task, which lives in the collector's oldest generation by the time the poll answers,
    /// and so kept whatever it referenced — the host's policy with the wake, ~4 KiB a host — alive through the
    /// join's collections, until a full one.
    /// </summary>
    public void Release() => _fields.Clear();

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

    /// <summary>The list's own enumerator: a <c>foreach</c> over an object (every object of every answer rendered) boxes none.</summary>
    public List<KeyValuePair<string, object?>>.Enumerator GetEnumerator() => _fields.GetEnumerator();

    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() => GetEnumerator();

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
