using CsCheck;
using Palisade.Agent.Rendering;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// STYLE.md rule 6 for enforcement: on random small universes with every instance bound to one
/// host, the rendered ruleset, read rule by rule (<see cref="RulesetSimulator"/>), lets exactly the
/// new connections through that the engine accepts: the source NIC's egress and the destination
/// NIC's ingress; nothing between two addresses of no NIC here.
/// </summary>
public sealed class RulesetAgreesWithEngineTests
{
    [Fact]
    public void RenderedRuleset_DecidesEveryFlowAsTheEngine()
    {
        Gen.Select(SmallUniverse.State, SmallUniverse.Flow.Array[4, 10]).Sample((state, flows) =>
        {
            var bindings = state.Instances.Select((i, n) => new HostBinding(i.Id, $"vh{n}")).ToList();
            var ruleset = PolicyRenderer.Render(state, bindings, 1);
            AssertKernelWouldTakeIt(ruleset);
            var simulator = new RulesetSimulator(ruleset);
            var engine = new FlowEvaluator(state);
            var touching = ruleset.Nics.SelectMany(n => n.Addresses).SelectMany(a => flows.SelectMany(f => new[] { f with { Source = a }, f with { Destination = a } }));
            foreach (var flow in flows.Concat(touching).Where(f => f.Source.IsV6 == f.Destination.IsV6))
            {
                var source = simulator.NicAt(flow.Source);
                var destination = simulator.NicAt(flow.Destination);
                var expected = (source, destination) switch
                {
                    (null, null) => false, // closed: no NIC of this host is in the flow
                    _ => (source is null || engine.PolicyOf(state.FindInstance(source.InstanceId)!, NicType.Intranet).Decide(Direction.Egress, flow).Verdict == Verdict.Accept)
                        && (destination is null || engine.PolicyOf(state.FindInstance(destination.InstanceId)!, NicType.Intranet).Decide(Direction.Ingress, flow).Verdict == Verdict.Accept),
                };
                if (simulator.Allows(flow) != expected)
                {
                    throw new Xunit.Sdk.XunitException($"{flow}: ruleset {(expected ? "drops" : "accepts")} what the engine {(expected ? "accepts" : "drops")}\n"
                        + NftText.FullApply(ruleset) + "\n" + SmallUniverse.Describe(state));
                }
            }
        }, iter: 3_000, threads: 1, print: t => SmallUniverse.Describe(t.Item1));
    }

    /// <summary>The kernel refuses a concatenated interval set with overlapping elements ("File exists").</summary>
    private static void AssertKernelWouldTakeIt(HostRuleset ruleset)
    {
        foreach (var run in ruleset.Nics.SelectMany(n => n.Ingress.Rules.Concat(n.Egress.Rules)).OfType<NftRunSet>())
        {
            for (var i = 0; i < run.Elements.Length; i++)
            {
                for (var j = i + 1; j < run.Elements.Length; j++)
                {
                    var (a, b) = (run.Elements[i], run.Elements[j]);
                    var overlap = (a.Peer.Covers(b.Peer) || b.Peer.Covers(a.Peer))
                        && (run.Kind == RunSetKind.Peer || a.Protocol == b.Protocol)
                        && (run.Kind != RunSetKind.PeerProtocolPort || (a.PortLow <= b.PortHigh && b.PortLow <= a.PortHigh));
                    if (overlap)
                        throw new Xunit.Sdk.XunitException($"{run.SetName}: {a} overlaps {b}");
                }
            }
        }
    }
}
