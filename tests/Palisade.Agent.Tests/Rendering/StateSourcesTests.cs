using CsCheck;
using Palisade.Agent.Rendering;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>What lets the agent skip rendering: two state texts the same but for their prefix lists.</summary>
public sealed class StateSourcesTests
{
    private const string Before = """{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [{"PrefixListId": "pl-a", "Entries": {"Entry": [{"Cidr": "198.18.0.0/16"}]}}], "Instances": []}""";

    [Theory]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [{"PrefixListId": "pl-a", "Entries": {"Entry": []}}], "Instances": []}""", true)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [], "Instances": []}""", true)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 3]}], "PrefixLists": [{"PrefixListId": "pl-a", "Entries": {"Entry": [{"Cidr": "198.18.0.0/16"}]}}], "Instances": []}""", false)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [], "Instances": [], "PortRangeLists": []}""", false)]
    [InlineData("""{"RegionId": "r", "PrefixLists": [], "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "Instances": []}""", false)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [], "Instances": [""", false)]
    [InlineData("""[1, 2]""", false)]
    public void OnlyThePrefixListsMayDiffer(string after, bool same) =>
        Assert.Equal(same, StateSources.SameButPrefixLists(Before, after));

    /// <summary>Formatting is not content, but telling it apart would cost a parse: a reformatted text renders whole (safe, only slower).</summary>
    [Fact]
    public void AReformattedText_IsNotTheSame() =>
        Assert.False(StateSources.SameButPrefixLists(Before, Before.Replace("[1, 2]", "[1,2]", StringComparison.Ordinal)));
}

/// <summary>
/// <see cref="StateSources.SameButPrefixLists"/> (which looks first where two texts differ) against
/// its slow twin <see cref="StateSources.SameButPrefixListsSlow"/> (both read whole) on random state
/// files as the agent assembles them (<see cref="Palisade.Agent.Following.StateParts.Write"/>), with
/// resources that name <c>PrefixLists</c> inside them (as a key and as an escaped string) to
/// mislead the first look, and random changes of one list's resources.
/// </summary>
public sealed class StateSourcesTwinTests
{
    private static readonly string[] Ids = ["SecurityGroupId", "InstanceId", "NetworkInterfaceId", "PrefixListId", "PortRangeListId"];

    /// <summary>A resource of list <paramref name="list"/>: its ID, a version, and perhaps a nested <c>PrefixLists</c> key or a string holding the quoted name.</summary>
    private static string Resource(int list, int id, int version, int flavour) => flavour switch
    {
        0 => $$"""{"{{Ids[list]}}":"x-{{id}}","V":{{version}}}""",
        1 => $$"""{"{{Ids[list]}}":"x-{{id}}","PrefixLists":[{{version}}]}""",
        _ => $$"""{"{{Ids[list]}}":"x-{{id}}","Description":"\"PrefixLists\" {{version}}"}""",
    };

    private static readonly Gen<int[]> Item = Gen.Int[0, 3].Array[3];

    /// <summary>Five lists of resources (id, version, flavour).</summary>
    private static readonly Gen<int[][][]> States = Item.Array[0, 4].Array[5];

    private static string Text(int[][][] state) =>
        Palisade.Agent.Following.StateParts.Write("r", [.. state.Select((items, l) => items.DistinctBy(i => i[0]).Select(i => Resource(l, i[0], i[1], i[2])).ToList())]);

    [Fact]
    public void TheFirstLook_AgreesWithReadingBothWhole()
    {
        Gen.Select(States, Gen.Int[0, 4], Gen.Int[0, 3], Item, Gen.Int[0, 2]).Sample((state, list, at, item, how) =>
        {
            var before = Text(state);
            var changed = state.Select(l => l.ToArray()).ToArray();
            var items = changed[list].ToList();
            if (how == 0 || items.Count == 0)
                items.Insert(Math.Min(at, items.Count), item);
            else if (how == 1)
                items.RemoveAt(at % items.Count);
            else
                items[at % items.Count] = [items[at % items.Count][0], item[1], item[2]];
            changed[list] = [.. items];
            var after = Text(changed);
            Assert.Equal(StateSources.SameButPrefixListsSlow(before, after), StateSources.SameButPrefixLists(before, after));
            Assert.Equal(StateSources.SameButPrefixListsSlow(after, before), StateSources.SameButPrefixLists(after, before));
            // Equal texts as distinct instances are the same.
            Assert.True(StateSources.SameButPrefixLists(before, new string(before.AsSpan())));
        });
    }

    /// <summary>Formatting the writer never makes: the first look may say "not the same" where the slow read says "same" (a whole render, only slower), never the reverse.</summary>
    [Fact]
    public void TheFirstLook_NeverCallsTheSameWhatTheSlowReadDoesNot()
    {
        Gen.Select(States, Gen.Int[0, 10_000]).Sample((state, at) =>
        {
            var before = Text(state);
            var commas = before.Select((c, i) => (c, i)).Where(p => p.c == ',').Select(p => p.i).ToList();
            var after = commas.Count == 0 ? before + " " : before.Insert(commas[at % commas.Count] + 1, " ");
            Assert.True(!StateSources.SameButPrefixLists(before, after) || StateSources.SameButPrefixListsSlow(before, after));
        });
    }
}
