using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Palisade.AnalysisWorker;
using Palisade.Domain.State;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// The analysis process (issue 19): a long-lived child the server starts, on first use, at Linux
/// niceness 19 (the palisade executable again, <c>palisade __analysis-process</c>: <see cref="ImpactWorker"/>), which compares the states of
/// dry-run impacts — <c>DescribeChangeImpact</c> and a dry run's <c>Impact</c> — so that their CPU
/// yields to request threads and their garbage is collected on the child's heap, not in the process
/// that serves everyone. The state after crosses the pipe as a state file for each question; the
/// state before once per account revision (the child keeps it, as <c>ImpactBefores</c> does here).
/// <para>
/// The child reads its standard input until the server closes it, so it ends with the server. If it
/// dies, the analyses in flight fail with <c>ServiceUnavailable</c> (retryable) and the next one
/// starts a new child. Where it cannot be started (no runtime to start it with), it is an error of
/// the same kind, logged; <see cref="Throttling.AnalysisInChild"/> off keeps every comparison in-process.
/// </para>
/// <para>
/// The server starts its child when it starts (not on a tenant's first question), and each new child
/// is first asked <see cref="AnalysisWarmUp"/>'s questions (<see cref="WarmsUp"/>): a cold child's code is
/// compiled and optimized on them, charged to no account, and not on the first tenants' questions.
/// </para>
/// </summary>
internal sealed class AnalysisProcess(ILogger<AnalysisProcess>? logger = null) : IDisposable
{
    /// <summary>The niceness the child runs at: the lowest priority, which an unprivileged server may always set.</summary>
    public const int Niceness = 19;

    private readonly Lock _gate = new();
    private Child? _child;
    private bool _disposed;
    private long _started;

    /// <summary>
    /// How long a comparison waits for the child before the caller compares in-process instead
    /// (<see cref="AnalysisProcessLateException"/>): a child at niceness 19 on a busy host may get almost
    /// no CPU, and a tenant's dry run must not wait on it (nor hold the account's one analysis) for that.
    /// Until the late answer arrives, later comparisons do not wait for the child at all.
    /// </summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(2);

    private long _late;
    private long? _notStartedAt;
    private string? _notStartedWhy;

    /// <summary>How long after a failed start the child is not tried again (each impact meanwhile compared in-process).</summary>
    public static readonly TimeSpan RetryStartAfter = TimeSpan.FromSeconds(30);

    /// <summary>The program a child is started with (<see cref="Child.Program"/>; a test's seam: one that cannot be started).</summary>
    internal Func<(string Program, string[] Arguments)?> ChildProgram { get; init; } = Child.Program;
    private long _asked;
    private long _warmUpAnswered;
    private long _warmUpFirstTicks = -1;
    private long _warmUpLastTicks = -1;

    /// <summary>
    /// Whether each new child is asked <see cref="AnalysisWarmUp"/>'s questions as it starts, before
    /// (or, if a tenant asks at once, beside) any tenant's: the server's child is (<see cref="Throttling.AnalysisWarmUp"/>).
    /// </summary>
    public bool WarmsUp { get; init; }

    /// <summary>Warm-up questions the children answered so far (for tests and the benchmark).</summary>
    public long WarmUpAnswered => Interlocked.Read(ref _warmUpAnswered);

    /// <summary>The child's CPU for the last child's first warm-up question and its last round's median, once it is warm (the log, the benchmark).</summary>
    public (TimeSpan First, TimeSpan Last)? WarmUpCost =>
        Interlocked.Read(ref _warmUpLastTicks) is >= 0 and var last ? (TimeSpan.FromTicks(Interlocked.Read(ref _warmUpFirstTicks)), TimeSpan.FromTicks(last)) : null;

    /// <summary>The last child's warm-up: done when it has answered every warm-up question, or given up (for tests).</summary>
    internal Task WarmUp { get; private set; } = Task.CompletedTask;

    /// <summary>Comparisons sent to a child so far (for tests: one that is behind is not sent more).</summary>
    internal long Asked => Interlocked.Read(ref _asked);

    /// <summary>Comparisons the child did not answer in time, or that were not sent because it was behind (compared in-process).</summary>
    public long Late => Interlocked.Read(ref _late);

