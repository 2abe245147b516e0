using System.Text;
using CsCheck;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Engine.Tests.Policies;

/// <summary>
/// STYLE.md rule 6: the compiled engine and the slow reference agree on every decision — verdict,
/// reason, deciding rule or group, and the rules it beat — over small universes where rules collide.
/// </summary>
public sealed class EngineAgreesWithReferenceTests
{
    /// <summary>At least 10,000 generated universes per run (issue: "at least 10,000 generated cases").</summary>
    private const int Cases = 10_000;

    [Fact]
    public void Decide_AnyUniverseAnyFlow_MatchesReference()
    {
        var gen = Gen.Select(SmallUniverse.State, SmallUniverse.Flow.Array[1, 6]);
        gen.Sample((state, flows) =>
        {
            foreach (var instance in state.Instances.SelectMany(i => i.Interfaces))
            {
                foreach (var nic in new[] { NicType.Intranet, NicType.Internet })
                {
                    var policy = NicPolicy.Compile(state, instance, nic);
                    foreach (var flow in flows.Concat(FlowsTouching(instance, flows[0])))
                    {
                        foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                        {
                            var fast = policy.Decide(direction, flow);
                            var slow = ReferenceEvaluator.Decide(state, instance, nic, direction, flow);
                            if (!Same(fast, slow))
                            {
                                throw new Xunit.Sdk.XunitException(
                                    $"{instance.Id} {nic} {direction} {flow}\nengine:    {Describe(fast)}\nreference: {Describe(slow)}\n{SmallUniverse.Describe(state)}");
                            }
                        }
                    }
                }
            }
        }, iter: Cases, threads: 1, print: t => SmallUniverse.Describe(t.Item1));
    }

    /// <summary>
    /// A path between two instances is decided by the ENI that owns each end's address: the
    /// evaluator (which finds the ENI through <c>Instance.InterfaceOf</c>) and the reference (which
    /// finds it itself) agree on every flow between every pair of addresses of generated instances
    /// that have secondary ENIs in other groups.
    /// </summary>
    [Fact]
    public void Evaluate_FlowsBetweenEveryEniAddress_MatchReference()
    {
        var gen = Gen.Select(SmallUniverse.State, SmallUniverse.Flow);
        var multiEni = 0;
        gen.Sample((state, template) =>
        {
            var evaluator = new FlowEvaluator(state);
            if (state.Instances.Any(i => i.SecondaryInterfaces.Length > 0))
                multiEni++;
            foreach (var source in state.Instances)
            {
                foreach (var destination in state.Instances)
                {
                    foreach (var from in source.AllPrivateAddresses)
                    {
                        foreach (var to in destination.AllPrivateAddresses.Concat(destination.AllPublicAddresses))
                        {
                            var flow = template with { Source = from, Destination = to };
                            foreach (var nic in new[] { NicType.Intranet, NicType.Internet })
                            {
                                var fast = evaluator.Evaluate(flow, source, destination, nic);
                                var slow = ReferenceEvaluator.Evaluate(state, flow, source, destination, nic);
                                if (!Same(fast.Egress!.Value, slow.Egress!.Value) || !Same(fast.Ingress!.Value, slow.Ingress!.Value) || fast.Allowed != slow.Allowed)
                                {
                                    throw new Xunit.Sdk.XunitException(
                                        $"{source.Id} -> {destination.Id} {nic} {flow}\nengine:    {Describe(fast.Egress!.Value)} / {Describe(fast.Ingress!.Value)}\nreference: {Describe(slow.Egress!.Value)} / {Describe(slow.Ingress!.Value)}\n{SmallUniverse.Describe(state)}");
                                }
                            }
                        }
                    }
                }
            }
        }, iter: 2_000, threads: 1, print: t => SmallUniverse.Describe(t.Item1));
        // The generator must really produce instances with secondary ENIs, or this proves nothing about them.
        Assert.True(multiEni > 200, $"only {multiEni} of 2,000 universes had a secondary ENI");
    }

    // Flows to and from the instance's own addresses, so that local-address (quintuple) rules and
    // inner access are exercised, not only random pairs.
    private static IEnumerable<Flow> FlowsTouching(Domain.Instances.Instance instance, Flow template)
    {
        foreach (var own in instance.PrivateAddresses.Concat(instance.PublicAddresses))
        {
            yield return template with { Destination = own };
            yield return template with { Source = own };
        }
    }

    private static bool Same(Decision a, Decision b) =>
        a.Verdict == b.Verdict
        && a.Reason == b.Reason
        && a.InnerAccessGroup == b.InnerAccessGroup
        && Equals(a.DecidingRule, b.DecidingRule)
        && a.Beaten.SequenceEqual(b.Beaten);

    private static string Describe(Decision d)
    {
        var sb = new StringBuilder(d.ToString());
        sb.Append(" beaten=[").AppendJoin(", ", d.Beaten.Select(r => r.Rule.Id)).Append(']');
        return sb.ToString();
    }
}
