using BenchmarkDotNet.Attributes;
using Palisade.Domain.Instances;
using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Bench;

/// <summary>Compiling one NIC's policy from the state: time and allocations.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class CompileBenchmarks
{
    private NetworkState _state = null!;
    private Instance _nic = null!;

    /// <summary>Rules in all, over the NIC's five groups, both directions.</summary>
    [Params(10, 100, 1000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var universe = BenchUniverse.Create(Rules);
        _state = universe.State;
        _nic = universe.Nic;
    }

    [Benchmark]
    public NicPolicy Compile() => NicPolicy.Compile(_state, _nic);
}
