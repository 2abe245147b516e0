using CsCheck;
using Palisade.Agent.Rendering;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// A group's member set is made once per members array, network and family and found again while
/// that array lives (issue 17, eighteenth session): a state made from another with its groups
/// changed (<see cref="NetworkState.WithGroups"/>, a rule change's) shares the members arrays, so
/// its NICs' member sets are found made. On random small universes (several networks, both families),
/// the ruleset rendered from such a state — its groups as they were, or with their rules cut — is
/// the ruleset rendered from a fresh state of the same groups and instances, whose sets are all made
/// anew (the slow twin: nothing found).
/// </summary>
public sealed class MemberSetsTests
{
    [Fact]
    public void MemberSetsFoundMade_AreTheSetsMadeAnew()
    {
        SmallUniverse.State.Sample(state =>
        {
            var bindings = state.Instances.Select((i, n) => new HostBinding(i.Id, $"vh{n}")).ToList();
            var first = NftText.FullApply(PolicyRenderer.Render(state, bindings, 1));
            foreach (var after in new[] { state.WithGroups(state.Groups), state.WithGroups(state.Groups.Select(g => g with { Rules = [.. g.Rules.Where((_, i) => i % 2 == 0)] })) })
            {
                var fresh = new NetworkState(after.RegionId, after.Groups, after.Instances, after.PrefixLists, after.PortRangeLists);
                Assert.Equal(NftText.FullApply(PolicyRenderer.Render(fresh, bindings, 1)), NftText.FullApply(PolicyRenderer.Render(after, bindings, 1)));
            }
            Assert.Equal(first, NftText.FullApply(PolicyRenderer.Render(state.WithGroups(state.Groups), bindings, 1)));
        }, iter: 300);
    }

    /// <summary>
    /// The same for a state made from another with instances come, gone or replaced (nineteenth session:
    /// <see cref="NetworkState.WithInstances"/>, a join's, a leave's): the groups whose members changed
    /// get new members arrays, the others keep theirs and their sets are found made. Each state after is
    /// rendered once the state before was (its sets made), against a fresh state of the same instances.
    /// </summary>
    [Fact]
    public void MemberSetsFoundMade_AfterAJoinOrLeave_AreTheSetsMadeAnew()
    {
        Gen.Select(SmallUniverse.State, Gen.Int[0, int.MaxValue]).Sample((state, seed) =>
        {
            var random = new Random(seed);
            var bindings = state.Instances.Select((i, n) => new HostBinding(i.Id, $"vh{n}")).ToList();
            var before = state;
            for (var step = 0; step < 4 && before.Instances.Length > 0; step++)
            {
                PolicyRenderer.Render(before, bindings, 1);
                if (InstanceSteps.Next(state, before, random) is not { } difference)
                    continue;
                var (instances, gone, came) = difference;
                var after = before.WithInstances(instances, gone, came);
                var fresh = new NetworkState(after.RegionId, after.Groups, after.Instances, after.PrefixLists, after.PortRangeLists);
                Assert.Equal(NftText.FullApply(PolicyRenderer.Render(fresh, bindings, 1)), NftText.FullApply(PolicyRenderer.Render(after, bindings, 1)));
                before = after;
            }
        }, iter: 200);
    }
}