    /// <summary>Children started so far (a test sees a restart by it).</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>The running child's process ID, or null (for tests).</summary>
    public int? ChildId
    {
        get
        {
            lock (_gate)
                return _child is { Exited: false } c ? c.Process.Id : null;
        }
    }

    /// <summary>The child's CPU time so far, all its threads (for the benchmark); zero without one.</summary>
    public TimeSpan ChildCpu
    {
        get
        {
            lock (_gate)
            {
                try
                {
                    return _child is { Exited: false } c ? c.Process.TotalProcessorTime : TimeSpan.Zero;
                }
                catch (InvalidOperationException)
                {
                    return TimeSpan.Zero;
                }
            }
        }
    }

    /// <summary>
    /// The flows gained and lost between the account's state <paramref name="before"/> (at its account
    /// revision <paramref name="revision"/>) and <paramref name="after"/>, compared in the child, with
    /// the child's CPU time for it. Blocks the calling thread (an analysis worker) until the child
    /// answers; <c>ServiceUnavailable</c> if the child dies meanwhile; <see cref="AnalysisProcessLateException"/>
    /// past <see cref="Deadline"/>, or at once while an earlier answer is still late.
    /// </summary>
    public (IReadOnlyList<ImpactWire.Flow> Gained, IReadOnlyList<ImpactWire.Flow> Lost, TimeSpan Cpu) Compare(long accountId, string regionId, long revision, NetworkState before, NetworkState after, CancellationToken cancel = default)
    {
        var child = Current();
        if (child.Behind)
        {
            Interlocked.Increment(ref _late);
            throw new AnalysisProcessLateException();
        }
        return Compare(child, accountId, regionId, revision, before, after, Deadline, warmUp: false, cancel);
    }

    /// <summary>Starts the child now if none runs, and so its warm-up (the server, as it starts): no tenant's question starts it cold.</summary>
    public void Start() => Current();

