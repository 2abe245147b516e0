using CsCheck;
using Palisade.Analysis.Audit;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Audit;

/// <summary>
/// Whether a rule decides and changes anything, judged with one peer per peer class of the NIC's
/// direction (what the audit does) against one peer per piece of the rule's peers cut at every
/// boundary (the slow twin): on random states with secondary ENIs, several private addresses, prefix
/// lists and inner access, every rule of every ENI's policy, both directions, the same verdicts with
/// the same blockers, fallbacks and inner-access groups in the same order.
/// </summary>
public sealed class RuleUsefulnessTests
{
    [Fact]
    public void JudgingOnePeerPerClass_GivesTheVerdictsOfEveryPiece()
    {
        static string Show(RuleUsefulness.Verdicts v) =>
            $"decides={v.Decides} changes={v.ChangesSomething} checked={v.Checked} blockers={string.Join(",", v.Blockers.Select(b => b.Rule.Id))} " +
            $"fallbacks={string.Join(",", v.Fallbacks.Select(b => b.Rule.Id))} inner={string.Join(",", v.InnerAccess ?? [])}";
        SmallUniverse.State.Sample(state =>
        {
            foreach (var nic in state.Instances.SelectMany(i => i.Interfaces).Where(i => i.SecurityGroupIds.Length > 0))
            {
                foreach (var nicType in nic.NetworkType == NetworkType.Classic ? new[] { NicType.Intranet, NicType.Internet } : [NicType.Intranet])
                {
                    var policy = NicPolicy.Compile(state, nic, nicType);
                    foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                    {
                        var boundaries = RuleUsefulness.Boundaries.Of(state, nic, policy, direction);
                        foreach (var rule in policy.RulesInOrder(direction).ToArray())
                        {
                            Assert.True(
                                Show(RuleUsefulness.Of(state, nic, policy, direction, rule, boundaries)) == Show(RuleUsefulness.Of(state, nic, policy, direction, rule, boundaries, byClass: true)),
                                $"{rule.Rule.Id} of {rule.GroupId} on {nic.InterfaceLabel} ({direction}): every piece {Show(RuleUsefulness.Of(state, nic, policy, direction, rule, boundaries))}, " +
                                $"by class {Show(RuleUsefulness.Of(state, nic, policy, direction, rule, boundaries, byClass: true))}");
                        }
                    }
                }
            }
        }, iter: 300, threads: 1, print: SmallUniverse.Describe);
    }
}
