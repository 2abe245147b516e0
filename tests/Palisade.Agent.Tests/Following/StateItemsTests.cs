using CsCheck;
using Palisade.Agent.Following;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// The state made of its resources, each read once while its text is held (issue 17, seventeenth
/// session: <see cref="StateFileReader.Read(string, IReadOnlyList{IReadOnlyList{string}}, StateItemCache, Func{string})"/>),
/// against its slow twin: the whole state text written (<see cref="StateParts.Write"/>) and read. Over a
/// random sequence of fetches, each a union of resources drawn from a few random states with the same
/// IDs (so a resource held from one fetch meets groups, prefix lists and interfaces of another: other
/// networks, types, families, lists missing, ENIs described or not, IDs twice), with one cache kept
/// across the sequence as an agent keeps it: the same state, or the same refusal.
/// </summary>
public sealed class StateItemsTests
{
    [Fact]
    public void ResourcesReadOnce_MakeTheStateTheWholeTextReads()
    {
        var (hits, refusals, states, derived, joined) = (0L, 0, 0, 0L, 0L);
        var sample = "";
        Gen.Select(Readable.Array[2, 3], Gen.Int[0, int.MaxValue]).Sample((drawn, seed) =>
        {
            var random = new Random(seed);
            // Each state's resources as texts, one instance each, held across the fetches as an agent holds them.
            var pools = drawn.Select(s => StateParts.Resources(StateFileWriter.Write(s))).ToList();
            var cache = new StateItemCache();
            // The agent's read before (eighteenth session): a fetch that changes groups' texts alone is made from it.
            var before = new StateReadBefore();
            List<string>[]? last = null;
            var lastRefused = false;
            for (var fetch = 0; fetch < 6; fetch++)
            {
                // Mostly one state's resources (the held ones of the last fetch or another's), some of the others'.
                var main = pools[random.Next(pools.Count)];
                var mixed = random.Next(3) == 0;
                // Now and then the last fetch's lists with a group or two of another state (a rule change; or
                // a group of another network or type, an ID twice), every other text the same instance.
                // Or (nineteenth session) the last fetch's lists with an instance or ENI come, gone or replaced (a join, a
                // leave, an ENI attached or detached; an ID twice, an ENI of an instance not listed), maybe with groups changed too.
                // (Changes are made to a fetch that was read, as the server's are.)
                var step = last is null || lastRefused ? 0 : random.Next(5);
                var union = step == 2 ? ChangeGroups(last!, pools, random)
                    : step == 3 ? ChangeInstances(last!, pools, random)
                    : step == 4 ? ChangeInstances(ChangeGroups(last!, pools, random), pools, random)
                    : StateParts.Lists.Select(l =>
                {
                    var ids = pools.SelectMany(p => p.Keys).Where(k => k.List == l.List).Select(k => k.Id).Distinct().OrderBy(_ => random.Next()).ToList();
                    var items = new List<string>();
                    foreach (var id in ids)
                    {
                        // Mostly there, from any state that has it; now and then missing, or twice.
                        if (random.Next(50) == 0 || (!mixed && !main.ContainsKey((l.List, id))))
                            continue;
                        var from = pools.Where(p => p.ContainsKey((l.List, id))).ToList();
                        var pool = main.ContainsKey((l.List, id)) && (!mixed || random.Next(8) > 0) ? main : from[random.Next(from.Count)];
                        items.Add(pool[(l.List, id)]);
                        if (random.Next(150) == 0)
                            items.Add(from[random.Next(from.Count)][(l.List, id)]);
                    }
                    return items;
                }).ToArray();
                last = union;
                // Every ID the pools hold: an instance found by ID must be the one listed, a gone one not found.
                var ids = pools.SelectMany(p => p.Keys).Distinct().ToList();
                var whole = Outcome(() => StateFileReader.Read(StateParts.Write("cn-test", union)), ids);
                var found = cache.Counts.Found;
                var (wasDerived, wasJoined) = (before.Derived, before.DerivedWithInstances);
                var fast = Outcome(() => StateFileReader.Read("cn-test", union, cache, () => StateParts.Write("cn-test", union), before), ids);
                Assert.Equal(whole, fast);
                lastRefused = whole.StartsWith("refused", StringComparison.Ordinal);
                derived += before.Derived - wasDerived;
                joined += before.DerivedWithInstances - wasJoined;
                hits += cache.Counts.Found - found;
                sample = whole.StartsWith("refused", StringComparison.Ordinal) ? whole : sample;
                (refusals, states) = whole.StartsWith("refused", StringComparison.Ordinal) ? (refusals + 1, states) : (refusals, states + 1);
            }
        }, iter: 300);
        // The property is checked above; these say the sequences exercised it.
        Assert.True(hits > 1000, $"only {hits} resources found read already");
        Assert.True(refusals > 100 && states > 900, $"{states} states read, {refusals} refused, e.g. {sample}");
        Assert.True(derived > 100, $"only {derived} reads made from the read before");
        Assert.True(joined > 60, $"only {joined} reads made from the read before with instances or ENIs changed ({derived} in all; {states} states read, {refusals} refused)");
    }

