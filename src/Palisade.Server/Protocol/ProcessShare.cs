namespace Palisade.Server.Protocol;

/// <summary>
/// What a question answered by the analysis process cost that whole process, not only the thread
/// that compared it: the child's collector, its pipe and its background compilation run on other
/// threads, for the questions that made the work (issue 19: the child's process used 18.7 ms per new
/// question where its comparing thread reported about half). Each answer's thread CPU is scaled by
/// the process's recent ratio of whole-process CPU to the CPU its answers reported, measured over
/// windows of <see cref="Window"/> of reported CPU; never below the thread's own (a ratio under 1 is
/// 1), never above <see cref="MaxRatio"/> (a window that holds the process's start is not a
/// question's cost). One per child; called by its one reader, in order.
/// </summary>
internal sealed class ProcessShare(TimeSpan processAtStart)
{
    /// <summary>How much reported CPU a measured window holds (about ten new questions of 100 instances).</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromMilliseconds(50);

    /// <summary>The most a question is charged for each second its thread reported.</summary>
    internal const double MaxRatio = 4;

    private TimeSpan _processAt = processAtStart;
    private TimeSpan _reported;
    private double _ratio = 1;

    /// <summary>The ratio charged now: the last window's, or 1 before a window has ended.</summary>
    public double Ratio => _ratio;

    /// <summary>
    /// The charge for an answer whose thread reported <paramref name="reported"/>, the process's whole
    /// CPU being <paramref name="processNow"/> after it.
    /// </summary>
    public TimeSpan Charge(TimeSpan reported, TimeSpan processNow)
    {
        if (reported < TimeSpan.Zero)
            reported = TimeSpan.Zero;
        _reported += reported;
        if (_reported >= Window)
        {
            // The window's ratio, charged from this answer on.
            _ratio = Math.Clamp((processNow - _processAt) / _reported, 1, MaxRatio);
            _processAt = processNow;
            _reported = TimeSpan.Zero;
        }
        return reported * _ratio;
    }
}