    private (IReadOnlyList<ImpactWire.Flow> Gained, IReadOnlyList<ImpactWire.Flow> Lost, TimeSpan Cpu) Compare(Child child, long accountId, string regionId, long revision, NetworkState before, NetworkState after, TimeSpan deadline, bool warmUp, CancellationToken cancel)
    {
        var key = (accountId, regionId);
        var cpu = TimeSpan.Zero;
        // The before is sent when the child is not known to keep it at this revision; if it was
        // dropped meanwhile the child says so, and it is sent again.
        var send = !child.Holds(key, revision);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            ImpactWire.Answered answer;
            // The server's own warm-up (AnalysisPathWarmUp, keyed as account 0) is no tenant's question either.
            if (!warmUp && accountId != AnalysisWarmUp.AccountId)
                Interlocked.Increment(ref _asked);
            try
            {
                answer = child.Ask(frame => ImpactWire.WriteCompare(frame, child.NextId(), accountId, regionId, revision, send ? before : null, after), deadline, cancel);
            }
            catch (AnalysisProcessLateException) when (!warmUp)
            {
                Interlocked.Increment(ref _late);
                logger?.LogWarning("The analysis process did not answer within {Deadline}; compared in-process until it catches up", Deadline);
                throw;
            }
            cpu += answer.Cpu;
            switch (answer.Status)
            {
                case ImpactWire.Status.Answered:
                    if (send)
                        child.Remember(key, revision);
                    return (answer.Gained, answer.Lost, cpu);
                case ImpactWire.Status.NeedsBefore when !send:
                    send = true;
                    continue;
                default:
                    throw new InvalidOperationException($"the analysis process failed: {answer.Error ?? answer.Status.ToString()}");
            }
        }
        throw new InvalidOperationException("the analysis process asked twice for the state before");
    }

    /// <summary>For tests: a request the child never answers, in flight until the child dies.</summary>
    internal Task ParkAsync()
    {
        var child = Current();
        return Task.Run(() => child.Ask(frame => ImpactWire.WritePark(frame, child.NextId()), Timeout.InfiniteTimeSpan, CancellationToken.None));
    }

    private Child Current()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_child is { Exited: false } running)
                return running;
            _child?.Dispose();
            _child = null;
            // A child that cannot be started (no palisade program beside the server, a failed fork) is not
            // tried again on every question: each is compared in-process, as when the child is late, and the
            // start is tried again after a pause. An impact never fails for the child's sake alone.
            if (_notStartedAt is { } failed && Stopwatch.GetElapsedTime(failed) < RetryStartAfter)
            {
                Interlocked.Increment(ref _late);
                throw new AnalysisProcessLateException(_notStartedWhy!);
            }
            Child child;
            try
            {
                child = _child = Child.Start(logger, ChildProgram());
                _notStartedAt = null;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                _notStartedAt = Stopwatch.GetTimestamp();
                _notStartedWhy = $"the analysis process could not be started: {e.Message}";
                Interlocked.Increment(ref _late);
                logger?.LogWarning("The analysis process could not be started ({Error}); impacts are compared in-process, and the start is tried again in {Seconds} s", LogValues.Escape(e.Message, 512), RetryStartAfter.TotalSeconds);
                throw new AnalysisProcessLateException(_notStartedWhy);
            }
            Interlocked.Increment(ref _started);
            if (WarmsUp)
                WarmUp = Task.Run(() => WarmUpChild(child));
            return child;
        }
    }

    /// <summary>
    /// Asks a new child <see cref="AnalysisWarmUp"/>'s questions, on a thread of the pool (at the
    /// server's priority; the child at its own), in rounds with a pause between them for the child's
    /// background compilation, until its CPU per question stops falling (<see cref="AnalysisWarmUp.Done"/>). Nothing is charged: no account asked. It waits for the child however
    /// long it takes (a question of a tenant meanwhile is still compared in-process past <see cref="Deadline"/>),
    /// and ends quietly when the child does.
    /// </summary>
    private void WarmUpChild(Child child)
    {
        try
        {
            var before = AnalysisWarmUp.Before;
            var medians = new List<TimeSpan>();
            var asked = 0;
            while (!AnalysisWarmUp.Done(medians))
            {
                if (medians.Count > 0)
                    Thread.Sleep(AnalysisWarmUp.Pause);
                var round = new TimeSpan[AnalysisWarmUp.QuestionsPerRound];
                for (var q = 0; q < round.Length; q++)
                {
                    (_, _, round[q]) = Compare(child, AnalysisWarmUp.AccountId, AnalysisWarmUp.RegionId, 1, before, AnalysisWarmUp.After(asked++), WarmUpPatience, warmUp: true, CancellationToken.None);
                    if (asked == 1)
                        Interlocked.Exchange(ref _warmUpFirstTicks, round[q].Ticks);
                    Interlocked.Increment(ref _warmUpAnswered);
                }
                Array.Sort(round);
                medians.Add(round[round.Length / 2]);
            }
            Interlocked.Exchange(ref _warmUpLastTicks, medians[^1].Ticks);
            logger?.LogInformation("Warmed the analysis process {Pid} up: {Count} questions in {Rounds} rounds, the first {First:F1} ms of its CPU, the last round's median {Last:F1} ms",
                child.Process.Id, asked, medians.Count, WarmUpCost?.First.TotalMilliseconds, WarmUpCost?.Last.TotalMilliseconds);
        }
        catch (Exception e) when (e is EcsException or AnalysisProcessLateException or ObjectDisposedException or IOException)
        {
            // The child ended (or the server stops): the next child is warmed up in its turn.
            logger?.LogDebug("The analysis process's warm-up ended early: {Error}", LogValues.Escape(e.Message, 512));
        }
        catch (Exception e)
        {
            // A fault of the warm-up itself (its questions are this server's own): the child still serves tenants, cold.
            logger?.LogError(e, "The analysis process's warm-up failed");
        }
    }

    /// <summary>How long a warm-up question waits for the child: a child at niceness 19 on a busy host may take long, and nobody waits on it.</summary>
    private static readonly TimeSpan WarmUpPatience = TimeSpan.FromMinutes(5);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _child?.Dispose();
            _child = null;
        }
    }

    /// <summary>One incarnation of the child: its pipes, the requests waiting for answers, the befores it was sent.</summary>
    private sealed class Child : IDisposable
    {
        private readonly ConcurrentDictionary<long, TaskCompletionSource<ImpactWire.Answered>> _waiting = new();
        private readonly ConcurrentDictionary<(long, string), long> _sent = new();
        // Requests whose callers stopped waiting: the child is behind until each is answered.
        private readonly ConcurrentDictionary<long, bool> _late = new();
        private readonly Lock _writing = new();
        private readonly ImpactWire.Frame _frame = new();
        private readonly ILogger? _logger;
        private readonly ProcessShare _share;
        private long _ids;
        private volatile bool _exited;
        private volatile bool _stopping;

        private Child(Process process, ILogger? logger)
        {
            Process = process;
            _logger = logger;
            _share = new ProcessShare(ProcessCpu());
            _ = Task.Run(ReadAnswersAsync);
            _ = Task.Run(ReadErrorsAsync);
        }

        public Process Process { get; }

        public bool Exited => _exited;

        /// <summary>The child's whole CPU so far; zero once it cannot be read (then answers are charged their thread's).</summary>
        private TimeSpan ProcessCpu()
        {
            try
            {
                return Process.TotalProcessorTime;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                return TimeSpan.Zero;
            }
        }

        public long NextId() => Interlocked.Increment(ref _ids);

        public bool Behind => !_late.IsEmpty;

        public bool Holds((long, string) key, long revision) => _sent.TryGetValue(key, out var sent) && sent == revision;

        public void Remember((long, string) key, long revision)
        {
            _sent[key] = revision;
            if (_sent.Count > ImpactWorker.MaxKept)
                _sent.Clear();
        }

        public static Child Start(ILogger? logger, (string Program, string[] Arguments)? toStart)
        {
            var (program, arguments) = toStart ?? throw new InvalidOperationException(
                "no program to start the analysis process with: palisade.dll is not beside the server and the server is not the palisade executable");
            var info = new ProcessStartInfo
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // nice(1) lowers every thread of the child from its first instruction (the runtime's own
            // included); without it the child's main thread is lowered after the start. (SCHED_IDLE, which
            // preempts the child at once when a request thread wakes, measured no different on the quiet
            // tenant's p99 and would starve the child on a busy host: docs/benchmarks.md, issue 19.)
            var nice = OperatingSystem.IsLinux() ? new[] { "/usr/bin/nice", "/bin/nice" }.FirstOrDefault(File.Exists) : null;
            var command = new List<string>();
            if (nice is not null)
                command.AddRange([nice, "-n", Niceness.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            command.Add(program);
            command.AddRange(arguments);
            info.FileName = command[0];
            foreach (var a in command.Skip(1))
                info.ArgumentList.Add(a);
            // Its own collector: workstation, non-concurrent (one thread; nothing there waits on a pause).
            info.Environment["DOTNET_gcServer"] = "0";
            info.Environment["DOTNET_gcConcurrent"] = "0";
            var process = Process.Start(info) ?? throw new InvalidOperationException("the analysis process did not start");
            if (nice is null && OperatingSystem.IsLinux())
            {
                try
                {
                    process.PriorityClass = ProcessPriorityClass.Idle;
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    logger?.LogWarning("The analysis process {Pid} could not be lowered to niceness {Niceness}: {Error}", process.Id, Niceness, e.Message);
                }
            }
            logger?.LogInformation("Started the analysis process {Pid} at niceness {Niceness}", process.Id, Niceness);
            return new Child(process, logger);
        }

        /// <summary>
        /// The child is the palisade executable started again with <see cref="ImpactWorker.Command"/>: its
        /// <c>palisade.dll</c> beside the server on the runtime the server runs on (the framework-dependent
        /// build, tests and benchmarks, which reference the CLI), else, when the server is the palisade
        /// executable itself (the single-file build, where nothing lies beside it), that executable.
        /// </summary>
        internal static (string Program, string[] Arguments)? Program()
        {
            var cli = Path.Combine(AppContext.BaseDirectory, "palisade.dll");
            if (File.Exists(cli) && DotnetHost() is { } dotnet)
                return (dotnet, ["exec", cli, ImpactWorker.Command]);
            if (System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name == "palisade" && Environment.ProcessPath is { } self)
                return (self, [ImpactWorker.Command]);
            return null;
        }

        /// <summary>The dotnet host of the runtime this server runs on: the child runs on the same runtime.</summary>
        private static string? DotnetHost()
        {
            var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
            // shared/Microsoft.NETCore.App/<version>/ → the root holding the host.
            var runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar);
            var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(runtime)));
            if (root is not null && File.Exists(Path.Combine(root, name)))
                return Path.Combine(root, name);
            if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } dotnetRoot && File.Exists(Path.Combine(dotnetRoot, name)))
                return Path.Combine(dotnetRoot, name);
            if (Environment.ProcessPath is { } self && Path.GetFileName(self) == name)
                return self;
            return null;
        }

        /// <summary>Sends one frame and waits for its answer (a frame's ID is its first field after the kind).</summary>
        public ImpactWire.Answered Ask(Action<ImpactWire.Frame> write, TimeSpan deadline, CancellationToken cancel)
        {
            var waiting = new TaskCompletionSource<ImpactWire.Answered>(TaskCreationOptions.RunContinuationsAsynchronously);
            long id;
            lock (_writing)
            {
                if (_exited)
                    throw Unavailable();
                write(_frame);
                id = ImpactWire.IdOf(_frame.Written[4..]);
                _waiting[id] = waiting;
                try
                {
                    var stdin = Process.StandardInput.BaseStream;
                    stdin.Write(_frame.Written.Span);
                    stdin.Flush();
                }
                catch (IOException)
                {
                    _waiting.TryRemove(id, out _);
                    Exit("its input pipe broke");
                    throw Unavailable();
                }
            }
            try
            {
                return waiting.Task.WaitAsync(deadline, cancel).GetAwaiter().GetResult();
            }
            catch (TimeoutException)
            {
                _late[id] = true;
                // Answered meanwhile: not late after all (the reader removes what it answers).
                if (!_waiting.ContainsKey(id))
                    _late.TryRemove(id, out _);
                throw new AnalysisProcessLateException();
            }
            finally
            {
                _waiting.TryRemove(id, out _);
            }
        }

        private async Task ReadAnswersAsync()
        {
            var length = new byte[4];
            var reused = new ImpactWire.ReusedPayload();
            var stdout = Process.StandardOutput.BaseStream;
            try
            {
                // Each answer is decoded before the next is read, so one buffer serves them all.
                while (await ImpactWire.ReadFrameAsync(stdout, length, reused) is { } payload)
                {
                    // Decoding the answer is this server's work for the question: charged with the child's.
                    var started = ThreadCpu.Now();
                    var answer = ImpactWire.ReadAnswer(payload);
                    // The child's thread CPU scaled to its whole process's (its collector and other threads, issue 19).
                    answer = answer with { Cpu = _share.Charge(answer.Cpu, ProcessCpu()) + (ThreadCpu.Now() - started) };
                    _late.TryRemove(answer.Id, out _);
                    if (_waiting.TryRemove(answer.Id, out var waiting))
                        waiting.TrySetResult(answer);
                }
                Exit("it closed its output");
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException or InvalidOperationException)
            {
                Exit(e.Message);
            }
        }

        private async Task ReadErrorsAsync()
        {
            try
            {
                while (await Process.StandardError.ReadLineAsync() is { } line)
                    _logger?.LogWarning("Analysis process {Pid}: {Line}", Process.Id, LogValues.Escape(line, 2048));
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The child is gone; ReadAnswersAsync says so.
            }
        }

        /// <summary>The child is gone: every analysis waiting for it gets <c>ServiceUnavailable</c>.</summary>
        private void Exit(string why)
        {
            if (_exited)
                return;
            _exited = true;
            if (!_stopping)
                _logger?.LogError("The analysis process {Pid} ended ({Why}); {Count} analyses in flight fail with ServiceUnavailable, the next starts a new one", Process.Id, LogValues.Escape(why, 512), _waiting.Count);
            foreach (var id in _waiting.Keys)
            {
                if (_waiting.TryRemove(id, out var waiting))
                    waiting.TrySetException(Unavailable());
            }
        }

        private static EcsException Unavailable() => new(EcsErrors.Unavailable());

        public void Dispose()
        {
            // Closing its input ends the child's loop; it is killed if it does not end promptly.
            _stopping = true;
            try
            {
                Process.StandardInput.Close();
                if (!Process.WaitForExit(2000))
                    Process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
            Exit("the server stopped it");
            Process.Dispose();
        }
    }
}

/// <summary>The analysis process did not answer in time, is still behind, or could not be started: the caller compares in-process.</summary>
internal sealed class AnalysisProcessLateException(string message = "the analysis process did not answer in time") : Exception(message);
