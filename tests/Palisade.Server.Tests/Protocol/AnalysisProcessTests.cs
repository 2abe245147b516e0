using System.Diagnostics;
using CsCheck;
using Palisade.Analysis.WhatIf;
using Palisade.AnalysisWorker;
using Palisade.Domain.Ecs;
using Palisade.Domain.Errors;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Server.Protocol;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Issue 19: the analysis process, a child of the server at niceness 19 that compares the states of
/// dry-run impacts. Its answers are the in-process answers (its slow twin: the same comparison in
/// this process, without the pipe, the state files or the child's kept befores), and a child that
/// dies fails its analyses in flight with <c>ServiceUnavailable</c> and is started again.
/// </summary>
public sealed class AnalysisProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string Show(IEnumerable<ImpactWire.Flow> flows) =>
        string.Join("; ", flows.Select(f => $"{f.Source}->{f.Target} {f.Protocol} {string.Join(",", f.Ports)}"));

    private static NetworkState Without(NetworkState s, int pick) =>
        s.Instances.Length == 0 ? s : new(s.RegionId, s.Groups, s.Instances.RemoveAt(pick % s.Instances.Length), s.PrefixLists, s.PortRangeLists);

    /// <summary>
    /// A generated state as the store can hold it (and so a state file): rules ECS would refuse (the
    /// generator makes some on purpose) or that name a list the state lacks are left out, each as the
    /// parser gives it back (as StateFileWriterTests' Readable).
    /// </summary>
    private static NetworkState Storable(NetworkState state)
    {
        var created = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var groups = state.Groups.Select(g =>
        {
            var context = new RuleContext(g.IsClassic, g.Type, state.FindPrefixList);
            return g with
            {
                Rules = [.. g.Rules
                    .Where(r => r.Peer is not RulePeer.PrefixList p || state.FindPrefixList(p.PrefixListId) is not null)
                    .Select(r => PermissionParser.Parse(r.Direction, PermissionFields.Of(r), context, r.Id, created).TryGet(out var back, out _) ? back : null)
                    .OfType<SecurityGroupRule>()],
            };
        });
        return new NetworkState(state.RegionId, groups, state.Instances, state.PrefixLists, state.PortRangeLists);
    }

    [Fact]
    public void TheChildsAnswers_AreTheInProcessAnswers()
    {
        using var process = new AnalysisProcess { Deadline = Patience }; // the child itself is under test: never compared in-process
        var revision = 0L;
        var gen = from before in SmallUniverse.State.Select(Storable)
                  from other in SmallUniverse.State.Select(Storable)
                  from account in Gen.Int[1, 3]
                  from pick in Gen.Int[0, 100]
                  select (before, other, account, pick);
        gen.Sample(c =>
        {
            // A new revision of one of three accounts: the first question sends the before, the second
            // finds it kept in the child.
            revision++;
            foreach (var after in new[] { new NetworkState(c.before.RegionId, c.other.Groups, c.other.Instances, c.other.PrefixLists, c.other.PortRangeLists), Without(c.before, c.pick) })
            {
                var here = ImpactAnalysis.Between(c.before, after);
                var (gained, lost, _) = process.Compare(c.account, c.before.RegionId, revision, c.before, after);
                Assert.Equal(Show(here.Gained.Select(ImpactWire.Flow.Of)), Show(gained));
                Assert.Equal(Show(here.Lost.Select(ImpactWire.Flow.Of)), Show(lost));
            }
        }, iter: 100, threads: 1, print: c => SmallUniverse.Describe(c.Item1) + "\nother:\n" + SmallUniverse.Describe(c.Item2));
        Assert.Equal(1, process.Started);
    }

    [Fact]
    public async Task AChildThatDies_FailsItsAnalysesInFlightWithServiceUnavailable_AndIsStartedAgain()
    {
        using var process = new AnalysisProcess { Deadline = Patience }; // the child itself is under test: never compared in-process
        var state = SmallUniverse.State.Select(Storable).Single();
        var empty = new NetworkState(state.RegionId, [], [], [], []);
        process.Compare(1, state.RegionId, 1, state, empty);
        var first = process.ChildId!.Value;

        // An analysis in flight (one the child never answers), then the child killed.
        var parked = process.ParkAsync();
        using (var child = Process.GetProcessById(first))
        {
            child.Kill();
            await child.WaitForExitAsync().WaitAsync(Patience);
        }
        var refused = await Assert.ThrowsAsync<EcsException>(() => parked.WaitAsync(Patience));
        Assert.Equal("ServiceUnavailable", refused.Error.Code);
        Assert.Equal(503, refused.Error.HttpStatus);

        // The next analysis starts a new child, which is sent the before again.
        var (gained, lost, _) = process.Compare(1, state.RegionId, 1, state, empty);
        var here = ImpactAnalysis.Between(state, empty);
        Assert.Equal(Show(here.Gained.Select(ImpactWire.Flow.Of)), Show(gained));
        Assert.Equal(Show(here.Lost.Select(ImpactWire.Flow.Of)), Show(lost));
        Assert.Equal(2, process.Started);
        Assert.NotEqual(first, process.ChildId);
    }

    [Fact]
    public void TheChild_RunsAtNiceness19_EveryThread()
    {
        using var process = new AnalysisProcess { Deadline = Patience }; // the child itself is under test: never compared in-process
        var state = SmallUniverse.State.Select(Storable).Single();
        process.Compare(1, state.RegionId, 1, state, state);
        // Every thread of the child, the runtime's own too: each inherited both from the first one.
        foreach (var task in Directory.GetDirectories($"/proc/{process.ChildId}/task"))
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal("19", fields[16]); // nice (stat field 19)
        }
    }

    [Fact]
    public void ALateChild_IsNotWaitedFor_UntilItHasAnsweredWhatWasLate()
    {
        using var process = new AnalysisProcess { Deadline = TimeSpan.FromMilliseconds(1) };
        var state = SmallUniverse.State.Select(Storable).Single();
        var empty = new NetworkState(state.RegionId, [], [], [], []);
        // The child is still starting: late. Then behind: not asked at all.
        Assert.Throws<AnalysisProcessLateException>(() => process.Compare(1, state.RegionId, 1, state, empty));
        Assert.Throws<AnalysisProcessLateException>(() => process.Compare(1, state.RegionId, 1, state, empty));
        Assert.Equal(2, process.Late);
        Assert.Equal(1, process.Asked);

        // Once the late answer is in, the same child answers again.
        process.Deadline = Patience;
        var until = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                var (gained, lost, _) = process.Compare(1, state.RegionId, 1, state, empty);
                var here = ImpactAnalysis.Between(state, empty);
                Assert.Equal(Show(here.Gained.Select(ImpactWire.Flow.Of)), Show(gained));
                Assert.Equal(Show(here.Lost.Select(ImpactWire.Flow.Of)), Show(lost));
                break;
            }
            catch (AnalysisProcessLateException) when (DateTime.UtcNow < until)
            {
                Thread.Sleep(20);
            }
        }
        Assert.Equal(1, process.Started);
    }

    [Fact]
    public void AChildThatCannotBeStarted_LeavesEachImpactToBeComparedInProcess_AndIsNotTriedOnEveryQuestion()
    {
        // As in a server with no palisade program beside it (the fleet bench's): the impact failed with InternalError.
        var tries = 0;
        using var process = new AnalysisProcess { Deadline = Patience, ChildProgram = () => { tries++; return null; } };
        var state = SmallUniverse.State.Select(Storable).Single();
        var empty = new NetworkState(state.RegionId, [], [], [], []);
        var first = Assert.Throws<AnalysisProcessLateException>(() => process.Compare(1, state.RegionId, 1, state, empty));
        Assert.Contains("could not be started", first.Message);
        Assert.Throws<AnalysisProcessLateException>(() => process.Compare(1, state.RegionId, 1, state, empty));
        Assert.Equal(1, tries);
        Assert.Equal(0, process.Started);
        Assert.Equal(2, process.Late);
    }
}
