using System.Collections.Immutable;
using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.WhatIf;

/// <summary>
/// A prefix-list edit as a <see cref="Change"/> on the matrix of the state before
/// (<see cref="ImpactAnalysis.Of(ReachMatrix, Change)"/>: the rules naming the list patched where its
/// entries changed) against its slow twin, the two whole matrices of the states before and after
/// (<see cref="ImpactAnalysis.BetweenTwoMatrices"/>), on random states with secondary ENIs, several
/// private addresses, public addresses and EIPs, and both lists: random entry edits, the list
/// emptied, public blocks added, both lists set at once.
/// </summary>
public sealed class PrefixListEditTests
{
    /// <summary>Blocks an edit may add: private ones, public ones, the whole internet, single addresses the universe's instances hold.</summary>
    public static readonly ImmutableArray<Cidr> V4Blocks = [.. new[]
    {
        "0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.0/30", "10.0.0.4/31", "10.0.0.1/32", "10.0.1.0/24",
        "192.168.0.0/16", "8.8.8.0/24", "8.8.8.8/32", "255.255.255.255/32", "0.0.0.0/32", "128.0.0.0/1",
    }.Select(Cidr.Parse)];

    public static readonly ImmutableArray<Cidr> V6Blocks = [.. new[] { "::/0", "2001:db8::/32", "2001:db8::/64", "2001:db8::1/128", "2001:db8:1::/48", "::/128" }.Select(Cidr.Parse)];

    private static string Show(IEnumerable<FlowDelta> deltas) =>
        string.Join("; ", deltas.Select(d => $"{d.Source}->{d.Target} {d.Protocol.ToWire()} {string.Join(",", d.Ports)}"));

    private static ImmutableArray<Cidr> Pick(ImmutableArray<Cidr> blocks, int mask) => [.. blocks.Where((_, k) => (mask >> k & 1) != 0)];

    /// <summary>Edits of the state's two lists, drawn from <paramref name="masks"/>.</summary>
    public static IReadOnlyList<Change.PrefixListEdit> Edits(NetworkState state, int[] masks)
    {
        var edits = new List<Change.PrefixListEdit>();
        var (four, six) = (state.FindPrefixList(SmallUniverse.PrefixV4)!, state.FindPrefixList(SmallUniverse.PrefixV6)!);
        Change.PrefixListEdit Modify(PrefixList list, ImmutableArray<Cidr> blocks, int addMask, int removeMask)
        {
            var removed = list.Entries.Distinct().Where((_, k) => (removeMask >> k & 1) != 0).ToImmutableArray();
            var kept = list.Entries.Where(e => !removed.Contains(e)).ToHashSet();
            return new Change.ModifyPrefixList(list.Id, [.. Pick(blocks, addMask).Where(b => !kept.Contains(b))], removed);
        }
        edits.Add(Modify(four, V4Blocks, masks[0], masks[1]));
        // Emptied, and public blocks added.
        edits.Add(new Change.ModifyPrefixList(four.Id, [], [.. four.Entries.Distinct()]));
        edits.Add(new Change.ModifyPrefixList(four.Id, [.. new[] { "0.0.0.0/0", "8.8.8.0/24" }.Select(Cidr.Parse).Where((b, k) => (masks[2] >> k & 1) != 0 && !four.Entries.Contains(b))], []));
        edits.Add(Modify(six, V6Blocks, masks[3], masks[4]));
        edits.Add(new Change.SetPrefixListEntries([four with { Entries = Pick(V4Blocks, masks[5]) }, six with { Entries = Pick(V6Blocks, masks[6]) }]));
        return edits;
    }

    /// <summary>
    /// Random small states made to lean on the lists: about half the rules of VPC groups that name a
    /// block name the list of its family instead, and two secondary ENIs in three join a group whose
    /// rules name a list, half of them leaving their groups for one the primary ENI is not in (so that
    /// a member by its secondary ENI alone is common); then edits.
    /// </summary>
    public static readonly Gen<(NetworkState State, int[] Masks)> Cases =
        from state in SmallUniverse.State
        from seed in Gen.Int
        from masks in Gen.Int[0, (1 << 13) - 1].Array[7]
        select (LeaningOnLists(state, seed), masks);

