using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>
/// What one direction of a NIC accepts per (peer class, local class), painted from the rules, against
/// the engine deciding one packet per protocol and port interval — on every NIC of random states, both
/// directions, both families, the intranet and (classic) the internet NIC.
/// </summary>
public sealed class DirectionClassesTests
{
    [Fact]
    public void PaintingTheRules_DecidesAsTheEngine()
    {
        SmallUniverse.State.Sample(state =>
        {
            foreach (var instance in state.Instances)
            {
                foreach (var nic in instance.NetworkType == NetworkType.Classic ? new[] { NicType.Intranet, NicType.Internet } : [NicType.Intranet])
                {
                    var policy = PolicyRules.Of(state, instance, nic);
                    foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                    {
                        foreach (var v6 in new[] { false, true })
                        {
                            var table = new DirectionClasses(state, policy, direction, v6, new AccessInterner());
                            for (var peer = 0; peer < table.PeerClassCount; peer++)
                            {
                                for (var local = 0; local < table.LocalClassCount; local++)
                                    Assert.Equal(table.Decided(peer, local), table.Interner[table.Half(peer, local)]);
                            }
                        }
                    }
                }
            }
        }, iter: 300, threads: 1, print: SmallUniverse.Describe);
    }

    /// <summary>
    /// The walk the what-if uses, against asking both tables at every address: on random pairs of NIC
    /// policies of one state (one direction, one local address each), the runs it reports hold exactly
    /// the addresses at which the two answers differ, with the second table's answer.
    /// </summary>
    [Fact]
    public void Differences_AreTheAddressesAtWhichTheTwoTablesAnswerOtherwise()
    {
        var cases = from state in SmallUniverse.State
                    from picks in Gen.Int[0, 1000].Array[4]
                    from extra in Gen.OneOf([.. SmallUniverse.V4Addresses, .. SmallUniverse.V6Addresses]).Array[0, 4]
                    select (state, picks, extra);
        cases.Sample(c =>
        {
            var (state, picks, extra) = c;
            var interner = new AccessInterner();
            foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
            {
                foreach (var v6 in new[] { false, true })
                {
                    var first = state.Instances[picks[0] % state.Instances.Length];
                    var second = state.Instances[picks[1] % state.Instances.Length];
                    var before = new DirectionClasses(state, PolicyRules.Of(state, first, NicType.Intranet), direction, v6, interner);
                    var after = new DirectionClasses(state, PolicyRules.Of(state, second, NicType.Intranet), direction, v6, interner);
                    var locals = state.Instances.SelectMany(i => i.PrivateAddresses).Where(a => a.IsV6 == v6).ToArray();
                    if (locals.Length == 0)
                        continue;
                    var beforeLocal = before.LocalClassOf(locals[picks[2] % locals.Length]);
                    var afterLocal = after.LocalClassOf(locals[picks[3] % locals.Length]);
                    // The instances' addresses and a few more, with repeats, in order.
                    UInt128[] sorted = [.. state.Instances.SelectMany(i => i.PrivateAddresses).Concat(extra.Select(IpAddress.Parse))
                        .Where(a => a.IsV6 == v6).Select(a => a.Value).Order()];
                    var expected = new List<string>();
                    for (var k = 0; k < sorted.Length; k++)
                    {
                        var address = new IpAddress(v6, sorted[k]);
                        var now = after.Half(after.PeerClassOf(address), afterLocal);
                        if (before.Half(before.PeerClassOf(address), beforeLocal) != now)
                            expected.Add($"{k}:{now}");
                    }
                    var reported = DirectionClasses.Differences(before, beforeLocal, after, afterLocal, sorted)
                        .SelectMany(r => Enumerable.Range(r.From, r.To - r.From).Select(k => $"{k}:{r.Now}"));
                    Assert.Equal(expected, reported);
                }
            }
        }, iter: 300, threads: 1, print: c => SmallUniverse.Describe(c.state));
    }

