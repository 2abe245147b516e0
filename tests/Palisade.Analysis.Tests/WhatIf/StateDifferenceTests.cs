using System.Collections.Immutable;
using CsCheck;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.WhatIf;

/// <summary>
/// The dry run's impact (<see cref="ImpactAnalysis.Between"/>, which compares only the flows of the
/// instances <see cref="StateDifference.Affected"/> names) against its slow twin that compares every
/// pair, on random states changed by every kind of API change and by edits the what-if's
/// <see cref="Change"/> has no case for: a prefix list's or port-range list's entries, an instance's
/// addresses, an instance gone.
/// </summary>
public sealed class StateDifferenceTests
{
    private static string Show(IEnumerable<FlowDelta> deltas) =>
        string.Join("; ", deltas.Select(d => $"{d.Source}->{d.Target} {d.Protocol.ToWire()} {string.Join(",", d.Ports)}"));

    private static NetworkState With(NetworkState s, IEnumerable<Instance>? instances = null, IEnumerable<PrefixList>? prefixLists = null, IEnumerable<PortRangeList>? portRangeLists = null) =>
        new(s.RegionId, s.Groups, instances ?? s.Instances, prefixLists ?? s.PrefixLists, portRangeLists ?? s.PortRangeLists);

    private static IEnumerable<(string What, NetworkState After)> Afters(NetworkState state, IReadOnlyList<Change> changes, NetworkState other, int pick)
    {
        foreach (var change in changes)
            yield return (change.Describe(), change.ApplyTo(state));
        yield return ("prefix lists' entries", With(state, prefixLists: other.PrefixLists));
        yield return ("port-range list's entries", With(state, portRangeLists: other.PortRangeLists));
        var victim = state.Instances[pick % state.Instances.Length];
        yield return ($"{victim.Id} gone", With(state, instances: state.Instances.Where(i => i.Id != victim.Id)));
        var donor = other.Instances[pick % other.Instances.Length];
        // ECS gives an address to one ENI of an instance (the state file reader refuses a second): the
        // primary's new addresses leave out those of the victim's secondary ENIs.
        var onSecondaries = victim.SecondaryInterfaces.SelectMany(e => e.PrivateAddresses.Concat(e.PublicAddresses)).ToHashSet();
        ImmutableArray<IpAddress> Free(IEnumerable<IpAddress> candidates) => [.. candidates.Where(a => !onSecondaries.Contains(a))];
        var addresses = Free(victim.NetworkType == NetworkType.Classic ? donor.PrivateAddresses.Where(a => !a.IsV6) : donor.PrivateAddresses);
        yield return ($"{victim.Id} readdressed", With(state, instances: state.Instances.Select(i => i.Id == victim.Id ? i with { PrivateAddresses = addresses, PublicAddresses = Free(donor.PublicAddresses) } : i)));
        // An instance takes a neighbour's address: a rule naming the taker's group now matches the neighbour's packets too.
        if (state.Instances.FirstOrDefault(i => i.Id != victim.Id && i.VpcId == victim.VpcId && i.PrivateAddresses.Length > 0) is { } neighbour)
            yield return ($"{victim.Id} takes {neighbour.Id}'s address", With(state, instances: state.Instances.Select(i => i.Id == victim.Id ? i with { PrivateAddresses = Free(neighbour.PrivateAddresses) } : i)));
        yield return ($"{victim.Id} renamed and retagged", With(state, instances: state.Instances.Select(i => i.Id == victim.Id ? i with { Name = "renamed", Tags = [new Domain.Groups.Tag("k", "v")] } : i)));
        if (changes.Count > 0)
            yield return ($"{changes[pick % changes.Count].Describe()} and the prefix lists", With(changes[pick % changes.Count].ApplyTo(state), prefixLists: other.PrefixLists));
    }

    [Fact]
    public void TheImpactOfTheAffectedInstances_IsTheImpactOverEveryPair()
    {
        var gen = from c in ChangeCases.Gen
                  from other in SmallUniverse.State
                  from pick in Gen.Int[0, 1000]
                  select (c.State, c.Changes, other, pick);
        gen.Sample(c =>
        {
            foreach (var (what, after) in Afters(c.State, c.Changes, c.other, c.pick))
            {
                var slow = ImpactAnalysis.BetweenEveryPair(c.State, after);
                var fast = ImpactAnalysis.Between(c.State, after);
                Assert.True(Show(slow.Lost) == Show(fast.Lost), $"{what}: lost {Show(fast.Lost)}, every pair says {Show(slow.Lost)}");
                Assert.True(Show(slow.Gained) == Show(fast.Gained), $"{what}: gained {Show(fast.Gained)}, every pair says {Show(slow.Gained)}");
            }
        }, iter: 300, threads: 1, print: c => SmallUniverse.Describe(c.State) + "\nother:\n" + SmallUniverse.Describe(c.other));
    }