    /// <summary>
    /// The lists of <paramref name="last"/> with one to three instances or ENIs come (from any state, at a
    /// random place; an instance now and then with the ENIs that name it), gone, or replaced by another
    /// state's text of the same ID; every other text the same instance in the same order.
    /// </summary>
    private static List<string>[] ChangeInstances(List<string>[] last, List<Dictionary<(string List, string Id), string>> pools, Random random)
    {
        var union = last.Select(l => new List<string>(l)).ToArray();
        var (instances, enis) = (union[1], union[2]);
        // Mostly from the state most of the last fetch's texts are of (its instances fit its groups).
        var home = pools.MaxBy(p => last.Sum(l => l.Count(p.ContainsValue)))!;
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var list = random.Next(3) == 0 ? enis : instances;
            var name = list == instances ? "Instances" : "NetworkInterfaces";
            var all = (random.Next(4) > 0 ? [home] : pools).SelectMany(p => p).Where(r => r.Key.List == name).ToList();
            switch (random.Next(3))
            {
                case 0 when all.Count > 0:
                    // Mostly an ID not listed (a join, an ENI attached to a listed instance); now and then any
                    // (refused: an ID twice, an ENI of an instance not listed).
                    var listed = IdsOf(list, pools);
                    var fresh = all.Where(r => !listed.Contains(r.Key.Id)
                        && (list == instances || instances.Any(i => r.Value.Contains(InstanceIdOf(i), StringComparison.Ordinal)))).ToList();
                    if (fresh.Count == 0 && random.Next(8) > 0)
                        break;
                    var (key, text) = fresh.Count > 0 && random.Next(8) > 0 ? fresh[random.Next(fresh.Count)] : all[random.Next(all.Count)];
                    list.Insert(random.Next(list.Count + 1), text);
                    // A join: the instance's ENIs (those whose text names it) come too, now and then.
                    if (list == instances && random.Next(2) == 0)
                    {
                        var attached = IdsOf(enis, pools);
                        foreach (var eni in home.Where(r => r.Key.List == "NetworkInterfaces" && !attached.Contains(r.Key.Id) && r.Value.Contains($"\"{key.Id}\"", StringComparison.Ordinal)))
                            enis.Insert(random.Next(enis.Count + 1), eni.Value);
                    }
                    break;
                case 1 when list.Count > 0:
                    var gone = list[random.Next(list.Count)];
                    list.Remove(gone);
                    // A leave: mostly its ENIs go too (an ENI left of an instance not listed is refused).
                    if (list == instances && random.Next(8) > 0)
                        enis.RemoveAll(e => e.Contains(InstanceIdOf(gone), StringComparison.Ordinal));
                    break;
                case 2 when list.Count > 0:
                    var at = random.Next(list.Count);
                    var id = all.FirstOrDefault(r => ReferenceEquals(r.Value, list[at])).Key;
                    var others = all.Where(r => r.Key == id && !ReferenceEquals(r.Value, list[at])).ToList();
                    if (others.Count > 0)
                        list[at] = others[random.Next(others.Count)].Value;
                    break;
            }
        }
        return union;
    }


    /// <summary>The IDs of a list's texts.</summary>
    private static HashSet<string> IdsOf(List<string> list, List<Dictionary<(string List, string Id), string>> pools) =>
        [.. list.Select(t => pools.SelectMany(p => p).First(r => ReferenceEquals(r.Value, t)).Key.Id)];

    /// <summary>An instance's ID as its text writes it, quoted.</summary>
    private static string InstanceIdOf(string instance) =>
        "\"" + System.Text.Json.JsonDocument.Parse(instance).RootElement.GetProperty("InstanceId").GetString() + "\"";

    /// <summary>The lists of <paramref name="last"/> with one or two groups' texts taken from another state's group of the same ID (when there is one).</summary>
    private static List<string>[] ChangeGroups(List<string>[] last, List<Dictionary<(string List, string Id), string>> pools, Random random)
    {
        var union = last.Select(l => new List<string>(l)).ToArray();
        var groups = union[0];
        for (var n = random.Next(1, 3); n > 0 && groups.Count > 0; n--)
        {
            var at = random.Next(groups.Count);
            var id = pools.SelectMany(p => p).First(r => ReferenceEquals(r.Value, groups[at])).Key;
            var others = pools.Where(p => p.TryGetValue(id, out var text) && !ReferenceEquals(text, groups[at])).ToList();
            if (others.Count > 0)
                groups[at] = others[random.Next(others.Count)][id];
        }
        return union;
    }

    /// <summary>
    /// An instance whose own <c>NetworkInterfaces</c> carries a secondary ENI's addresses takes them
    /// unless <c>$.NetworkInterfaces</c> describes that ENI (the random states' files never carry them
    /// there): the instance held from a fetch with the ENI described is read again when it is not, and back.
    /// </summary>
    [Fact]
    public void AnInstanceHeld_IsReadAgain_WhenItsSecondaryEniIsDescribedOrNoLonger()
    {
        const string Group = """{"SecurityGroupId": "sg-web", "VpcId": "vpc-a"}""";
        const string Instance = """
            {"InstanceId": "i-one", "InstanceNetworkType": "vpc",
             "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}},
             "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]},
             "NetworkInterfaces": {"NetworkInterface": [
               {"NetworkInterfaceId": "eni-second", "Type": "Secondary", "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.2"}]}}]}}
            """;
        const string Eni = """
            {"NetworkInterfaceId": "eni-second", "InstanceId": "i-one", "Type": "Secondary", "VpcId": "vpc-a", "VSwitchId": "vsw-a",
             "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.3"}]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}}
            """;
        var cache = new StateItemCache();
        // And from the read before (nineteenth session): the ENI came or went, the instance's text the same.
        var before = new StateReadBefore();
        foreach (var described in new[] { true, false, true, false })
        {
            List<string>[] union = [[Group], [Instance], described ? [Eni] : [], [], []];
            var whole = Outcome(() => StateFileReader.Read(StateParts.Write("cn-test", union)));
            Assert.Equal(whole, Outcome(() => StateFileReader.Read("cn-test", union, cache, () => StateParts.Write("cn-test", union))));
            Assert.Equal(whole, Outcome(() => StateFileReader.Read("cn-test", union, cache, () => StateParts.Write("cn-test", union), before)));
        }
        Assert.True(cache.Counts.Found > 0, "nothing was found read already");
    }

    /// <summary>
    /// An instance attached to its ENIs is taken as attached before only while the groups its ENIs
    /// name are as they were: the same texts of the instance and its ENI meet a group of the ENI now
    /// in another network (refused, as the whole read refuses it), then as before.
    /// </summary>
    [Fact]
    public void AnInstanceAttachedBefore_IsAttachedAgain_WhenItsEnisGroupChanged()
    {
        const string Web = """{"SecurityGroupId": "sg-web", "VpcId": "vpc-a"}""";
        string[] db = ["""{"SecurityGroupId": "sg-db", "VpcId": "vpc-a"}""", """{"SecurityGroupId": "sg-db", "VpcId": "vpc-b"}"""];
        const string Instance = """
            {"InstanceId": "i-one", "InstanceNetworkType": "vpc",
             "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}},
             "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}}
            """;
        const string Eni = """
            {"NetworkInterfaceId": "eni-second", "InstanceId": "i-one", "Type": "Secondary", "VpcId": "vpc-a", "VSwitchId": "vsw-a",
             "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.3"}]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}
            """;
        var cache = new StateItemCache();
        var outcomes = new List<string>();
        foreach (var group in new[] { db[0], db[1], db[0] })
        {
            List<string>[] union = [[Web, group], [Instance], [Eni], [], []];
            var whole = Outcome(() => StateFileReader.Read(StateParts.Write("cn-test", union)));
            Assert.Equal(whole, Outcome(() => StateFileReader.Read("cn-test", union, cache, () => StateParts.Write("cn-test", union))));
            outcomes.Add(whole);
        }
        Assert.StartsWith("refused", outcomes[1], StringComparison.Ordinal);
        Assert.Equal(outcomes[0], outcomes[2]);
    }

    /// <summary>Random states whose file the reader reads (the small universe draws rules ECS refuses, too).</summary>
    private static readonly Gen<NetworkState> Readable = SmallUniverse.State.Where(s => !Outcome(() => StateFileReader.Read(StateFileWriter.Write(s))).StartsWith("refused", StringComparison.Ordinal));

    /// <summary>The state as its file, or the refusal's path and message.</summary>
    private static string Outcome(Func<NetworkState> read) => Outcome(read, []);

    /// <summary>
    /// The state as its file and its indexes: of each ID of <paramref name="ids"/>, the instance found
    /// (the one listed, or none) and the group's members (their IDs, ENIs and addresses, in order) — or
    /// the refusal's path and message.
    /// </summary>
    private static string Outcome(Func<NetworkState> read, IReadOnlyList<(string List, string Id)> ids)
    {
        try
        {
            var state = read();
            var indexes = ids.Select(id => id.List switch
            {
                "Instances" => $"{id.Id}: " + (state.FindInstance(Domain.Identifiers.InstanceId.Parse(id.Id)) is not { } found ? "not found"
                    : ReferenceEquals(found, state.Instances.FirstOrDefault(i => i.Id == found.Id)) ? "found, listed" : "found, not the one listed"),
                "SecurityGroups" => $"{id.Id}: " + string.Join(" ", state.MembersOf(Domain.Identifiers.SecurityGroupId.Parse(id.Id))
                    .Select(m => $"{m.Id}/{m.NetworkInterfaceId}/{string.Join(",", m.PrivateAddresses)}")),
                _ => "",
            });
            return StateFileWriter.Write(state) + "\n" + string.Join("\n", indexes);
        }
        catch (StateFileException e)
        {
            return $"refused: {e.Message}";
        }
    }
}
