namespace Palisade.Cli.Tests;

/// <summary>Runs the real <c>palisade</c> command line in-process and captures what it prints.</summary>
public static class CliTester
{
    public sealed record Outcome(int ExitCode, string Output, string Error);

    public static Outcome Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var code = PalisadeCli.Run(args, output, error);
        return new Outcome(code, output.ToString(), error.ToString());
    }

    /// <summary>As <see cref="Run"/>, with <paramref name="input"/> as the command's standard input.</summary>
    public static Outcome RunWithInput(string input, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var code = PalisadeCli.Run(args, output, error, new StringReader(input));
        return new Outcome(code, output.ToString(), error.ToString());
    }

    /// <summary>Writes <paramref name="json"/> to a temporary state file and returns its path.</summary>
    public static string StateFile(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"palisade-state-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
