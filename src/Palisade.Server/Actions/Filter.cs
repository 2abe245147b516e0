namespace Palisade.Server.Actions;

/// <summary>
/// The filters of a Describe… action over its resources: each method reads its parameter when it is
/// called, so the parameters are judged, and a bad one refused, in the order the action calls them
/// (which is the order its errors are documented in); a filter whose parameter is absent keeps
/// everything. The action lists its resources and keeps those <see cref="Keeps"/> admits.
/// </summary>
internal sealed class Filter<T>(ParameterReader p)
{
    private readonly List<Func<T, bool>> _tests = [];

    /// <summary>Kept when <paramref name="field"/> is the parameter.</summary>
    public Filter<T> Equal(string parameter, Func<T, string?> field) =>
        Where(p.Optional(parameter) is { } wanted ? x => field(x) == wanted : null);

    /// <summary>Kept when the parameter is among <paramref name="fields"/> (a resource's groups, say).</summary>
    public Filter<T> Among(string parameter, Func<T, IEnumerable<string>> fields) =>
        Where(p.Optional(parameter) is { } wanted ? x => fields(x).Contains(wanted) : null);

    /// <summary>Kept when <paramref name="field"/> is the parameter, which must be one of <paramref name="values"/> (else <c>InvalidParameter</c>, naming them).</summary>
    public Filter<T> OneOf(string parameter, string[] values, Func<T, string?> field)
    {
        if (p.Optional(parameter) is { } wanted && !values.Contains(wanted))
            throw new EcsException(EcsErrors.ParameterInvalid(parameter, $"'{wanted}' is not {string.Join(", ", values[..^1])} or {values[^1]}."));
        return Equal(parameter, field);
    }

    /// <summary>Kept when <paramref name="field"/> is one of the parameter's comma-separated values (at most <paramref name="max"/> of them when given).</summary>
    public Filter<T> AnyOfCommaSeparated(string parameter, Func<T, string> field, int? max = null)
    {
        var wanted = p.Optional(parameter)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (wanted?.Count > max)
            throw new EcsException(EcsErrors.ParameterInvalid(parameter, $"at most {max} IDs."));
        return Where(wanted is null ? null : x => wanted.Contains(field(x)));
    }

    /// <summary>Kept when <paramref name="field"/> is one of the parameter's JSON array (at most <paramref name="max"/>).</summary>
    public Filter<T> AnyOfJson(string parameter, int max, Func<T, string> field)
    {
        var wanted = p.JsonArray(parameter, max)?.ToHashSet(StringComparer.Ordinal);
        return Where(wanted is null ? null : x => wanted.Contains(field(x)));
    }

    /// <summary>Kept when <paramref name="field"/> is one of <c>Parameter.N</c> (at most <paramref name="max"/>).</summary>
    public Filter<T> AnyOfList(string parameter, int max, Func<T, string> field)
    {
        var wanted = p.List(parameter, max).ToHashSet(StringComparer.Ordinal);
        return Where(wanted.Count == 0 ? null : x => wanted.Contains(field(x)));
    }

    /// <summary>The resource-group filter (<c>ResourceGroupId</c>, <c>ServiceManaged</c>) over <paramref name="resourceGroup"/>.</summary>
    public Filter<T> InResourceGroup(Func<T, string> resourceGroup)
    {
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        return Where(x => inResourceGroup(resourceGroup(x)));
    }

    /// <summary>A test of the action's own, its parameters already read (null: none).</summary>
    public Filter<T> Where(Func<T, bool>? test)
    {
        if (test is not null)
            _tests.Add(test);
        return this;
    }

    public bool Keeps(T item)
    {
        foreach (var test in _tests)
        {
            if (!test(item))
                return false;
        }
        return true;
    }
}
