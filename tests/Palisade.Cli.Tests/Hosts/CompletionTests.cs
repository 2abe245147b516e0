using System.Diagnostics;

namespace Palisade.Cli.Tests.Hosts;

/// <summary><c>palisade completion bash</c>: a script bash accepts, that completes commands and options from the real tree.</summary>
public sealed class CompletionTests
{
    private static string Complete(string script, params string[] words)
    {
        var file = Path.Combine(Path.GetTempPath(), $"palisade-completion-{Guid.NewGuid():N}.bash");
        File.WriteAllText(file, script);
        try
        {
            var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"source {file}; COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}; _palisade; echo \"${{COMPREPLY[@]}}\"");
            using var bash = Process.Start(info)!;
            var output = bash.StandardOutput.ReadToEnd();
            var error = bash.StandardError.ReadToEnd();
            bash.WaitForExit();
            Assert.True(bash.ExitCode == 0, error);
            return output.Trim();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Bash_CompletesCommandsAndOptionsOfTheTree()
    {
        var run = CliTester.Run("completion", "bash");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("serve sg suggest", Complete(run.Output, "palisade", "s"));
        Assert.Equal("authorize", Complete(run.Output, "palisade", "sg", "au"));
        Assert.Contains("--egress", Complete(run.Output, "palisade", "sg", "authorize", "sg-abc", "--e").Split(' '));
        Assert.Equal("--cut-established", Complete(run.Output, "palisade", "agent", "--cut"));
    }

    [Fact]
    public void UnknownShell_IsAUsageError() => Assert.Equal(2, CliTester.Run("completion", "fish").ExitCode);
}
