namespace Palisade.Domain.State;

/// <summary>A state file that cannot be read: where in the file (a JSON path) and what is wrong there.</summary>
public sealed class StateFileException(string path, string problem)
    : Exception($"{path}: {problem}")
{
    /// <summary>The JSON path of the offending value, e.g. <c>$.SecurityGroups[0].Permissions.Permission[2].PortRange</c>.</summary>
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}
