using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Palisade.Domain.Errors;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// Where analyses run: a few dedicated threads, fewer than the cores
/// (<see cref="Throttling.AnalysisWorkers"/>), apart from the threads that serve plain API calls, so a
/// request never waits behind an analysis for a thread, and analyses together never hold every core;
/// optionally at a lower scheduling priority (<see cref="Throttling.AnalysisNiceness"/>). Analyses admitted while every worker is busy wait in a bounded queue
/// (<see cref="Throttling.AnalysisQueue"/>); past it a new one is refused at once with <c>Throttling</c>.
/// The queue is one line per account, served in turn: an account's waiting analyses never delay
/// another account's by more than one turn each.
/// </summary>
internal sealed class AnalysisScheduler : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Queue<Job>> _waiting = [];
    // Accounts with waiting jobs, in the order they are served (round robin).
    private readonly LinkedList<long> _turns = new();
    private readonly Dictionary<long, int> _admitted = [];
    private readonly SemaphoreSlim _ready = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _workers;
    private readonly int _perAccount;
    private readonly int _capacity;
    private readonly ILogger<AnalysisScheduler>? _logger;
    private readonly int _niceness;
    private readonly CpuMeter _meter;
    private int _inFlight;
    private int _busy;

    public AnalysisScheduler(ServerOptions options, ILogger<AnalysisScheduler>? logger = null, CpuMeter? meter = null)
    {
        var limits = options.Throttling;
        _logger = logger;
        _meter = meter ?? new CpuMeter();
        _perAccount = Math.Max(1, limits.AnalysisConcurrency);
        // Linux niceness, 0 (as requests) to 19: at 10 the kernel gives a worker about a tenth of the CPU
        // a request thread gets when both want it, and all of it when nothing else does. An unprivileged
        // server may raise its threads' niceness, never lower it.
        _niceness = Math.Clamp(limits.AnalysisNiceness, 0, 19);
        Workers = Math.Max(0, limits.AnalysisWorkers);
        Niceness = _niceness;
        _capacity = Workers + Math.Max(0, limits.AnalysisQueue);
        _workers = new Thread[Workers];
        for (var i = 0; i < Workers; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"palisade-analysis-{i}" };
            _workers[i].Start();
        }
    }

    /// <summary>Dedicated workers; 0 runs analyses on the request's own thread (no cap across accounts, no queue).</summary>
    public int Workers { get; }

    /// <summary>The workers' niceness (Linux).</summary>
    public int Niceness { get; }

    /// <summary>Analyses that may wait for a worker, all accounts together.</summary>
    public int QueueLimit => _capacity - Workers;

    /// <summary>Analyses one account may have admitted at once.</summary>
    public int PerAccount => _perAccount;

    /// <summary>Analyses running now and admitted ones waiting (for tests and metrics).</summary>
    public (int Running, int Waiting) Load
    {
        get
        {
            lock (_gate)
                return (_busy, _inFlight - _busy);
        }
    }

    /// <summary>
    /// Takes a place for one analysis of the account, or refuses: <c>Throttling.Analysis</c> when the
    /// account has <see cref="Throttling.AnalysisConcurrency"/> admitted already (running or waiting),
    /// <c>Throttling</c> when the server's workers and queue are all taken. Disposing the place frees it.
    /// </summary>
    public Place Admit(long accountId)
    {
        lock (_gate)
        {
            var mine = _admitted.GetValueOrDefault(accountId);
            if (mine >= _perAccount)
                throw new EcsException(EcsErrors.AnalysisBudgetSpent());
            if (Workers > 0 && _inFlight >= _capacity)
                throw new EcsException(EcsErrors.AnalysisQueueFull());
            _admitted[accountId] = mine + 1;
            _inFlight++;
        }
        return new Place(this, accountId);
    }

    private void Release(long accountId)
    {
        lock (_gate)
        {
            _inFlight--;
            if (--_admitted[accountId] == 0)
                _admitted.Remove(accountId);
        }
    }

    /// <summary>A place taken by <see cref="Admit"/>: runs its work on a worker, once.</summary>
    internal sealed class Place(AnalysisScheduler scheduler, long accountId) : IDisposable
    {
        private int _released;

        /// <summary>
        /// Runs <paramref name="work"/> on an analysis worker (or here, without workers) and tells
        /// <paramref name="used"/> the CPU time it took, answered or failed. Cancelled while waiting, it
        /// is dropped without running.
        /// </summary>
        public Task<T> RunAsync<T>(Func<T> work, Action<TimeSpan> used, CancellationToken cancel)
        {
            var job = new Job<T>(work, used, scheduler._meter, cancel);
            if (scheduler.Workers == 0)
            {
                job.Run();
                return job.Completion.Task;
            }
            scheduler.Enqueue(accountId, job);
            return job.Completion.Task;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                scheduler.Release(accountId);
        }
    }

    private void Enqueue(long accountId, Job job)
    {
        lock (_gate)
        {
            if (!_waiting.TryGetValue(accountId, out var line))
                _waiting[accountId] = line = new Queue<Job>();
            if (line.Count == 0)
                _turns.AddLast(accountId);
            line.Enqueue(job);
        }
        _ready.Release();
    }

    /// <summary>The next job: the first of the account whose turn it is; that account goes to the back.</summary>
    private Job? Next()
    {
        lock (_gate)
        {
            if (_turns.First is not { } first)
                return null;
            _turns.RemoveFirst();
            var line = _waiting[first.Value];
            var job = line.Dequeue();
            if (line.Count > 0)
                _turns.AddLast(first.Value);
            else
                _waiting.Remove(first.Value);
            _busy++;
            return job;
        }
    }

    private void Work()
    {
        if (_niceness > 0)
            ThreadCpu.Lower(_niceness);
        try
        {
            while (true)
            {
                _ready.Wait(_stop.Token);
                if (Next() is not { } job)
                    continue;
                try
                {
                    job.Run();
                }
                finally
                {
                    lock (_gate)
                        _busy--;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception e)
        {
            // Job.Run hands every failure of the work to its caller; this is a fault of the scheduler itself.
            _logger?.LogCritical(e, "An analysis worker stopped");
            throw;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        lock (_gate)
        {
            foreach (var job in _waiting.Values.SelectMany(q => q))
                job.Abandon();
            _waiting.Clear();
            _turns.Clear();
        }
        foreach (var worker in _workers)
            worker.Join(TimeSpan.FromSeconds(5));
    }

    private abstract class Job
    {
        public abstract void Run();

        public abstract void Abandon();
    }

    private sealed class Job<T>(Func<T> work, Action<TimeSpan> used, CpuMeter meter, CancellationToken cancel) : Job
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run()
        {
            // A client that left while its analysis waited costs nothing more.
            if (cancel.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancel);
                return;
            }
            var started = meter.Now();
            var allocated = meter.Allocated();
            ThreadCpu.TakeElsewhere();
            T result;
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                used(meter.Now() - started + meter.Collector(meter.Allocated() - allocated) + ThreadCpu.TakeElsewhere());
                Completion.TrySetException(e);
                return;
            }
            used(meter.Now() - started + meter.Collector(meter.Allocated() - allocated) + ThreadCpu.TakeElsewhere());
            Completion.TrySetResult(result);
        }

        public override void Abandon() => Completion.TrySetException(new EcsException(EcsErrors.Unavailable()));
    }
}