    private static NetworkState LeaningOnLists(NetworkState state, int seed)
    {
        var random = new Random(seed);
        var groups = state.Groups.Select(g => g.VpcId is null ? g : g with
        {
            Rules = [.. g.Rules.Select(r => r.Peer is RulePeer.CidrBlock block && random.Next(2) == 0
                ? r with { Peer = new RulePeer.PrefixList(block.Cidr.IsV6 ? SmallUniverse.PrefixV6 : SmallUniverse.PrefixV4) }
                : r)],
        }).ToList();
        var naming = groups.Where(g => g.Rules.Any(r => r.Peer is RulePeer.PrefixList)).ToList();
        var instances = state.Instances.Select(i => i with
        {
            SecondaryInterfaces = [.. i.SecondaryInterfaces.Select(e =>
            {
                var home = groups.First(g => g.Id == i.SecurityGroupIds[0]);
                // Rather a group the primary ENI is not in: then the instance is a member by this ENI alone.
                var join = naming.Where(g => g.VpcId == i.VpcId && g.IsEnterprise == home.IsEnterprise && !e.SecurityGroupIds.Contains(g.Id))
                    .OrderBy(g => i.SecurityGroupIds.Contains(g.Id)).ToList();
                return join.Count == 0 || random.Next(3) == 0 ? e
                    : random.Next(2) == 0 || e.SecurityGroupIds.Length >= Instance.MaxSecurityGroups ? e with { SecurityGroupIds = [join[0].Id] }
                    : e with { SecurityGroupIds = e.SecurityGroupIds.Add(join[random.Next(join.Count)].Id) };
            })],
        });
        return new NetworkState(state.RegionId, groups, instances, state.PrefixLists, state.PortRangeLists);
    }

    [Fact]
    public void APrefixListEdit_OnTheMatrix_IsTheImpactOfTheTwoMatrices()
    {
        Cases.Sample(c =>
        {
            var (state, masks) = c;
            foreach (var v6 in new[] { false, true })
            {
                var matrix = ReachMatrix.Build(state, v6);
                foreach (var edit in Edits(state, masks))
                {
                    var fast = ImpactAnalysis.Of(matrix, edit);
                    var slow = ImpactAnalysis.BetweenTwoMatrices(state, edit.ApplyTo(state), v6);
                    Assert.True(Show(slow.Lost) == Show(fast.Lost), $"{edit.Describe()} (IPv{(v6 ? 6 : 4)}): lost {Show(fast.Lost)}, two matrices say {Show(slow.Lost)}");
                    Assert.True(Show(slow.Gained) == Show(fast.Gained), $"{edit.Describe()} (IPv{(v6 ? 6 : 4)}): gained {Show(fast.Gained)}, two matrices say {Show(slow.Gained)}");
                }
            }
        }, iter: 300, threads: 1, print: c => SmallUniverse.Describe(c.State) + "\nmasks " + string.Join(",", c.Masks));
    }

    /// <summary>The dry run's path: two states that differ only in list entries are compared on one matrix, with the answer of the two.</summary>
    [Fact]
    public void TwoStatesDifferingInListEntriesOnly_AreComparedOnOneMatrix_WithTheAnswerOfTwo()
    {
        Cases.Sample(c =>
        {
            var (state, masks) = c;
            foreach (var edit in Edits(state, masks))
            {
                var after = edit.ApplyTo(state);
                var differing = StateDifference.PrefixListEntriesOnly(state, after);
                Assert.Equal(edit.Lists.Where(id => !state.FindPrefixList(id)!.Entries.SequenceEqual(after.FindPrefixList(id)!.Entries)).Order(),
                    (differing ?? []).Select(l => l.Id).Order());
                var fast = ImpactAnalysis.Between(state, after);
                var slow = ImpactAnalysis.BetweenTwoMatrices(state, after);
                Assert.Equal(Show(slow.Lost), Show(fast.Lost));
                Assert.Equal(Show(slow.Gained), Show(fast.Gained));
            }
        }, iter: 100, threads: 1, print: c => SmallUniverse.Describe(c.State) + "\nmasks " + string.Join(",", c.Masks));
    }

