using System.Collections.Immutable;
using CsCheck;
using Palisade.Domain.Identifiers;
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

        // The property is checked above; these say the sequences exercised both forms.
        Assert.True(beside > 300 && rebuilt > 20, $"{beside} states with members beside the index, {rebuilt} with it built again");
    }

    /// <summary>
    /// Differences of several instances at once, of every kind the members' splice (twenty-second
    /// session) could get wrong, again and again: leaves and joins at random places (a group's members
    /// in state order after many), an instance naming a group twice, a secondary ENI in a group (with
    /// its instance's primary ENI or without), groups emptied and filled again; and an instance gone
    /// and come as the same object, which the splice cannot place (every instance is walked then). Each
    /// state finds each group's members and each instance as a state made anew of its instances finds them.
    /// </summary>
    [Fact]
    public void AStateMadeByDifferencesOfSeveralInstances_FindsWhatAStateMadeAnewFinds()
    {
        var (twice, secondary, refilled, itself, several) = (0, 0, 0, 0, 0);
        Gen.Select(SmallUniverse.State, Gen.Int[0, int.MaxValue]).Sample((state, seed) =>
        {
            var random = new Random(seed);
            var groups = state.Groups.Select(g => g.Id).ToList();
            var emptied = new HashSet<SecurityGroupId>();
            var before = state;
            for (var step = 0; step < 30; step++)
            {
                var (instances, gone, came) = Difference(state, before, random);
                var after = before.WithInstances([.. instances], gone, came);
                var fresh = new NetworkState(after.RegionId, after.Groups, after.Instances, after.PrefixLists, after.PortRangeLists);
                foreach (var group in groups)
                {
                    Assert.Equal(fresh.MembersOf(group).Select(Member), after.MembersOf(group).Select(Member));
                    if (after.MembersOf(group).IsEmpty)
                        emptied.Add(group);
                    else if (emptied.Remove(group))
                        refilled++;
                }
                foreach (var instance in state.Instances)
                    Assert.Same(fresh.FindInstance(instance.Id), after.FindInstance(instance.Id));
                twice += came.Count(i => i.SecurityGroupIds.Distinct().Count() < i.SecurityGroupIds.Length);
                secondary += came.Count(i => i.SecondaryInterfaces.Any(e => e.SecurityGroupIds.Length > 0));
                itself += came.Count(gone.Contains);
                several += gone.Count + came.Count > 2 ? 1 : 0;
                before = after;
            }
        }, iter: 300);

        // The property is checked above; these say the differences exercised each kind.
        Assert.True(twice > 100 && secondary > 100 && refilled > 50 && itself > 100 && several > 300,
            $"{twice} instances naming a group twice, {secondary} with a secondary ENI in a group, {refilled} groups filled again, {itself} instances gone and come as themselves, {several} differences of more than two");
    }

    /// <summary>
    /// The state's instances in chunks (twenty-fifth session: the agent's read of a join): the same differences
    /// as above, again and again, each made as the reader makes it — the state before's chunks with the one
    /// stretch that holds every change spliced in (<see cref="ChunkedList{T, TSelf}.Spliced"/>) — give a state
    /// that finds what the array's twin finds (each group's members, each instance by ID) and lists the same
    /// instances; chunks of 1–3 instances, so that a stretch spans several, is cut, put and spliced again; and
    /// every state of the run still lists its own instances afterwards (nothing changed in place).
    /// </summary>
    [Fact]
    public void AStateMadeByDifferencesInChunks_FindsWhatTheArraysTwinFinds()
    {
        var (shared, walked) = (0, 0);
        Gen.Select(SmallUniverse.State, Gen.Int[0, int.MaxValue], Gen.Int[1, 3]).Sample((state, seed, length) =>
        {
            var random = new Random(seed);
            var groups = state.Groups.Select(g => g.Id).ToList();
            var (twin, chunked) = (state, state.WithInstances(InstanceChunks.Of(state.Instances, length), [], []));
            var seen = new List<(NetworkState State, Instance[] Instances)> { (chunked, [.. state.Instances]) };
            for (var step = 0; step < 30; step++)
            {
                var (instances, gone, came) = Difference(state, twin, random);
                var before = chunked.InstanceList;
                var (start, end) = (0, 0);
                while (start < Math.Min(before.Count, instances.Count) && ReferenceEquals(before[start], instances[start]))
                    start++;
                while (end < Math.Min(before.Count, instances.Count) - start && ReferenceEquals(before[before.Count - 1 - end], instances[instances.Count - 1 - end]))
                    end++;
                var list = before.Spliced(start, before.Count - start - end, instances.Skip(start).Take(instances.Count - start - end).ToArray());
                (twin, chunked) = (twin.WithInstances([.. instances], gone, came), chunked.WithInstances(list, gone, came));
                Assert.Equal(instances, chunked.Instances);
                foreach (var group in groups)
                    Assert.Equal(twin.MembersOf(group).Select(Member), chunked.MembersOf(group).Select(Member));
                foreach (var instance in state.Instances)
                    Assert.Same(twin.FindInstance(instance.Id), chunked.FindInstance(instance.Id));
                shared += InstanceChunks.Common(before, list).Start > 0 ? 1 : 0;
                walked += before.ChunkCount > 2 && list.ChunkCount > 2 ? 1 : 0;
                seen.Add((chunked, [.. instances]));
            }
            foreach (var (held, own) in seen)
                Assert.Equal(own, held.InstanceList);
        }, iter: 300);

        // The property is checked above; these say the runs shared chunks and had several.
        Assert.True(shared > 1500 && walked > 400, $"{shared} lists sharing their first chunks with the list before, {walked} of more than two chunks");
    }

    /// <summary>A member compared by what it is: a secondary ENI's view is made again by each state.</summary>
    private static string Member(Instance m) => $"{m.Id} {m.NetworkInterfaceId} {m.IsSecondaryInterface} {string.Join(",", m.PrivateAddresses)} {string.Join(",", m.SecurityGroupIds)}";

    /// <summary>
    /// One to three instances of <paramref name="before"/> changed (left; a group named twice, added or
    /// dropped; a secondary ENI's groups changed; replaced by itself) and up to two of
    /// <paramref name="first"/>'s instances not in it joined at random places.
    /// </summary>
    private static (List<Instance> Instances, List<Instance> Gone, List<Instance> Came) Difference(NetworkState first, NetworkState before, Random random)
    {
        var instances = before.Instances.ToList();
        var (gone, came) = (new List<Instance>(), new List<Instance>());
        var groups = first.Groups;
        foreach (var k in Enumerable.Range(0, instances.Count).OrderBy(_ => random.Next()).Take(random.Next(1, 4)).OrderByDescending(k => k))
        {
            var instance = instances[k];
            var group = groups[random.Next(groups.Length)].Id;
            Instance? changed = random.Next(6) switch
            {
                0 => null, // a leave
                1 => instance, // replaced by itself
                2 => instance with { SecurityGroupIds = instance.SecurityGroupIds.Add(instance.SecurityGroupIds.Length > 0 ? instance.SecurityGroupIds[random.Next(instance.SecurityGroupIds.Length)] : group) },
                3 => instance with { SecurityGroupIds = instance.SecurityGroupIds.Length > 1 ? instance.SecurityGroupIds.RemoveAt(0) : instance.SecurityGroupIds.Add(group) },
                4 when instance.SecondaryInterfaces.Length > 0 => instance with { SecondaryInterfaces = EniChanged(instance.SecondaryInterfaces, group, random) },
                _ => instance with { SecurityGroupIds = [.. instance.SecurityGroupIds.Reverse()] },
            };
            gone.Add(instance);
            if (changed is null)
                instances.RemoveAt(k);
            else
                came.Add(instances[k] = changed);
        }
        foreach (var joining in first.Instances.Where(i => before.FindInstance(i.Id) is null).OrderBy(_ => random.Next()).Take(random.Next(3)))
        {
            instances.Insert(random.Next(instances.Count + 1), joining);
            came.Add(joining);
        }
        return (instances, gone, came);

        static ImmutableArray<NetworkInterface> EniChanged(ImmutableArray<NetworkInterface> enis, SecurityGroupId group, Random random)
        {
            var k = random.Next(enis.Length);
            var ids = enis[k].SecurityGroupIds;
            return enis.SetItem(k, enis[k] with { SecurityGroupIds = ids.Contains(group) ? ids.Remove(group) : ids.Add(group) });
        }
    }
}
