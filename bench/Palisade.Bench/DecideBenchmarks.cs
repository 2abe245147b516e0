using BenchmarkDotNet.Attributes;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Bench;

/// <summary>
/// One NIC's ingress decision, compiled engine against the reference evaluator. Each invocation
/// decides the whole batch of <see cref="BenchUniverse.FlowCount"/> flows, so the reported times
/// are per decision (<c>OperationsPerInvoke</c>) and the Ratio column is engine / reference.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DecideBenchmarks
{
    private NetworkState _state = null!;
    private Instance _nic = null!;
    private Flow[] _flows = [];
    private NicPolicy _policy = null!;

    /// <summary>Rules in all, over the NIC's five groups, both directions.</summary>
    [Params(10, 100, 1000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var universe = BenchUniverse.Create(Rules);
        _state = universe.State;
        _nic = universe.Nic;
        _flows = universe.Flows;
        _policy = NicPolicy.Compile(_state, _nic);
    }

    [Benchmark(OperationsPerInvoke = BenchUniverse.FlowCount)]
    public int Engine()
    {
        var policy = _policy;
        var checksum = 0;
        foreach (ref readonly var flow in _flows.AsSpan())
        {
            var decision = policy.Decide(Direction.Ingress, flow);
            checksum += (int)decision.Verdict + decision.Beaten.Length;
        }
        return checksum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchUniverse.FlowCount)]
    public int Reference()
    {
        var checksum = 0;
        foreach (var flow in _flows)
        {
            var decision = ReferenceEvaluator.Decide(_state, _nic, NicType.Intranet, Direction.Ingress, flow);
            checksum += (int)decision.Verdict + decision.Beaten.Length;
        }
        return checksum;
    }
}
