using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Palisade.Domain.Ecs;
using Palisade.Server.Protocol;
using Palisade.Storage;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Hosting;

/// <summary>
/// The server's own side of an analysis, warmed before a tenant's first question (issue 19). The
/// analysis process is warmed as it starts (<see cref="AnalysisWarmUp"/>), but the server's part of a
/// question — resolving it, admission, the rehearsal in a rolled-back transaction, loading the state
/// after, decoding the child's answer and rendering 100 KB and more of flows — ran cold in the first
/// minutes of a tenant's questions: ~1,000 methods compiled, ~0.9 s of CPU in the first 8 s, slowing
/// the other tenants (docs/benchmarks.md, issue 19, fourteenth session). So at start the server asks
/// itself synthetic questions through the same code (<see cref="RpcEndpoint.ExecuteForWarmUpAsync"/>,
/// the stages of a request after authentication), enough times, with pauses, for the runtime's tiered
/// compilation to optimize them: <c>DescribeChangeImpact</c> (new questions and cached ones),
/// <c>DescribeReachability</c>, <c>AuditSecurityGroups</c>.
/// <para>
/// Nothing of it can reach a tenant: the synthetic account lives in a store of its own (SQLite in a
/// temporary directory, deleted after), with its own read cache, budget and analysis queue; the
/// analysis process keeps its befores under account 0, which no account has. What is shared is the
/// code, and the analysis process. The real store is never opened for it (with PostgreSQL, the
/// server's PostgreSQL reads stay cold; the analysis code is the same).
/// </para>
/// <para>
/// It runs in the background from the start, after the analysis process's own warm-up: requests are
/// served meanwhile (a lone node is not held unavailable for seconds), and <c>/readyz</c> says
/// "not ready: warming up" until it ends, so that a load balancer sends a node no tenant before.
/// </para>
/// </summary>
internal sealed class AnalysisPathWarmUp(ServeSettings settings, ServerOptions options, AnalysisProcess process, ILogger<AnalysisPathWarmUp> logger) : IHostedService
{
    /// <summary>Rounds of questions; each round asks <see cref="QuestionsPerRound"/> new impacts and a few of the other analyses.</summary>
    public const int Rounds = 8;

    /// <summary>
    /// New questions a round. The runtime optimizes a method after 30 calls, with profile-guided
    /// optimization in two steps (instrumented, then final), each after a pause without new
    /// compilations: 8 rounds of 16, with pauses, call each per-question method 128 times.
    /// </summary>
    public const int QuestionsPerRound = 16;

    /// <summary>The pause between rounds, for the runtime's background compilation.</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(250);

    private const string Region = "cn-hangzhou";
    private const int Groups = 10;
    private const int InstancesPerGroup = 10;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _answered;

    /// <summary>Whether this server warms its analysis path (with <see cref="Throttling.AnalysisWarmUp"/>, as the analysis process's warm-up).</summary>
    public bool Enabled => options.Throttling.AnalysisWarmUp;

    /// <summary>Ends when the warm-up has ended (at once when there is none): <c>/readyz</c> waits for it.</summary>
    public Task Done => Enabled ? _done.Task : Task.CompletedTask;