    [Fact]
    public void AStateThatDiffersInMoreThanListEntries_IsNotAListEdit()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups": [
               {"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
                 {"SecurityGroupRuleId": "sgr-pg", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourcePrefixListId": "pl-app"}]}}],
             "Instances": [
               {"InstanceId": "i-db", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.20"]}}, "EipAddress": {"IpAddress": "47.1.1.1"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}},
               {"InstanceId": "i-app", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}],
             "PrefixLists": [{"PrefixListId": "pl-app", "AddressFamily": "IPv4", "Entries": {"Entry": [{"Cidr": "10.0.1.0/24"}]}}]}
            """);
        var edit = new Change.ModifyPrefixList(PrefixListId.Parse("pl-app"), [Cidr.Parse("0.0.0.0/0")], [Cidr.Parse("10.0.1.0/24")]);
        var after = edit.ApplyTo(state);
        Assert.Equal(["pl-app"], StateDifference.PrefixListEntriesOnly(state, after)!.Select(l => l.Id.Value));
        // The internet reaches the database through its EIP once the list holds 0.0.0.0/0.
        var (gained, _) = ImpactAnalysis.Between(state, after);
        Assert.Contains("internet->i-db TCP 5432", Show(gained));

        var moved = new NetworkState(after.RegionId, after.Groups, after.Instances.Select(i => i with { PrivateAddresses = [IpAddress.Parse("10.0.9.9")] }), after.PrefixLists);
        Assert.Null(StateDifference.PrefixListEntriesOnly(state, moved));
        Assert.Null(StateDifference.PrefixListEntriesOnly(state, state));
        Assert.Throws<ArgumentException>(() => new Change.ModifyPrefixList(PrefixListId.Parse("pl-app"), [Cidr.Parse("10.0.1.0/24")], []).ApplyTo(state));
        Assert.Throws<ArgumentException>(() => new Change.ModifyPrefixList(PrefixListId.Parse("pl-app"), [], [Cidr.Parse("10.0.3.0/24")]).ApplyTo(state));
        Assert.Throws<ArgumentException>(() => new Change.ModifyPrefixList(PrefixListId.Parse("pl-app"), [Cidr.Parse("2001:db8::/32")], []).ApplyTo(state));
    }

    /// <summary>
    /// The state after a list edit shares the state's indexes (<see cref="NetworkState.WithPrefixLists"/>):
    /// it answers every lookup as a state built afresh from the same records, which the slow twins of
    /// the other tests do not check (they apply the same edit).
    /// </summary>
    [Fact]
    public void AStateWithOtherPrefixLists_AnswersAsOneBuiltAfresh()
    {
        Cases.Sample(c =>
        {
            var (state, masks) = c;
            foreach (var edit in Edits(state, masks))
            {
                var shared = edit.ApplyTo(state);
                var fresh = new NetworkState(state.RegionId, state.Groups, state.Instances, shared.PrefixLists, state.PortRangeLists);
                Assert.Equal(fresh.PrefixLists.Select(l => l.Id), shared.PrefixLists.Select(l => l.Id));
                foreach (var list in fresh.PrefixLists)
                    Assert.Same(fresh.FindPrefixList(list.Id), shared.FindPrefixList(list.Id));
                Assert.Null(shared.FindPrefixList(SmallUniverse.PrefixMissing));
                Assert.Equal(fresh.PortRangeLists.Select(l => l.Id), shared.PortRangeLists.Select(l => l.Id));
                Assert.Same(fresh.FindPortRangeList(SmallUniverse.PortList), shared.FindPortRangeList(SmallUniverse.PortList));
                foreach (var group in state.Groups)
                {
                    Assert.Same(fresh.FindGroup(group.Id), shared.FindGroup(group.Id));
                    Assert.Equal(fresh.MembersOf(group.Id).Select(m => m.InterfaceLabel), shared.MembersOf(group.Id).Select(m => m.InterfaceLabel));
                }
                foreach (var instance in state.Instances)
                    Assert.Same(fresh.FindInstance(instance.Id), shared.FindInstance(instance.Id));
            }
        }, iter: 100, threads: 1, print: c => SmallUniverse.Describe(c.State));
    }
}
