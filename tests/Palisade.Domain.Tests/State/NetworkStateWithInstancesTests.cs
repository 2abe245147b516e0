using CsCheck;
using Palisade.Domain.Instances;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Domain.Tests.State;

/// <summary>
/// A state made from another by <see cref="NetworkState.WithInstances"/> (joins, leaves, an instance's
/// groups changed), again and again, finds what a state made anew of the same instances finds: each
/// group's members (the same instances in the same order) and each instance by ID. Long enough that the
/// changed groups' members kept beside the index (twenty-first session) outgrow it and the index is built
/// again, and that both happen.
/// </summary>
public sealed class NetworkStateWithInstancesTests
{
    [Fact]
    public void AStateMadeByDifferences_FindsWhatAStateMadeAnewFinds()
    {
        var (beside, rebuilt) = (0, 0);
        Gen.Select(SmallUniverse.State, Gen.Int[0, int.MaxValue]).Sample((state, seed) =>
        {
            var random = new Random(seed);
            var groups = state.Groups.Select(g => g.Id).Concat(state.Instances.SelectMany(i => i.AllSecurityGroupIds)).Distinct().ToList();
            var before = state;
            for (var step = 0; step < 40; step++)
            {
                if (InstanceSteps.Next(state, before, random) is not { } difference)
                    continue;
                var (instances, gone, came) = difference;
                var after = before.WithInstances(instances, gone, came);
                var fresh = new NetworkState(after.RegionId, after.Groups, after.Instances, after.PrefixLists, after.PortRangeLists);
                // A secondary ENI's view is made again by each state: compared by what it is.
                foreach (var group in groups)
                    Assert.Equal(fresh.MembersOf(group).Select(Member), after.MembersOf(group).Select(Member));
                foreach (var instance in state.Instances)
                    Assert.Same(fresh.FindInstance(instance.Id), after.FindInstance(instance.Id));
                if (after.MembersChangedSinceIndex > 0)
                    beside++;
                else if (before.MembersChangedSinceIndex > 0)
                    rebuilt++;
                before = after;
            }
        }, iter: 300);
        static string Member(Instance m) => $"{m.Id} {m.NetworkInterfaceId} {m.IsSecondaryInterface} {string.Join(",", m.PrivateAddresses)} {string.Join(",", m.SecurityGroupIds)}";

        // The property is checked above; these say the sequences exercised both forms.
        Assert.True(beside > 300 && rebuilt > 20, $"{beside} states with members beside the index, {rebuilt} with it built again");
    }
}
