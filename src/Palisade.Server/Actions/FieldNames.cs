using System.Collections;
using System.Diagnostics;

namespace Palisade.Server.Actions;

/// <summary>
/// The fields an action reads from the items of a <c>Name.N.Field</c> list (<see cref="ParameterReader.Objects"/>),
/// declared once, beside the code that reads them.
/// </summary>
/// <remarks>
/// Why a declaration per list rather than one table of every list's fields in the reader, or names learnt
/// as they are read: the names are ECS's, and they live where an action reads them. A table in the reader
/// was a second list of them, which went stale without failing anything (a field missing from it is still
/// read, only cut from its parameter's name each time, issue 17); a table that learns would keep strings a
/// client chose. A declaration keeps each list's names in one place, interns only what the code declared,
/// and lets the tests hold the reading code to it: in a Debug build, looking up a field its list does not
/// declare throws (<see cref="ItemFields"/>), so any test that runs the reading code fails on it.
/// </remarks>
internal sealed class FieldNames
{
    private readonly string[] _names;
    private readonly Dictionary<string, int> _positions;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _byText;

    public FieldNames(params string[] names)
    {
        _names = names;
        _positions = names.Index().ToDictionary(n => n.Item, n => n.Index, StringComparer.Ordinal);
        _byText = _positions.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<string> Names => _names;

    public int Count => _names.Length;

    public string this[int position] => _names[position];

    /// <summary>The position of a field named in a parameter, or -1 when this list does not declare it.</summary>
    public int PositionOf(ReadOnlySpan<char> field) => _byText.TryGetValue(field, out var at) ? at : -1;

    /// <summary>
    /// The position of a field the code looks up, or -1. The code looks up by the declared strings
    /// themselves (literals are interned), so they are compared by reference first.
    /// </summary>
    public int PositionOf(string field)
    {
        for (var i = 0; i < _names.Length; i++)
        {
            if (ReferenceEquals(_names[i], field))
                return i;
        }
        return _positions.TryGetValue(field, out var at) ? at : -1;
    }
}

/// <summary>
/// One item of a <c>Name.N.Field</c> list: the values of its declared fields by position, and any other
/// field the client sent (kept as sent, never looked up by the action). Enumerated declared fields first.
/// </summary>
internal sealed class ItemFields(string list, FieldNames declared) : IReadOnlyDictionary<string, string>
{
    private readonly string?[] _values = new string?[declared.Count];
    private Dictionary<string, string>? _others;
    private int _count;

    /// <summary>Sets a field named in a parameter: a declared one by position, any other by its name cut out.</summary>
    public void Set(ReadOnlySpan<char> field, string value)
    {
        var at = declared.PositionOf(field);
        if (at < 0)
        {
            _others ??= new Dictionary<string, string>(StringComparer.Ordinal);
            _others[field.ToString()] = value;
            return;
        }
        if (_values[at] is null)
            _count++;
        _values[at] = value;
    }

    public int Count => _count + (_others?.Count ?? 0);

    public bool TryGetValue(string key, out string value)
    {
        var at = declared.PositionOf(key);
        if (at >= 0)
        {
            value = _values[at]!;
            return value is not null;
        }
        Undeclared(key);
        value = null!;
        return _others is not null && _others.TryGetValue(key, out value!);
    }

    /// <summary>
    /// In a Debug build (every test run), a lookup of a field the list does not declare is a fault of ours:
    /// the declaration must name it. In a release it is read from the other fields, correctly, only not interned.
    /// </summary>
    [Conditional("DEBUG")]
    private void Undeclared(string key) =>
        throw new InvalidOperationException($"{list}.N.{key} is read but not among the fields its reader declares ({string.Join(", ", declared.Names)}).");

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public IEnumerable<string> Keys => this.Select(f => f.Key);

    public IEnumerable<string> Values => this.Select(f => f.Value);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (var i = 0; i < _values.Length; i++)
        {
            if (_values[i] is { } value)
                yield return new(declared[i], value);
        }
        if (_others is not null)
        {
            foreach (var field in _others)
                yield return field;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