    /// <summary>Analyses the warm-up had answered (computed or from its cache).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled)
            _ = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        // Done, not _done: a server without the warm-up never completes _done, and waiting for it
        // held every stop for the host's whole shutdown timeout (30 s).
        await Task.WhenAny(Done, Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken)).ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var directory = Path.Combine(Path.GetTempPath(), "palisade-warm-up-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The analysis process's own warm-up first: its answers are then quick, and the two do not contend.
            if (options.Throttling.AnalysisInChild)
            {
                try
                {
                    process.Start();
                    await process.WarmUp.WaitAsync(_stop.Token);
                }
                catch (Exception e) when (e is AnalysisProcessLateException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // No child (logged where its start failed): impacts are compared in-process, and the warm-up warms that.
                }
            }
            await using (var provider = Provider(directory))
                await AskAsync(provider, _stop.Token);
            await SettleAsync(_stop.Token);
            logger.LogInformation("The server's analysis path warmed up: {Answered} analyses in {Seconds:F1} s, {Methods} methods compiled",
                Answered, Stopwatch.GetElapsedTime(started).TotalSeconds, System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A warm-up that fails leaves the path cold, as before it existed; the server serves either way.
            logger.LogWarning("The server's analysis path was not warmed up: {Error}", LogValues.Escape(e.Message, 512));
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            _done.TrySetResult();
        }
    }

    /// <summary>
    /// Waits for the runtime's background compilation of what the questions made hot: its optimized
    /// versions are compiled after a delay, on a thread of their own, and measured, ~1,000 of them
    /// (1.1 s of CPU) landed in the first seconds after the last question. Done when a pause of
    /// <see cref="Pause"/> × 2 compiles fewer than <see cref="SettledMethods"/> methods, or after
    /// <see cref="MaxSettle"/> (a busy server compiles for its own reasons too).
    /// </summary>
    private static async Task SettleAsync(CancellationToken cancel)
    {
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < MaxSettle;)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await Task.Delay(Pause * 2, cancel);
            if (System.Runtime.JitInfo.GetCompiledMethodCount() - compiled < SettledMethods)
                return;
        }
    }

    /// <summary>Methods compiled in a pause below which the runtime's background compilation is taken to have settled.</summary>
    public const int SettledMethods = 10;

    /// <summary>The longest the warm-up waits for the background compilation to settle.</summary>
    public static readonly TimeSpan MaxSettle = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The server's services over a store of their own in <paramref name="directory"/>, sharing this
    /// server's analysis process; a budget wide enough that the warm-up is never refused (its
    /// admission still runs: taken and settled).
    /// </summary>
    private ServiceProvider Provider(string directory)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var warm = settings with
        {
            DataDirectory = directory,
            Store = null,
            Options = options with
            {
                PublishesMetrics = false,
                Throttling = options.Throttling with { AnalysisSecondsPerSecond = 1_000, AnalysisBurstSeconds = 1_000, AnalysisWarmUp = false },
            },
        };
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        PalisadeServer.ConfigureServices(services, warm);
        services.AddSingleton(process);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<RpcEndpoint>().ForWarmUp = true;
        return provider;
    }

    private async Task AskAsync(IServiceProvider provider, CancellationToken cancel)
    {
        var endpoint = provider.GetRequiredService<RpcEndpoint>();
        var accounts = provider.GetRequiredService<AccountService>();
        var account = accounts.CreateAccount("warm-up");
        var key = accounts.CreateAccessKey(account.AccountId);
        var caller = new Caller(account.AccountId, key.AccessKeyId, ReadOnly: false);

        async Task<RpcCall> Call(string action, params (string Name, string Value)[] parameters)
        {
            var version = action is "CreateVpc" or "CreateVSwitch" or "DescribeVpcs" ? ApiVersions.Vpc : ApiVersions.Ecs;
            List<KeyValuePair<string, string>> query = [new("Action", action), new("Version", version), new("Format", "JSON"), .. parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value))];
            return await endpoint.ExecuteForWarmUpAsync(new RpcRequest("POST", "warm-up", query, [], new Dictionary<string, string>(), []), caller, cancel);
        }
        async Task<string> Made(string action, string id, params (string Name, string Value)[] parameters)
        {
            var call = await Call(action, parameters);
            if (call.Failure is { } failure)
                throw new InvalidOperationException($"{action}: {failure.Code} {failure.Message}");
            return System.Text.Json.JsonDocument.Parse(call.Answer!.Pieces.SelectMany(p => p).ToArray()).RootElement.GetProperty(id).GetString()!;
        }

        // A tenant's shape: the noisy tenant's of the bench (10 groups of 10 instances, rules from addresses and from groups).
        var vpc = await Made("CreateVpc", "VpcId", ("RegionId", Region), ("CidrBlock", "192.168.0.0/16"));
        string? vsw = null;
        for (var wait = Stopwatch.StartNew(); vsw is null;)
        {
            try
            {
                vsw = await Made("CreateVSwitch", "VSwitchId", ("RegionId", Region), ("VpcId", vpc), ("CidrBlock", "192.168.0.0/20"), ("ZoneId", "cn-hangzhou-h"));
            }
            catch (InvalidOperationException) when (wait.Elapsed < TimeSpan.FromSeconds(30))
            {
                // The VPC becomes Available after a moment.
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancel);
            }
        }
        var groups = new List<string>();
        for (var g = 0; g < Groups; g++)
        {
            var sg = await Made("CreateSecurityGroup", "SecurityGroupId", ("RegionId", Region), ("VpcId", vpc), ("SecurityGroupName", $"sg{g}"));
            await Made("AuthorizeSecurityGroup", "RequestId", ("RegionId", Region), ("SecurityGroupId", sg), ("IpProtocol", "tcp"), ("PortRange", $"{1000 + g}/{2000 + g}"), ("SourceCidrIp", "10.0.0.0/8"));
            if (g > 0)
                await Made("AuthorizeSecurityGroup", "RequestId", ("RegionId", Region), ("SecurityGroupId", sg), ("IpProtocol", "tcp"), ("PortRange", "22/22"), ("SourceGroupId", groups[^1]));
            groups.Add(sg);
            await Made("RunInstances", "RequestId", ("RegionId", Region), ("SecurityGroupId", sg), ("VSwitchId", vsw), ("Amount", InstancesPerGroup.ToString(CultureInfo.InvariantCulture)), ("ImageId", "img"), ("InstanceType", "ecs.g7.large"));
        }

        var port = 3000;
        for (var round = 0; round < Rounds; round++)
        {
            if (round > 0)
                await Task.Delay(Pause, cancel);
            for (var q = 0; q < QuestionsPerRound; q++)
            {
                var p = (port++).ToString(CultureInfo.InvariantCulture);
                var source = q % 2 == 0 ? ("SourceCidrIp", "0.0.0.0/0") : ("SourceGroupId", groups[(q + 1) % Groups]);
                await Answer(await Call("DescribeChangeImpact", ("RegionId", Region), ("ChangeAction", "AuthorizeSecurityGroup"), ("SecurityGroupId", groups[q % Groups]),
                    ("IpProtocol", "tcp"), ("PortRange", $"{p}/{p}"), source));
            }
            // The same question again: a cache hit, charged and copied as a tenant's.
            await Answer(await Call("DescribeChangeImpact", ("RegionId", Region), ("ChangeAction", "AuthorizeSecurityGroup"), ("SecurityGroupId", groups[0]),
                ("IpProtocol", "tcp"), ("PortRange", "3000/3000"), ("SourceCidrIp", "0.0.0.0/0")));
            await Answer(await Call("DescribeReachability", ("RegionId", Region)));
            await Answer(await Call("AuditSecurityGroups", ("RegionId", Region)));
        }
    }

    private Task Answer(RpcCall call)
    {
        // A refusal (e.g. a parameter this shape does not fit) still warmed the path up to it; only answers are counted.
        if (call.Failure is null)
            Interlocked.Increment(ref _answered);
        else
            logger.LogWarning("The server's warm-up was refused {Action}: {Code} {Message}", call.ActionName, call.Failure.Code, LogValues.Escape(call.Failure.Message, 512));
        return Task.CompletedTask;
    }
}
