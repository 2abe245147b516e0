namespace Palisade.TestKit;

/// <summary>How every test project's server is sized unless its test says otherwise.</summary>
public static class TestNode
{
    /// <summary>
    /// The cores a test's server is given (<c>Throttling.NodeCores</c>): what follows from the node's
    /// cores (the analysis budget's default, the analysis workers) must not follow the machine the suite
    /// runs on, and a 2-core CI machine's budget would refuse the quick runs of questions of tests that
    /// are not about the budget.
    /// </summary>
    public const int Cores = 8;

    /// <summary>
    /// The analysis budget a <c>palisade serve</c> child is started with (<c>--analysis-rate</c>), as
    /// the in-process servers' <see cref="Cores"/> give theirs: the server's share of a core
    /// (<c>Throttling.AnalysisShareOfNode</c>, which this kit cannot see; a Server test holds them equal)
    /// times <see cref="Cores"/>. Left to the machine, a 2-core CI machine's 0.1 CPU-s/s refused a
    /// system test's second rule suggestion after a cold first one.
    /// </summary>
    public const double ProcessAnalysisRate = 0.05 * Cores;
}
