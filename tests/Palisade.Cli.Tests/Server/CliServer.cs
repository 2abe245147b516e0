using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// A real server on 127.0.0.1 with its own data directory and one account ('cli') whose key is in
/// a credentials file, and a transcript of commands run against it whose generated IDs, keys,
/// secrets, request IDs and times are numbered in order of appearance (for golden files).
/// </summary>
public sealed partial class CliServer : IAsyncDisposable
{
    private readonly StringBuilder _transcript = new();
    private readonly Dictionary<string, string> _seen = new(StringComparer.Ordinal);

    private CliServer(WebApplication app, string data, string url, string credentials, AccountService.NewKey key)
    {
        App = app;
        Data = data;
        Url = url;
        Credentials = credentials;
        Key = key;
    }

    public WebApplication App { get; }

    public string Data { get; }

    public string Url { get; }

    public string Credentials { get; }

    public AccountService.NewKey Key { get; }

    /// <param name="requests">When given, the server's own request log (one line per request) is also written here.</param>
    public static async Task<CliServer> StartAsync(RequestLog? requests = null)
    {
        var data = Path.Combine(Path.GetTempPath(), "palisade-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = data,
            LogRequests = requests is not null,
            // No analysis process warmed up with each test's server (as TestControlPlane's): it starts on the first impact.
            // Sized as an 8-core node whatever the machine, as TestControlPlane's: the analysis budget's default is a share of the cores.
            Options = new ServerOptions { Throttling = new Throttling { AnalysisWarmUp = false, NodeCores = Palisade.TestKit.TestNode.Cores } },
        },
            configure: requests is null ? null : builder => builder.Logging.AddProvider(requests));
        await app.StartAsync();
        var accounts = app.Services.GetRequiredService<AccountService>();
        // The lowest possible ID, so that listings (by creation time, then ID) put it first even within one second.
        var key = accounts.CreateAccessKey(accounts.CreateAccount("cli").AccountId, id: "LTAI" + new string('0', 20));
        var credentials = Path.Combine(data, "cli-credentials");
        File.WriteAllText(credentials, $"access_key_id={key.AccessKeyId}\naccess_key_secret={key.AccessKeySecret}\n");
        return new CliServer(app, data, app.Urls.First(), credentials, key);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Directory.Delete(Data, recursive: true);
    }

    /// <summary>Runs a command as the account's key (unless it names its own connection), and adds it to the transcript.</summary>
    public CliTester.Outcome Run(params string[] args)
    {
        var outcome = RunUnrecorded(args);
        _transcript.Append("$ palisade ").AppendJoin(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a)).Append('\n');
        _transcript.Append(outcome.Output).Append(outcome.Error).Append(System.Globalization.CultureInfo.InvariantCulture, $"[exit {outcome.ExitCode}]\n\n");
        return outcome;
    }

    /// <summary>
    /// Runs a command as <see cref="Run"/> does, without adding it to the transcript: for answers whose
    /// order follows the generated IDs (lists sorted by ID), which differ from run to run.
    /// </summary>
    public CliTester.Outcome RunUnrecorded(params string[] args) =>
        CliTester.Run(args.Contains("--server") || args.Contains("--credentials") || args.Contains("--data") ? args : [.. args, "--server", Url, "--credentials", Credentials]);

    /// <summary>The transcript so far, with what is generated numbered (the same value, the same name, across calls).</summary>
    public string Transcript() => Numbered(_transcript.ToString());

    public string Numbered(string text)
    {
        text = text.Replace(Url, "URL", StringComparison.Ordinal).Replace(Credentials, "CREDENTIALS", StringComparison.Ordinal).Replace(Data, "DATA", StringComparison.Ordinal);
        text = Secret().Replace(text, "<secret>");
        return Generated().Replace(text, m =>
        {
            if (!_seen.TryGetValue(m.Value, out var name))
            {
                var kind = m.Groups["kind"].Success ? m.Groups["kind"].Value : m.Groups["mac"].Success ? "mac" : m.Groups["key"].Success ? "key" : m.Groups["guid"].Success ? "request" : "time";
                name = $"<{kind}{_seen.Count(s => s.Value.StartsWith($"<{kind}", StringComparison.Ordinal)) + 1}>";
                _seen[m.Value] = name;
            }
            return name;
        });
    }

    [GeneratedRegex(@"(?<=access_key_secret=|""AccessKeySecret"": "")[A-Za-z0-9]{30}\b")]
    private static partial Regex Secret();

    [GeneratedRegex(@"\b(?<kind>sg|sgr|i|vpc|vsw|eni|eip|pl|prl)-[a-z0-9]{10,}\b|\b(?<mac>[0-9a-f]{2}(:[0-9a-f]{2}){5})\b|\b(?<key>LTAI[A-Za-z0-9]{20})\b|\b(?<guid>[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})\b|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z")]
    private static partial Regex Generated();
}
