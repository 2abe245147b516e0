using System.Runtime.CompilerServices;

namespace Palisade.TestKit;

/// <summary>
/// Golden files (STYLE.md rule 8): what we emit as text is compared with a checked-in file.
/// Run with <c>PALISADE_BLESS=1</c> to rewrite the files from the actual output, then review the
/// diff like code.
/// </summary>
public static class Golden
{
    public static bool Blessing => Environment.GetEnvironmentVariable("PALISADE_BLESS") == "1";

    /// <summary>The repository root: the folder holding <c>Palisade.slnx</c> above this source file.</summary>
    public static string RepositoryRoot() => FindAbove(ThisFile(), "Palisade.slnx");

    private static string ThisFile([CallerFilePath] string here = "") => here;

    private static string FindAbove(string file, string pattern)
    {
        var dir = Path.GetDirectoryName(file);
        while (dir is not null && Directory.GetFiles(dir, pattern).Length == 0)
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException($"No {pattern} above {file}");
    }

    /// <param name="relativePath">Path under the calling test project's <c>Golden/</c> folder.</param>
    public static void Assert(string relativePath, string actual, [CallerFilePath] string caller = "")
    {
        var project = FindAbove(caller, "*.csproj");
        var path = Path.Combine(project, "Golden", relativePath);
        actual = actual.Replace("\r\n", "\n");
        if (Blessing)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        if (!File.Exists(path))
            throw new Xunit.Sdk.XunitException($"Golden file {path} is missing. Run the tests with PALISADE_BLESS=1 to create it, then review it.\nActual:\n{actual}");
        var expected = File.ReadAllText(path).Replace("\r\n", "\n");
        if (expected != actual)
            throw new Xunit.Sdk.XunitException($"{path} differs (PALISADE_BLESS=1 rewrites it).\n--- expected\n{expected}\n--- actual\n{actual}");
    }
}
