namespace Palisade.Cli.Tests.Hosts;

/// <summary>
/// The host and agent commands' edges: what they say when they cannot reach a server. Their work
/// against a real server and kernel is tested in Palisade.System.Tests (EnforcementTests).
/// </summary>
public sealed class HostCommandTests
{
    private static string Credentials()
    {
        var path = Path.Combine(Path.GetTempPath(), $"palisade-cred-{Guid.NewGuid():N}");
        File.WriteAllText(path, "# test\naccess_key_id=LTAItest\naccess_key_secret=secret\n");
        return path;
    }

    [Fact]
    public void NotAUrl_IsOneLine_ExitTwo()
    {
        var outcome = CliTester.Run("host", "list", "--server", "ftp://x", "--credentials", Credentials());
        Assert.Equal((2, "error: 'ftp://x' is not an http(s) URL\n"), (outcome.ExitCode, outcome.Error));
    }

    [Fact]
    public void CredentialsFileWithoutAKey_IsOneLine_ExitTwo()
    {
        var file = Path.Combine(Path.GetTempPath(), $"palisade-cred-{Guid.NewGuid():N}");
        File.WriteAllText(file, "account_name=root\n");
        var outcome = CliTester.Run("host", "bind", "--server", "http://127.0.0.1:9/", "--credentials", file, "--instance", "i-a", "--host", "h", "--interface", "vnet0");
        Assert.Equal((2, $"error: {file} holds no access_key_id and access_key_secret\n"), (outcome.ExitCode, outcome.Error));
    }

    [Fact]
    public void UnreachableServer_IsOneLine_ExitFour()
    {
        var outcome = CliTester.Run("host", "unbind", "--server", "http://127.0.0.1:9/", "--credentials", Credentials(), "--instance", "i-a");
        Assert.Equal(ExitCodes.Unavailable, outcome.ExitCode);
        Assert.StartsWith("error: the server did not answer: Connection refused", outcome.Error, StringComparison.Ordinal);
        Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Agent_WithoutHost_IsAUsageError()
    {
        var outcome = CliTester.Run("agent", "--server", "http://127.0.0.1:9/");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--host", outcome.Error, StringComparison.Ordinal);
    }
}