/// <summary>The current thread's CPU time and niceness (Linux); elsewhere wall time and no niceness.</summary>
internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
    private const int PrioProcess = 0; // PRIO_PROCESS: on Linux a thread id names one thread

    private static readonly bool Linux = OperatingSystem.IsLinux();

    [ThreadStatic]
    private static long t_elsewhere;

    /// <summary>CPU time this thread's work used in another process (the analysis process), charged as its own.</summary>
    public static void ChargeElsewhere(TimeSpan cpu) => t_elsewhere += cpu.Ticks;

    /// <summary>The CPU time charged elsewhere since the last call, reset.</summary>
    public static TimeSpan TakeElsewhere()
    {
        var taken = TimeSpan.FromTicks(t_elsewhere);
        t_elsewhere = 0;
        return taken;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    /// <summary>CPU time this thread has used (Linux), or a wall clock elsewhere.</summary>
    public static TimeSpan Now()
    {
        if (Linux && ClockGetTime(ClockThreadCpuTime, out var t) == 0)
            return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
        return Stopwatch.GetElapsedTime(0);
    }

    /// <summary>Raises this thread's niceness; false where the platform does not allow it.</summary>
    public static bool Lower(int niceness)
    {
        if (!Linux)
            return false;
        try
        {
            return SetPriority(PrioProcess, GetTid(), niceness) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>This thread's niceness (Linux), for tests; null elsewhere.</summary>
    public static int? Niceness()
    {
        if (!Linux)
            return null;
        // /proc/thread-self/stat: field 19 is the nice value; the command name (field 2) may hold spaces, so count after ')'.
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}
