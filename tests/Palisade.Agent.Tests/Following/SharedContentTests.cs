using CsCheck;
using Palisade.Agent.Following;
using Palisade.Domain.State;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// <see cref="SharedContent"/> (issue 17: the fleet bench's simulated agents keep what they hold
/// alike once): a shared text is the text asked for, one instance per content, and a state text is
/// parsed once while it is held. The slow twin is no sharing at all: every copy its own.
/// </summary>
public sealed class SharedContentTests
{
    /// <summary>Short texts from a small alphabet, so that equal contents (as distinct instances) are common.</summary>
    private static readonly Gen<string> Texts = Gen.Char["ab{}\"1"].Array[0, 6].Select(c => new string(c));

    [Fact]
    public void ASharedText_IsTheTextAskedFor_AndOneInstancePerContent()
    {
        Texts.List[1, 60].Sample(texts =>
        {
            var shared = new SharedContent();
            // Each asked for as a fresh copy (what each agent's parse makes), twice.
            var first = texts.Select(t => shared.Text(new string(t.AsSpan()))).ToList();
            var again = texts.Select(t => shared.Text(new string(t.AsSpan()))).ToList();
            Assert.Equal(texts, first);
            Assert.Equal(texts, again);
            for (var i = 0; i < texts.Count; i++)
            {
                Assert.Same(first[i], again[i]);
                for (var j = 0; j < texts.Count; j++)
                    Assert.Equal(texts[i] == texts[j], ReferenceEquals(first[i], first[j]));
            }
            Assert.Equal(texts.Count * 2L - texts.Distinct().Count(), shared.Texts.Found);
        });
    }

    [Fact]
    public void AStateText_IsParsedOnce_AndEveryHolderGetsTheSameState()
    {
        var shared = new SharedContent();
        var text = """{"RegionId":"cn-hangzhou","SecurityGroups":[],"Instances":[]}""";
        var parses = 0;
        NetworkState Read(string t)
        {
            parses++;
            return StateFileReader.Read(t);
        }
        var (heldText, state) = shared.State(new string(text.AsSpan()), Read);
        var (otherText, other) = shared.State(new string(text.AsSpan()), Read);
        Assert.Equal(1, parses);
        Assert.Same(heldText, otherText);
        Assert.Same(state, other);
        Assert.Equal(text, heldText);
        var (_, different) = shared.State("""{"RegionId":"cn-beijing","SecurityGroups":[],"Instances":[]}""", Read);
        Assert.Equal(2, parses);
        Assert.NotSame(state, different);
        Assert.Equal("cn-beijing", different.RegionId);
    }

    /// <summary>
    /// A state assembled by many agents from the shared resources: each gets the text its own
    /// assembly (the slow twin) makes and the state read from it, and equal inputs are assembled
    /// and read once while held.
    /// </summary>
    [Fact]
    public void AnAssembledState_IsEachAgentsOwnAssembly_AndAssembledOnceWhileHeld()
    {
        // Each agent: five lists of resources from a small alphabet (so that agents' inputs are often equal).
        var agentGen = Gen.Int[0, 3].Array[0, 3].Array[5];
        agentGen.List[1, 12].Sample(agents =>
        {
            var shared = new SharedContent();
            string[] ids = ["SecurityGroupId", "InstanceId", "NetworkInterfaceId", "PrefixListId", "PortRangeListId"];
            var held = new List<string>();
            foreach (var lists in agents)
            {
                // What one agent holds: each resource's text as its own parse made it, then shared (as EcsControlPlane does).
                var union = lists.Select((items, l) => items.Distinct().Select(i => shared.Text(new string($$"""{"{{ids[l]}}":"x-{{i}}"}""".AsSpan()))).ToList()).ToArray();
                var own = StateParts.Write("cn-hangzhou", union);
                var parses = shared.States.Parsed;
                var (text, state) = shared.Assembled(["cn-hangzhou", .. union.SelectMany((items, l) => items.Prepend(StateParts.Lists[l].List))], () => StateParts.Write("cn-hangzhou", union), t =>
                {
                    Assert.Equal(own, t);
                    return new NetworkState("cn-hangzhou", [], []);
                });
                Assert.Equal(own, text);
                held.Add(text);
                Assert.NotNull(state);
            }
            // One assembly (and at most one parse) per distinct input while every text is held.
            var distinct = agents.Select(lists => string.Join("|", lists.Select(items => string.Join(",", items.Distinct())))).Distinct().Count();
            Assert.Equal(agents.Count, shared.Assemblies.Asked);
            Assert.Equal(distinct, shared.Assemblies.Assembled);
            GC.KeepAlive(held);
        });
    }

    [Fact]
    public void ATextNoOneHolds_IsNotKeptAlive()
    {
        var shared = new SharedContent();
        var weak = AskAndDrop(shared);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(weak.TryGetTarget(out _), "the shared store kept a text alive that no holder had");
        // Texts asked for and dropped: a sweep (made by itself as the entries grow) forgets them.
        for (var i = 0; i < 5_000; i++)
            shared.Text(i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-x");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        shared.Sweep();
        Assert.True(shared.Entries <= 1, $"{shared.Entries} entries after their texts went: the sweep dropped none");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<string> AskAndDrop(SharedContent shared) =>
        new(shared.Text(new string('z', 40)));
}