    /// <summary>
    /// The patch the what-if applies after a join or a leave, against compiling the table afresh: on
    /// random states, an instance joins a group (or leaves one), and every other NIC's table patched
    /// at the mover's addresses answers as the fresh one for every address of the small universe and
    /// every local address.
    /// </summary>
    [Fact]
    public void PatchingATableAfterAMembershipChange_AnswersAsCompilingItAgain()
    {
        var cases = from state in SmallUniverse.State
                    from pick in Gen.Int[0, 1000]
                    from joins in Gen.Bool
                    select (state, pick, joins);
        cases.Sample(c =>
        {
            var (state, pick, joins) = c;
            var mover = state.Instances[pick % state.Instances.Length];
            Palisade.Analysis.WhatIf.Change change;
            if (joins)
            {
                var home = state.FindGroup(mover.SecurityGroupIds[0])!;
                if (state.Groups.FirstOrDefault(g => g.VpcId == mover.VpcId && g.IsEnterprise == home.IsEnterprise && !mover.SecurityGroupIds.Contains(g.Id)) is not { } other)
                    return;
                change = new Palisade.Analysis.WhatIf.Change.Join(mover.Id, other.Id);
            }
            else
            {
                if (mover.SecurityGroupIds.Length < 2)
                    return;
                change = new Palisade.Analysis.WhatIf.Change.Leave(mover.Id, mover.SecurityGroupIds[pick % mover.SecurityGroupIds.Length]);
            }
            var after = change.ApplyTo(state);
            var interner = new AccessInterner();
            IpAddress[] universe = [.. SmallUniverse.V4Addresses.Concat(SmallUniverse.V6Addresses).Select(IpAddress.Parse), .. state.Instances.SelectMany(i => i.PrivateAddresses)];
            foreach (var instance in state.Instances.Where(i => i.Id != mover.Id))
            {
                foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                {
                    foreach (var v6 in new[] { false, true })
                    {
                        var old = new DirectionClasses(state, PolicyRules.Of(state, instance, NicType.Intranet), direction, v6, interner);
                        var policy = PolicyRules.Of(after, instance, NicType.Intranet);
                        var patched = old.Patched(after, policy, mover.PrivateAddresses);
                        Assert.NotNull(patched);
                        var fresh = new DirectionClasses(after, policy, direction, v6, interner);
                        foreach (var peer in universe.Where(a => a.IsV6 == v6))
                        {
                            foreach (var local in universe.Where(a => a.IsV6 == v6))
                            {
                                Assert.Equal(interner[fresh.Half(fresh.PeerClassOf(peer), fresh.LocalClassOf(local))],
                                    interner[patched!.Half(patched.PeerClassOf(peer), patched.LocalClassOf(local))]);
                            }
                        }
                    }
                }
            }
        }, iter: 300, threads: 1, print: c => SmallUniverse.Describe(c.Item1));
    }
    /// <summary>
    /// The differences the what-if finds between a table and its patch after a join or a leave (only at
    /// the patched addresses), against the walk over both tables' intervals: on random states, an
    /// instance (or one of its secondary ENIs) joins or leaves a group, and for every other ENI's table
    /// and every local address, the runs over all the state's addresses and a few more are the same.
    /// </summary>
    [Fact]
    public void DifferencesOfAPatchedTable_AreThoseOfTheWholeWalk()
    {
        var cases = from state in SmallUniverse.State
                    from pick in Gen.Int[0, 1000]
                    from joins in Gen.Bool
                    from extra in Gen.OneOf([.. SmallUniverse.V4Addresses, .. SmallUniverse.V6Addresses]).Array[0, 4]
                    select (state, pick, joins, extra);
        cases.Sample(c =>
        {
            var (state, pick, joins, extra) = c;
            var owner = state.Instances[pick % state.Instances.Length];
            // The moving ENI: the instance's primary one, or a secondary one.
            var mover = owner.Interfaces[pick / 7 % owner.Interfaces.Length];
            var eni = mover.IsSecondaryInterface ? mover.NetworkInterfaceId : null;
            Palisade.Analysis.WhatIf.Change change;
            if (joins)
            {
                if (mover.SecurityGroupIds.Length == 0 || state.FindGroup(mover.SecurityGroupIds[0]) is not { } home
                    || state.Groups.FirstOrDefault(g => g.VpcId == owner.VpcId && g.IsEnterprise == home.IsEnterprise && !mover.SecurityGroupIds.Contains(g.Id)) is not { } other)
                    return;
                change = new Palisade.Analysis.WhatIf.Change.Join(owner.Id, other.Id, eni);
            }
            else
            {
                if (mover.SecurityGroupIds.Length < 2)
                    return;
                change = new Palisade.Analysis.WhatIf.Change.Leave(owner.Id, mover.SecurityGroupIds[pick % mover.SecurityGroupIds.Length], eni);
            }
            var after = change.ApplyTo(state);
            var interner = new AccessInterner();
            IpAddress[] universe = [.. SmallUniverse.V4Addresses.Concat(SmallUniverse.V6Addresses).Select(IpAddress.Parse), .. state.Instances.SelectMany(i => i.AllPrivateAddresses)];
            foreach (var nic in after.Instances.Where(i => i.Id != owner.Id).SelectMany(i => i.Interfaces))
            {
                foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                {
                    foreach (var v6 in new[] { false, true })
                    {
                        var before = state.Instances.SelectMany(i => i.Interfaces).First(n => n.InterfaceLabel == nic.InterfaceLabel);
                        var old = new DirectionClasses(state, PolicyRules.Of(state, before, NicType.Intranet), direction, v6, interner);
                        var patched = old.Patched(after, PolicyRules.Of(after, nic, NicType.Intranet), mover.PrivateAddresses);
                        Assert.NotNull(patched);
                        UInt128[] sorted = [.. state.Instances.SelectMany(i => i.AllPrivateAddresses).Concat(extra.Select(IpAddress.Parse))
                            .Where(a => a.IsV6 == v6).Select(a => a.Value).Order()];
                        foreach (var local in universe.Where(a => a.IsV6 == v6))
                        {
                            var (oldLocal, newLocal) = (old.LocalClassOf(local), patched!.LocalClassOf(local));
                            static string Show(List<(int From, int To, int Now)> runs) =>
                                string.Join(" ", runs.SelectMany(r => Enumerable.Range(r.From, r.To - r.From).Select(k => $"{k}:{r.Now}")));
                            Assert.Equal(Show(DirectionClasses.DifferencesByWalk(old, oldLocal, patched, newLocal, sorted)),
                                Show(DirectionClasses.Differences(old, oldLocal, patched, newLocal, sorted)));
                        }
                    }
                }
            }
        }, iter: 300, threads: 1, print: c => SmallUniverse.Describe(c.state));
    }

