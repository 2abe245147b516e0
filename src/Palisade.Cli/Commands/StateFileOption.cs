using System.CommandLine;
using Palisade.Cli.Evaluation;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary>The <c>--state FILE</c> option the offline analysis commands share, and the reading of it.</summary>
public static class StateFileOption
{
    public static Option<string> Create() => new("--state")
    {
        Description = "A state file: ECS exports of the region's security groups and instances (see README, 'State files').",
        HelpName = "FILE",
        Required = true,
    };

    /// <summary>Reads and checks the state file; every problem becomes a <see cref="UsageException"/> that names the place.</summary>
    public static NetworkState Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read state file '{path}': {e.Message}");
        }
        try
        {
            return StateFileReader.Read(json);
        }
        catch (StateFileException e)
        {
            throw new UsageException($"state file '{path}' is malformed at {e.Path}: {e.Problem}");
        }
    }
}