    /// <summary>
    /// The server keeps the matrix of the state before per account revision and reads it for every new
    /// question (issue 19): one matrix read for many afters, in turn, answers as a fresh one each time.
    /// </summary>
    [Fact]
    public void OneMatrixOfTheStateBefore_ReadForEveryQuestion_AnswersAsAFreshOne()
    {
        var gen = from c in ChangeCases.Gen
                  from other in SmallUniverse.State
                  from pick in Gen.Int[0, 1000]
                  select (c.State, c.Changes, other, pick);
        gen.Sample(c =>
        {
            var kept = Palisade.Analysis.Reachability.ReachMatrix.Build(c.State);
            var built = 0;
            Palisade.Analysis.Reachability.ReachMatrix Kept()
            {
                built++;
                return kept;
            }
            foreach (var (what, after) in Afters(c.State, c.Changes, c.other, c.pick))
            {
                var fresh = ImpactAnalysis.Between(c.State, after);
                var reused = ImpactAnalysis.Between(Kept, c.State, after);
                Assert.True(Show(fresh.Lost) == Show(reused.Lost), $"{what}: lost {Show(reused.Lost)} with the kept matrix, {Show(fresh.Lost)} with a fresh one");
                Assert.True(Show(fresh.Gained) == Show(reused.Gained), $"{what}: gained {Show(reused.Gained)} with the kept matrix, {Show(fresh.Gained)} with a fresh one");
            }
            Assert.True(built > 0);
        }, iter: 200, threads: 1, print: c => SmallUniverse.Describe(c.State) + "\nother:\n" + SmallUniverse.Describe(c.other));
    }

    [Fact]
    public void NamesAndTags_AffectNothing_AndARuleChangeAffectsItsGroupsMembersOnly()
    {
        var state = new NetworkState("cn-test",
            [Group("sg-web"), Group("sg-db")],
            [Member("i-web", "10.0.0.1", "sg-web"), Member("i-db", "10.0.0.2", "sg-db")]);
        var renamed = new NetworkState("cn-test", state.Groups.Select(g => g with { Name = "x", Description = "y" }),
            state.Instances.Select(i => i with { Name = "z" }));
        Assert.Empty(StateDifference.Affected(state, renamed));

        var rule = new Domain.Rules.SecurityGroupRule(SecurityGroupRuleId.Parse("sgr-1"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(443),
            Verdict.Accept, Priority.Create(1), NicType.Intranet, new Domain.Rules.RulePeer.CidrBlock(Cidr.Parse("10.0.0.0/8")));
        var authorized = new Change.Authorize(SecurityGroupId.Parse("sg-db"), rule).ApplyTo(state);
        Assert.Equal(["i-db"], StateDifference.Affected(state, authorized).Select(i => i.Value));
    }

    /// <summary>
    /// Neither end of the pair changes, yet its answer does: the rule of the target's group names a
    /// group whose member now holds the source's address.
    /// </summary>
    [Fact]
    public void AMemberTakingAnAddress_AffectsTheGroupsThatNameItsGroup()
    {
        var fromA = new SecurityGroupRule(SecurityGroupRuleId.Parse("sgr-froma"), Direction.Ingress, IpProtocol.Tcp, PortRange.Single(22),
            Verdict.Accept, Priority.Create(1), NicType.Intranet, new RulePeer.Group(SecurityGroupId.Parse("sg-a")));
        var state = new NetworkState("cn-test",
            [Group("sg-a"), Group("sg-b"), Group("sg-v") with { Rules = [fromA] }],
            [Member("i-a", "10.0.0.1", "sg-a"), Member("i-b", "10.0.0.2", "sg-b"), Member("i-v", "10.0.0.3", "sg-v")]);
        var after = new NetworkState("cn-test", state.Groups,
            state.Instances.Select(i => i.Id.Value == "i-a" ? i with { PrivateAddresses = [IpAddress.Parse("10.0.0.2")] } : i));

        Assert.Equal(["i-a", "i-v"], StateDifference.Affected(state, after).Select(i => i.Value).Order());
        var (gained, _) = ImpactAnalysis.Between(state, after);
        Assert.Contains("i-b->i-v TCP 22", Show(gained));
        Assert.Equal(Show(ImpactAnalysis.BetweenEveryPair(state, after).Gained), Show(gained));
    }

    private static Domain.Groups.SecurityGroup Group(string id) =>
        new(SecurityGroupId.Parse(id), id, "", Domain.Groups.SecurityGroupType.Normal, VpcId.Parse("vpc-a"), Domain.Groups.InnerAccessPolicy.Accept, [], []);

    private static Instance Member(string id, string address, string group) =>
        new(InstanceId.Parse(id), id, NetworkType.Vpc, VpcId.Parse("vpc-a"), null, [IpAddress.Parse(address)], [], [SecurityGroupId.Parse(group)]);
}