    /// <summary>
    /// A table patched after a prefix-list edit (<see cref="DirectionClasses.PatchedForLists"/>) against
    /// the table compiled afresh on the state after, at every address of the universe, every list
    /// entry's edges and every local address; and the differences the what-if finds in it (only in the
    /// changed ranges) against the walk over both tables' intervals. Every ENI of random states, both
    /// directions and families; the edits of <see cref="WhatIf.PrefixListEditTests.Edits"/> (random
    /// entries, a list emptied, public blocks added, both lists set).
    /// </summary>
    [Fact]
    public void PatchingATableAfterAPrefixListEdit_AnswersAsCompilingItAgain()
    {
        WhatIf.PrefixListEditTests.Cases.Sample(c =>
        {
            var (state, masks) = c;
            foreach (var edit in WhatIf.PrefixListEditTests.Edits(state, masks))
            {
                var after = edit.ApplyTo(state);
                var ranges = PrefixListEditRanges.Of(state, after, edit.Lists)!;
                var interner = new AccessInterner();
                var edges = state.PrefixLists.Concat(after.PrefixLists).SelectMany(l => l.Entries)
                    .SelectMany(b => new[] { b.First, b.Last, b.First == 0 ? b.First : b.First - 1, b.Last + 1 }.Select(v => new IpAddress(b.IsV6, b.IsV6 ? v : v & uint.MaxValue)));
                IpAddress[] universe = [.. SmallUniverse.V4Addresses.Concat(SmallUniverse.V6Addresses).Select(IpAddress.Parse),
                    .. state.Instances.SelectMany(i => i.AllPrivateAddresses), .. edges];
                foreach (var (nic, nicAfter) in state.Instances.SelectMany(i => i.Interfaces).Zip(after.Instances.SelectMany(i => i.Interfaces)))
                {
                    foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                    {
                        foreach (var v6 in new[] { false, true })
                        {
                            var old = new DirectionClasses(state, PolicyRules.Of(state, nic, NicType.Intranet), direction, v6, interner);
                            var policy = PolicyRules.Of(after, nicAfter, NicType.Intranet);
                            var patched = old.PatchedForLists(policy, ranges);
                            Assert.NotNull(patched);
                            var fresh = new DirectionClasses(after, policy, direction, v6, interner);
                            UInt128[] sorted = [.. universe.Where(a => a.IsV6 == v6).Select(a => a.Value).Distinct().Order()];
                            foreach (var local in universe.Where(a => a.IsV6 == v6).Distinct())
                            {
                                foreach (var peer in universe.Where(a => a.IsV6 == v6))
                                {
                                    Assert.Equal(interner[fresh.Half(fresh.PeerClassOf(peer), fresh.LocalClassOf(local))],
                                        interner[patched!.Half(patched.PeerClassOf(peer), patched.LocalClassOf(local))]);
                                }
                                var (oldLocal, newLocal) = (old.LocalClassOf(local), patched!.LocalClassOf(local));
                                static string Show(List<(int From, int To, int Now)> runs) =>
                                    string.Join(" ", runs.SelectMany(r => Enumerable.Range(r.From, r.To - r.From).Select(k => $"{k}:{r.Now}")));
                                Assert.Equal(Show(DirectionClasses.DifferencesByWalk(old, oldLocal, patched, newLocal, sorted)),
                                    Show(DirectionClasses.Differences(old, oldLocal, patched, newLocal, sorted)));
                            }
                        }
                    }
                }
            }
        }, iter: 200, threads: 1, print: c => SmallUniverse.Describe(c.State) + "\nmasks " + string.Join(",", c.Masks));
    }
}
