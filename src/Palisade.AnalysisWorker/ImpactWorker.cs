using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.State;

namespace Palisade.AnalysisWorker;

/// <summary>
/// The analysis process's loop (issue 19): reads Compare frames, answers each with the impact
/// between the state before and the state after (<see cref="ImpactAnalysis.Between(System.Func{ReachMatrix}, NetworkState, NetworkState)"/>,
/// the same code the server runs in-process). The state before and its matrix are kept per
/// (account, region, account revision), as the server keeps them, so that only the state after
/// crosses for every new question; a Compare without its before that finds none kept at that
/// revision is answered <see cref="ImpactWire.Status.NeedsBefore"/>, and the server sends it again
/// with it. Requests run side by side (as many as the server's analysis workers send); answers are
/// written one frame at a time. The loop ends when the server closes the pipe.
/// </summary>
public static partial class ImpactWorker
{
    /// <summary>Befores kept, as the server's <c>ImpactBefores</c>; the least recently used go first.</summary>
    public const int MaxKept = 64;

    /// <summary>
    /// The argument that makes the palisade executable this loop (its only argument): the server starts
    /// itself again with it. Not a command of the tree: nothing a user types, and no help or completion shows it.
    /// </summary>
    public const string Command = "__analysis-process";

    private sealed class Before(long revision, NetworkState state)
    {
        private ReachMatrix? _matrix;

        public long Revision { get; } = revision;

        public NetworkState State { get; } = state;

        public long Used { get; set; } = Environment.TickCount64;

        public Lock Gate { get; } = new();

        public ReachMatrix Matrix() => _matrix ??= ReachMatrix.Build(State);
    }

    public static async Task RunAsync(Stream input, Stream output)
    {
        var kept = new ConcurrentDictionary<(long, string), Before>();
        var writing = new SemaphoreSlim(1);
        var frame = new ImpactWire.Frame();
        var running = new List<Task>();
        var length = new byte[4];
        while (await ImpactWire.ReadFrameAsync(input, length) is { } payload)
        {
            if (payload.Span[0] == ImpactWire.Park)
                continue;
            running.RemoveAll(t => t.IsCompleted);
            running.Add(Task.Run(async () =>
            {
                var (status, cpu, gained, lost, error, id) = Run(kept, payload);
                await writing.WaitAsync();
                try
                {
                    ImpactWire.WriteAnswer(frame, id, status, cpu, gained, lost, error);
                    await output.WriteAsync(frame.Written);
                    await output.FlushAsync();
                }
                finally
                {
                    writing.Release();
                }
            }));
        }
        await Task.WhenAll(running);
    }

    private static (ImpactWire.Status, TimeSpan, ImpactWire.Flow[]?, ImpactWire.Flow[]?, string?, long) Run(ConcurrentDictionary<(long, string), Before> kept, ReadOnlyMemory<byte> payload)
    {
        var started = ThreadCpu();
        long id = ImpactWire.IdOf(payload);
        try
        {
            var request = ImpactWire.ReadCompare(payload);
            var key = (request.AccountId, request.RegionId);
            Before? before;
            if (request.Before is { } given)
            {
                before = new Before(request.Revision, StateFileReader.Read(given));
                kept.AddOrUpdate(key, before, (_, old) => old.Revision > request.Revision ? old : before);
                Trim(kept);
            }
            else if (!kept.TryGetValue(key, out before) || before.Revision != request.Revision)
                return (ImpactWire.Status.NeedsBefore, ThreadCpu() - started, null, null, null, id);
            before.Used = Environment.TickCount64;
            var after = StateFileReader.Read(request.After);
            (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) impact;
            lock (before.Gate)
                impact = ImpactAnalysis.Between(before.Matrix, before.State, after);
            return (ImpactWire.Status.Answered, ThreadCpu() - started,
                [.. impact.Gained.Select(ImpactWire.Flow.Of)], [.. impact.Lost.Select(ImpactWire.Flow.Of)], null, id);
        }
        catch (Exception e)
        {
            return (ImpactWire.Status.Failed, ThreadCpu() - started, null, null, e.GetType().Name + ": " + e.Message, id);
        }
    }

    private static void Trim(ConcurrentDictionary<(long, string), Before> kept)
    {
        if (kept.Count <= MaxKept)
            return;
        foreach (var (key, _) in kept.OrderBy(k => k.Value.Used).Take(kept.Count - MaxKept).ToList())
            kept.TryRemove(key, out _);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>CPU time of this thread (Linux: CLOCK_THREAD_CPUTIME_ID), or the process's elsewhere.</summary>
    private static TimeSpan ThreadCpu()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(3, out var t) == 0)
            return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
        return System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
    }
}
