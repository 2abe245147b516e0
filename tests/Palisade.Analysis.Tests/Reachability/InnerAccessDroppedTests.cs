using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Groups;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>
/// The state with one group's inner access set to Drop, read off the matrix of the state before
/// (what the audit's inner-access check asks per member pair), against compiling the affected tables
/// again (<see cref="ReachAfter"/> on the state after the change): on random states with secondary
/// ENIs, several private addresses and prefix lists, for every group with inner access Accept, every
/// instance pair, towards every address of the target and towards each of its ENIs' own addresses.
/// </summary>
public sealed class InnerAccessDroppedTests
{
    [Fact]
    public void DroppingInnerAccess_OnTheMatrix_AnswersAsCompilingTheTablesAgain()
    {
        SmallUniverse.State.Sample(state =>
        {
            var matrix = ReachMatrix.Build(state);
            var memberships = new InnerAccessDropped.Memberships(state);
            foreach (var group in state.Groups.Where(g => g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept))
            {
                var change = new Change.SetInnerAccessPolicy(group.Id, InnerAccessPolicy.Drop);
                var closed = change.ApplyTo(state);
                var slow = new ReachAfter(matrix, closed, change.Affected(state));
                var fast = new InnerAccessDropped(matrix, group.Id, memberships);
                for (var t = 0; t < state.Instances.Length; t++)
                {
                    var addresses = matrix.AddressesAt(t);
                    // Every address, then each ENI's own (what reaches one member ENI).
                    var slotSets = new List<int[]> { Enumerable.Range(0, addresses.Length).ToArray() };
                    slotSets.AddRange(state.Instances[t].Interfaces.Select(nic =>
                        Enumerable.Range(0, addresses.Length).Where(j => nic.PrivateAddresses.Contains(addresses[j])).ToArray()));
                    for (var s = 0; s < state.Instances.Length; s++)
                    {
                        foreach (var slots in slotSets)
                        {
                            Assert.True(slow.CellAt(s, t, slots) == fast.CellAt(s, t, slots),
                                $"{group.Id} dropped: {state.Instances[s].Id} -> {state.Instances[t].Id} at [{string.Join(",", slots.Select(j => addresses[j]))}]: " +
                                $"compiled {matrix.Interner[slow.CellAt(s, t, slots)]}, from the matrix {matrix.Interner[fast.CellAt(s, t, slots)]}");
                        }
                    }
                }
            }
        }, iter: 300, threads: 1, print: SmallUniverse.Describe);
    }
}
