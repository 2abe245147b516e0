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
}
