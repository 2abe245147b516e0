namespace Palisade.Server.Protocol;

/// <summary>
/// The CPU a request uses on the request threads, from its arrival at the endpoint to its answer's
/// flush, measured stretch by stretch: each stretch between two awaits on the thread that ran it (an
/// await may resume on another thread, whose clock is another's), with the collector's share of what
/// it allocated (<see cref="CpuMeter"/>). What a cache hit of an analysis's answer is charged (issue 19,
/// sixteenth session): serving it is the whole request — reading and authenticating it, looking the
/// answer up, copying 100 KB and more into the response — not the rendering it stands in for.
/// Not in it: Kestrel's parsing of the headers before the endpoint, and the send itself, which runs on
/// the transport's threads (its socket queues) for all connections at once.
/// </summary>
internal sealed class RequestCpu(CpuMeter meter)
{
    private const int Paused = -1;

    private TimeSpan _used;
    private TimeSpan _started;
    private long _allocated;
    private int _thread = Paused;
    private bool _stopped;

    /// <summary>What the measured stretches used so far.</summary>
    public TimeSpan Used => _used;

    /// <summary>Starts a stretch on this thread (nothing when one runs, or when measuring has stopped).</summary>
    public void Resume()
    {
        if (_stopped || _thread != Paused)
            return;
        _thread = Environment.CurrentManagedThreadId;
        _started = meter.Now();
        _allocated = meter.Allocated();
    }

    /// <summary>Ends the running stretch and adds it, if it ended on the thread it began on (else its clock was another thread's: it is dropped).</summary>
    public void Pause()
    {
        if (_thread == Paused)
            return;
        var same = _thread == Environment.CurrentManagedThreadId;
        _thread = Paused;
        if (same)
            _used += meter.Now() - _started + meter.Collector(meter.Allocated() - _allocated);
    }

    /// <summary>Ends measuring: a request whose cost is charged by nothing (not an analysis) reads no more clocks.</summary>
    public void Stop()
    {
        Pause();
        _stopped = true;
    }

    /// <summary>Awaits <paramref name="pending"/> outside any stretch: its wait is no CPU of this request's, and it may resume elsewhere.</summary>
    public async ValueTask<T> Around<T>(ValueTask<T> pending)
    {
        Pause();
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            Resume();
        }
    }

    /// <inheritdoc cref="Around{T}(ValueTask{T})"/>
    public async ValueTask Around(ValueTask pending)
    {
        Pause();
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            Resume();
        }
    }
}
