namespace Palisade.Server.Protocol;

/// <summary>
/// What an analysis is charged by: the CPU time the current thread has used (<see cref="ThreadCpu"/>),
/// read before and after each piece of the server's work for it, and the collector's share of what
/// the piece allocated (its bytes × the process's collection pauses per byte allocated so far: the
/// collections its garbage causes run on whichever thread allocates next, maybe a quiet tenant's).
/// A test's meter makes each measured piece cost a known amount, so what is charged can be counted
/// without timing anything.
/// </summary>
internal class CpuMeter
{
    /// <summary>The current thread's CPU time (Linux), a wall clock elsewhere.</summary>
    public virtual TimeSpan Now() => ThreadCpu.Now();

    /// <summary>The bytes the current thread has allocated so far.</summary>
    public virtual long Allocated() => GC.GetAllocatedBytesForCurrentThread();

    /// <summary>What the collector has cost this process per byte allocated: its pauses so far over all it allocated.</summary>
    public virtual double CollectorSecondsPerByte()
    {
        var bytes = GC.GetTotalAllocatedBytes();
        return bytes > 0 ? GC.GetTotalPauseDuration().TotalSeconds / bytes : 0;
    }

    /// <summary>The collector's share of <paramref name="bytes"/> allocated.</summary>
    public TimeSpan Collector(long bytes) => bytes <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(bytes * CollectorSecondsPerByte());

    /// <summary>Runs <paramref name="work"/> on this thread and tells <paramref name="used"/> what it cost, answered or failed.</summary>
    public T Measure<T>(Func<T> work, Action<TimeSpan> used)
    {
        var started = Now();
        var allocated = Allocated();
        try
        {
            return work();
        }
        finally
        {
            used(Now() - started + Collector(Allocated() - allocated));
        }
    }
}
