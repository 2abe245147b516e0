using System.Diagnostics;
using System.Text;
using Palisade.Cli.Tests.Server;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Confirmations;

/// <summary>
/// Issue 21 item 4, the one confirmation policy, seen as a person sees it: the real <c>palisade</c>
/// process on a pseudo-terminal (<c>script</c> from util-linux), which shows the server's what-if and
/// asks before a change that can cut or open flows; the answer is typed only once the question is on
/// the screen. <c>--yes</c> does not ask; without a terminal nobody is asked (the other transcripts).
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed partial class TerminalConfirmationTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task EveryChangeThatCutsOrOpensFlows_ShowsTheWhatIf_AndAsks()
    {
        var s = _server;
        var vpc = s.RunUnrecorded("vpc", "create", "--cidr", "10.0.0.0/16").Output.Trim();
        var vsw = s.RunUnrecorded("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "10.0.1.0/24").Output.Trim();
        s.Run("sg", "create", "--name", "web", "--vpc", vpc);
        s.Run("sg", "create", "--name", "db", "--vpc", vpc);
        s.Run("sg", "authorize", "db", "--rule", "tcp 5432 web priority 10");
        s.Run("instance", "run", "--group", "web", "--vswitch", vsw, "--name", "web-1", "--private-ip", "10.0.1.10");
        s.Run("instance", "run", "--group", "db", "--vswitch", vsw, "--name", "db-1", "--private-ip", "10.0.1.20");
        s.Run("instance", "run", "--group", "db", "--vswitch", vsw, "--name", "db-2", "--private-ip", "10.0.1.21");
        s.Run("instance", "join", "db-2", "--group", "web");
        s.Run("sg", "create", "--name", "old", "--vpc", vpc);
        var transcript = new StringBuilder(s.Transcript());
        async Task Terminal(string answer, params string[] args) =>
            transcript.Append(s.Numbered(await OnTerminalAsync(answer, args)));

        // The inner access of db stops db-1 and db-2 reaching each other: asked, declined, nothing changed.
        await Terminal("n", "sg", "policy", "db", "--inner-access", "drop");
        // Asked, accepted.
        await Terminal("y", "sg", "policy", "db", "--inner-access", "drop");
        // Opening flows is asked too.
        await Terminal("y", "sg", "policy", "db", "--inner-access", "accept");
        await Terminal("y", "sg", "revoke", "db", "--rule", "tcp 5432 web priority 10");
        await Terminal("y", "instance", "leave", "db-2", "--group", "web");
        await Terminal("n", "instance", "modify", "web-1", "--groups", "db");
        await Terminal("n", "instance", "delete", "db-1");
        // Refused by the server's dry run before anything is asked.
        await Terminal("y", "sg", "delete", "web");
        // A deletion that changes no flow is still asked.
        await Terminal("y", "sg", "delete", "old");
        // --yes on a terminal: not asked.
        await Terminal("", "instance", "delete", "db-1", "--yes");
        // A rename opens and cuts nothing: not asked.
        await Terminal("", "sg", "modify", "db", "--description", "PostgreSQL");
        Golden.Assert("confirm/terminal.txt", transcript.ToString());
    }

    /// <summary>
    /// Runs palisade on a pseudo-terminal; when it asks, types <paramref name="answer"/>. The transcript
    /// is what the terminal showed (the typed answer echoed after the question).
    /// </summary>
    private async Task<string> OnTerminalAsync(string answer, string[] args)
    {
        var dll = typeof(PalisadeCli).Assembly.Location;
        var all = args.Concat(["--server", _server.Url, "--credentials", _server.Credentials]);
        var command = "exec dotnet " + Quote(dll) + " " + string.Join(' ', all.Select(Quote));
        var start = new ProcessStartInfo("script", ["-qefc", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PALISADE_CONFIG_FILE"] = Path.Combine(_server.Data, "no-config.json");
        start.Environment["COLUMNS"] = "200";
        using var process = Process.Start(start)!;
        var seen = new StringBuilder();
        var buffer = new char[4096];
        var answered = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var n = await process.StandardOutput.ReadAsync(buffer, timeout.Token);
            if (n == 0)
                break;
            seen.Append(buffer, 0, n);
            if (!answered && seen.ToString().Contains("[y/N] ", StringComparison.Ordinal))
            {
                answered = true;
                await process.StandardInput.WriteAsync(answer + "\n");
                await process.StandardInput.FlushAsync();
            }
        }
        await process.WaitForExitAsync(timeout.Token);
        var shown = seen.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal);
        // .NET's console switches the terminal's keypad mode (ESC[?1h ESC=): not text.
        shown = Escapes().Replace(shown, "");
        // The typed answer is echoed by the terminal, and again by .NET's ReadLine when it took the
        // terminal over first: one echo is what a person sees.
        shown = shown.Replace($"[y/N] {answer}\n{answer}\n", $"[y/N] {answer}\n", StringComparison.Ordinal);
        var line = "$ palisade " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        return $"{line}   (on a terminal{(answered ? $", answering '{answer}'" : "")})\n{shown}[exit {process.ExitCode}]\n\n";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\x1b(\[[?0-9;]*[A-Za-z]|[=>])")]
    private static partial System.Text.RegularExpressions.Regex Escapes();

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
