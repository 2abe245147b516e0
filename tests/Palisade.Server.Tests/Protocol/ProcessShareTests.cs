using CsCheck;
using Palisade.Server.Protocol;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Issue 19: a question answered by the analysis process was charged its comparing thread's CPU,
/// while the process's collector and other threads (about as much again, measured) were charged to
/// nobody. <see cref="ProcessShare"/> scales each answer to the whole process's recent ratio.
/// </summary>
public sealed class ProcessShareTests
{
    /// <summary>
    /// Whatever the process spends per second of reported work (here a constant ratio between 1 and
    /// the bound), from the end of the first window on each answer is charged exactly that share, so
    /// the questions pay for the whole process; before it, their thread's CPU; never less.
    /// </summary>
    [Fact]
    public void EachAnswer_IsChargedTheWholeProcessesShare_FromTheFirstWindowOn_AndNeverLessThanItsThread()
    {
        Gen.Select(Gen.Double[1, ProcessShare.MaxRatio], Gen.Int[1, 30].Array[20, 120], Gen.Int[0, 5000]).Sample((ratio, costs, started) =>
        {
            var process = TimeSpan.FromMilliseconds(started);
            var share = new ProcessShare(process);
            var reportedSoFar = TimeSpan.Zero;
            var windowEnded = false;
            foreach (var ms in costs)
            {
                var reported = TimeSpan.FromMilliseconds(ms);
                process += reported * ratio;
                reportedSoFar += reported;
                var charged = share.Charge(reported, process);
                // The slow twin: the first window ends at the answer that brings the reported CPU to the window.
                windowEnded |= reportedSoFar >= ProcessShare.Window;
                var expected = windowEnded ? reported * ratio : reported;
                Assert.InRange(charged.TotalMilliseconds, expected.TotalMilliseconds - 1e-3, expected.TotalMilliseconds + 1e-3);
                Assert.True(charged >= reported);
            }
        });
    }

    /// <summary>A window that holds the process's start (its runtime, its first compilation) is charged at most the bound; a process cheaper than its reports (noise) the thread's own.</summary>
    [Fact]
    public void TheRatio_IsBoundedAbove_AndNeverBelowOne()
    {
        var share = new ProcessShare(TimeSpan.Zero);
        // A first window in which the process spent 2 s for 50 ms reported (its start)
        Assert.Equal(TimeSpan.FromMilliseconds(50 * ProcessShare.MaxRatio), share.Charge(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2)));
        // then one where the process's reading lagged the reports
        Assert.Equal(TimeSpan.FromMilliseconds(60), share.Charge(TimeSpan.FromMilliseconds(60), TimeSpan.FromSeconds(2.01)));
        Assert.Equal(1, share.Ratio);
    }
}
