using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// Issue 19: <c>palisade serve</c>'s flags (and their environment variables) for where analyses run —
/// the workers, their niceness, the server-wide queue, analyses per account — reach the server, as its
/// <c>/metrics</c> shows them; out-of-range values are refused before anything starts.
/// </summary>
public sealed class AnalysisFlagsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("palisade-analysis-flags-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TheAnalysisFlags_AndTheirEnvironment_ReachTheServer_AsMetricsShow()
    {
        int port;
        using (var free = new TcpListener(IPAddress.Loopback, 0))
        {
            free.Start();
            port = ((IPEndPoint)free.LocalEndpoint).Port;
        }
        var start = new ProcessStartInfo("dotnet", [typeof(PalisadeCli).Assembly.Location, "serve", "--urls", $"http://127.0.0.1:{port}", "--data", Path.Combine(_dir, "data"),
            "--analysis-workers", "1", "--analysis-niceness", "3", "--account-analyses", "2", "--analysis-process", "in-process",
            "--analysis-rate", "0.3"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The queue from the environment, as a systemd unit's Environment= would set it.
        start.Environment["PALISADE_ANALYSIS_QUEUE"] = "5";
        start.Environment["PALISADE_ANALYSIS_BURST"] = "1.5";
        start.Environment["PALISADE_METRICS_TOKEN"] = "analysis-flags-token";
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
            var text = "";
            var deadline = DateTime.UtcNow.AddMinutes(2);
            // Until the server answers, then until the exporter has collected the gauges (it collects on scrape).
            while (!text.Contains("palisade_analysis_queue_limit", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                Assert.False(process.HasExited, "palisade serve exited");
                try
                {
                    using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
                    scrape.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "analysis-flags-token");
                    var response = await http.SendAsync(scrape);
                    if (response.StatusCode == HttpStatusCode.OK)
                        text = await response.Content.ReadAsStringAsync();
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(200);
            }
            Assert.Matches("(?m)^palisade_analysis_workers\\{[^}]*niceness=\"3\"[^}]*\\} 1( |$)", text);
            Assert.Matches("(?m)^palisade_analysis_workers\\{[^}]*impact=\"in-process\"[^}]*\\} 1( |$)", text);
            Assert.Matches("(?m)^palisade_analysis_queue_limit(\\{[^}]*\\})? 5( |$)", text);
            Assert.Matches("(?m)^palisade_analysis_per_account_limit(\\{[^}]*\\})? 2( |$)", text);
            // The budget given, not the node's share of its cores (0.05 a core).
            Assert.Matches("(?m)^palisade_analysis_budget_rate_seconds_per_second(\\{[^}]*\\})? 0\\.3( |$)", text);
            Assert.Matches("(?m)^palisade_analysis_budget_burst_seconds(\\{[^}]*\\})? 1\\.5( |$)", text);
            Assert.Matches("(?m)^palisade_analyses\\{[^}]*state=\"waiting\"[^}]*\\} 0( |$)", text);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("--analysis-workers", "-1", "from 0 to 256")]
    [InlineData("--analysis-workers", "1.5", "from 0 to 256")]
    [InlineData("--analysis-queue", "-3", "from 0 to 100000")]
    [InlineData("--account-analyses", "0", "from 1 to 1000")]
    [InlineData("--analysis-niceness", "20", "from 0 to 19")]
    public void AnOutOfRangeAnalysisFlag_IsRefused_BeforeAnythingStarts(string flag, string value, string range)
    {
        var outcome = CliTester.Run("serve", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(_dir, "data"), flag, value);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains($"{flag} must be a whole number {range}.", outcome.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "data", "palisade.db")), "a refused start must create no store");
    }

    [Fact]
    public void AnUnknownAnalysisProcess_IsRefused_BeforeAnythingStarts()
    {
        var outcome = CliTester.Run("serve", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(_dir, "data"), "--analysis-process", "elsewhere");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("elsewhere", outcome.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "data", "palisade.db")), "a refused start must create no store");
    }
}
