namespace Palisade.Server.Protocol;

/// <summary>
/// What an analysis is charged by: the CPU time the current thread has used (<see cref="ThreadCpu"/>),
/// read before and after each piece of the server's work for it. A test's meter makes each measured
/// piece cost a known amount, so what is charged can be counted without timing anything.
/// </summary>
internal class CpuMeter
{
    /// <summary>The current thread's CPU time (Linux), a wall clock elsewhere.</summary>
    public virtual TimeSpan Now() => ThreadCpu.Now();

    /// <summary>Runs <paramref name="work"/> on this thread and tells <paramref name="used"/> what it cost, answered or failed.</summary>
    public T Measure<T>(Func<T> work, Action<TimeSpan> used)
    {
        var started = Now();
        try
        {
            return work();
        }
        finally
        {
            used(Now() - started);
        }
    }
}
