using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using Palisade.Domain.Ecs;
using Palisade.Domain.Errors;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Domain.State;

/// <summary>
/// Reads a state file — real ECS exports put together — into a <see cref="NetworkState"/>:
/// <code>
/// {"RegionId": "...",
///  "SecurityGroups": [DescribeSecurityGroupAttribute bodies, optionally merged with the group's DescribeSecurityGroups item],
///  "Instances": [DescribeInstances Instances.Instance items],
///  "PrefixLists": [optional], "PortRangeLists": [optional]}
/// </code>
/// Field names and nesting are ECS's (ecs-api.md §3.3, §3.4, §3.13). Unknown fields are ignored, as
/// ECS ignores unknown parameters. Everything ECS itself would refuse is refused here, with the JSON
/// path of the offending value.
/// </summary>
public static class StateFileReader
{
    public static NetworkState Read(string json) => Read(() => JsonDocument.Parse(json, DocumentOptions));

    /// <summary>A state file given as UTF-8 (as <see cref="StateFileWriter.Write(NetworkState, System.Buffers.IBufferWriter{byte})"/> writes it).</summary>
    public static NetworkState Read(ReadOnlyMemory<byte> utf8) => Read(() => JsonDocument.Parse(utf8, DocumentOptions));

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    private static NetworkState Read(Func<JsonDocument> parse)
    {
        JsonDocument document;
        try
        {
            document = parse();
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "unknown position";
            throw new StateFileException("$", $"not valid JSON ({where})");
        }
        using (document)
            return Read(new JsonNode(document.RootElement, "$").RequireObject());
    }

    private static NetworkState Read(JsonNode root)
    {
        var regionId = root.String("RegionId") ?? string.Empty;
        if (root.Property("SecurityGroups") is null)
            throw new StateFileException("$.SecurityGroups", "required: the list of security groups (DescribeSecurityGroupAttribute bodies)");

        var prefixLists = root.Property("PrefixLists") is { } pl ? pl.Items().Select(ReadPrefixList).ToList() : [];
        var portRangeLists = root.Property("PortRangeLists") is { } prl ? prl.Items().Select(ReadPortRangeList).ToList() : [];
        var prefixById = UniqueById(prefixLists, p => p.List.Id, "PrefixListId");
        UniqueById(portRangeLists, p => p.List.Id, "PortRangeListId");

        var groups = root.Property("SecurityGroups")!.Value.Items()
            .Select(node => ReadGroup(node, id => prefixById.TryGetValue(id, out var p) ? p.List : null))
            .ToList();
        var groupById = UniqueById(groups, g => g.Group.Id, "SecurityGroupId");

        var interfaces = root.Property("NetworkInterfaces") is { } nis ? nis.Items().Select(ReadInterface).ToList() : [];
        UniqueById(interfaces, e => e.Id, "NetworkInterfaceId");
        var described = interfaces.Select(e => e.Id).ToHashSet();
        var instances = root.Property("Instances") is { } inst ? inst.Items().Select(n => ReadInstance(n, groupById, described)).ToList() : [];
        var instanceById = UniqueById(instances, i => i.Instance.Id, "InstanceId");
        instances = AttachInterfaces(instances, instanceById, interfaces, groupById);

        return new NetworkState(regionId, groups.Select(g => g.Group), instances.Select(i => i.Instance),
            prefixLists.Select(p => p.List), portRangeLists.Select(p => p.List));
    }

    /// <summary>
    /// The state file made of these resources' texts (by list, in <see cref="PartDigest.Lists"/>' order:
    /// what <c>StateParts.Write</c> writes with <paramref name="regionId"/>), read as <see cref="Read(string)"/>
    /// reads that file, but each resource read once while its text is held (issue 17, seventeenth
    /// session: an agent in a 1,000-host account wrote and read its whole ~2.3 M-character state after
    /// every change, 14 ms and 17 MB of the 22 MB it allocated a change, for a change of one group).
    /// A resource read earlier is taken from <paramref name="cache"/> (by its text's instance) when what
    /// its reading looked up elsewhere is as it was: for a group the address family of each prefix list
    /// its rules name, for an instance each of its groups' network and type and which of its secondary
    /// ENIs <c>NetworkInterfaces</c> describes. Every check between resources (IDs twice, ENIs attached)
    /// runs as in the whole read, in the same order; when anything is refused (or a resource is not
    /// JSON) the whole text is read (<paramref name="wholeText"/>), so the refusal is the whole read's.
    /// </summary>
    public static NetworkState Read(string regionId, IReadOnlyList<IReadOnlyList<string>> lists, StateItemCache cache, Func<string> wholeText) =>
        Read(regionId, lists, cache, wholeText, null);

    /// <summary>
    /// <see cref="Read(string, IReadOnlyList{IReadOnlyList{string}}, StateItemCache, Func{string})"/>, and
    /// when this agent's read before (<paramref name="before"/>, null: none kept) had the same lists but
    /// for some groups' texts, and each such group is still the group of the same ID, network and type
    /// (a rule change): that state with those groups read and put in their places
    /// (<see cref="NetworkState.WithGroups"/>), without walking every held resource again (issue 17,
    /// eighteenth session: the walk was 1.3 ms and 1 MiB of a 1,000-host account's agent's ~4.5 ms and 2.5 MiB a change).
    /// Nothing else a resource's reading looks up depends on a group's rules, so every other resource
    /// reads as it did. Anything else (an instance, ENI or list changed, a group of another network or
    /// type) is read as without <paramref name="before"/>.
    /// </summary>
    public static NetworkState Read(string regionId, IReadOnlyList<IReadOnlyList<string>> lists, StateItemCache cache, Func<string> wholeText, StateReadBefore? before)
    {
        try
        {
            // The read before is kept again only as what it makes: its sets change in place from here.
            var last = before?.Last;
            if (before is not null)
                before.Last = null;
            if (last is not null && FromBefore(last, regionId, lists, cache) is { } derived)
            {
                before!.Last = derived;
                before.Derived++;
                // The kept read's instances and ENIs change in place (twenty-first session): their texts tell a join.
                if (!SameTexts(derived.Lists[InstancesList], last.Lists[InstancesList]) || !SameTexts(derived.Lists[InterfacesList], last.Lists[InterfacesList]))
                    before.DerivedWithInstances++;
                return derived.State;
            }
            var (state, kept) = ReadItems(regionId, lists, cache);
            if (before is not null)
                before.Last = kept;
            return state;
        }
        catch (Exception e) when (e is JsonException or StateFileException)
        {
            if (before is not null)
                before.Last = null;
            // A refusal is the whole read's, path and all (the resources taken as read keep the paths they were read at).
            return Read(wholeText());
        }
    }

    /// <summary>
    /// A read kept for the next (<see cref="StateReadBefore"/>): the lists read, the state, the groups as
    /// read, the prefix lists by ID; the instances as read before their ENIs were attached and the
    /// secondary ENIs each one's own text names, the ENIs as read (each parallel to its list); and the
    /// IDs of the instances and of the ENIs described. The two sets and the three lists are the kept read's
    /// own: a read made from it changes them in place and takes them over (the read before is never used
    /// again; twenty-first session: the lists were three arrays of ~1,100 made again a join for one
    /// instance and its ENI).
    /// </summary>
    internal sealed record KeptRead(string RegionId, IReadOnlyList<IReadOnlyList<string>> Lists, NetworkState State, ReadGroupResult[] Groups, Dictionary<PrefixListId, ReadPrefixListResult> PrefixById,
        List<ReadInstanceResult> Instances, List<NetworkInterfaceId[]> Secondaries, List<ReadInterfaceResult> Interfaces, HashSet<InstanceId> InstanceIds, HashSet<NetworkInterfaceId> Described);

    private static readonly int GroupsList = Array.FindIndex(PartDigest.Lists, l => l.List == "SecurityGroups");
    private static readonly int InstancesList = Array.FindIndex(PartDigest.Lists, l => l.List == "Instances");
    private static readonly int InterfacesList = Array.FindIndex(PartDigest.Lists, l => l.List == "NetworkInterfaces");

    /// <summary>
    /// The read of <paramref name="lists"/> from the read before, when they differ from its lists in
    /// groups' texts (each such group keeping its ID, network and type) and in a stretch of instances and
    /// ENIs (<see cref="WithInstancesRead"/>); otherwise null.
    /// </summary>
    private static KeptRead? FromBefore(KeptRead last, string regionId, IReadOnlyList<IReadOnlyList<string>> lists, StateItemCache cache)
    {
        if (last.RegionId != regionId || lists.Count != last.Lists.Count)
            return null;
        for (var l = 0; l < lists.Count; l++)
        {
            if (l != GroupsList && l != InstancesList && l != InterfacesList && !SameTexts(lists[l], last.Lists[l]))
                return null;
        }
        var (was, now) = (last.Lists[GroupsList], lists[GroupsList]);
        if (was.Count != now.Count)
            return null;
        ReadGroupResult[]? groups = null;
        bool? Family(PrefixListId id) => last.PrefixById.TryGetValue(id, out var p) ? p.List.IsV6 : null;
        for (var i = 0; i < now.Count; i++)
        {
            if (ReferenceEquals(was[i], now[i]))
                continue;
            var text = now[i];
            // As the whole walk reads a group: found read while the families of the prefix lists it names are as they were.
            var read = cache.Get<ReadGroupResult>(text, (held, looked) => Named(held.Group).Select(Family).SequenceEqual((bool?[])looked!));
            if (read is null)
            {
                read = ReadItem(text, $"$.SecurityGroups[{i}]", node => ReadGroup(node, id => last.PrefixById.TryGetValue(id, out var p) ? p.List : null));
                cache.Put(text, read, Named(read.Group).Select(Family).ToArray());
            }
            var old = last.Groups[i].Group;
            if (read.Group.Id != old.Id || read.Group.VpcId != old.VpcId || read.Group.Type != old.Type)
                return null;
            groups ??= (ReadGroupResult[])last.Groups.Clone();
            groups[i] = read;
        }
        // Nothing an instance's or ENI's reading looks up depends on a group's rules: the groups first, then the instances.
        var withGroups = groups is null ? last with { Lists = lists } : last with { Lists = lists, State = last.State.WithGroups(groups.Select(g => g.Group)), Groups = groups };
        if (SameTexts(lists[InstancesList], last.Lists[InstancesList]) && SameTexts(lists[InterfacesList], last.Lists[InterfacesList]))
            return withGroups;
        return WithInstancesRead(withGroups, last.Lists, cache);
    }

    /// <summary>
    /// The read of <paramref name="read"/>'s lists (whose groups, prefix lists and port range lists are
    /// read already) from the read before (<paramref name="lastLists"/>, its instances and ENIs), when its
    /// instances and ENIs differ from those before in one stretch each (a join, a leave, an ENI attached
    /// or detached; issue 17, nineteenth session: a join walked every held resource, ~2,200 in a
    /// 1,000-host account, for one instance and its ENI). Outside the stretches each instance and ENI
    /// is the same text in the same order, so it reads as it did, unless an ENI it names as secondary is
    /// described now and was not, or back (then null: the whole walk). The stretches' resources are read
    /// as the whole walk reads them; the instances whose ENIs came or left, and those that came, are
    /// attached again, with their ENIs in the list's order; every check the whole read makes between
    /// resources (an ID twice, an ENI of an instance not listed) is made for what changed, and whatever is
    /// refused is read whole (the caller). Null when the stretches are long (the walk is as cheap then).
    /// </summary>
    private static KeptRead? WithInstancesRead(KeptRead read, IReadOnlyList<IReadOnlyList<string>> lastLists, StateItemCache cache)
    {
        var (instanceTexts, eniTexts) = (read.Lists[InstancesList], read.Lists[InterfacesList]);
        var (ip, iOld, iNew) = Stretch(lastLists[InstancesList], instanceTexts);
        var (ep, eOld, eNew) = Stretch(lastLists[InterfacesList], eniTexts);
        if (iOld + iNew + eOld + eNew > Math.Max(64, (instanceTexts.Count + eniTexts.Count) / 8))
            return null;
        var (instanceIds, described) = (read.InstanceIds, read.Described);

        // The ENIs that came, read as the walk reads them; the IDs described now.
        var enis = new ReadInterfaceResult[eNew];
        for (var k = 0; k < eNew; k++)
        {
            var (i, text) = (ep + k, eniTexts[ep + k]);
            enis[k] = cache.Get<ReadInterfaceResult>(text, (_, _) => true)
                ?? cache.Put(text, ReadItem(text, $"$.NetworkInterfaces[{i}]", node => ReadInterface(node with { Element = node.Element.Clone() })), null);
        }
        var eniGone = CollectionsMarshal.AsSpan(read.Interfaces).Slice(ep, eOld).ToArray();
        // An instance whose text names an ENI described now and not before (or back) reads otherwise: the walk.
        foreach (var eni in eniGone)
        {
            if (!enis.Any(e => e.Id == eni.Id) && NamedOutside(read.Secondaries, ip, iOld, eni.Id))
                return null;
        }
        foreach (var eni in enis)
        {
            if (!eniGone.Any(e => e.Id == eni.Id) && NamedOutside(read.Secondaries, ip, iOld, eni.Id))
                return null;
        }
        // The owners to attach again: of the instances and ENIs that left or came; those listed before may hold ENIs outside the stretch.
        var owners = new HashSet<InstanceId>();
        var instanceGone = CollectionsMarshal.AsSpan(read.Instances).Slice(ip, iOld);
        foreach (var r in instanceGone)
            owners.Add(r.Instance.Id);
        foreach (var eni in eniGone)
        {
            if (eni.InstanceId is { } owner)
                owners.Add(owner);
        }
        foreach (var eni in enis)
        {
            if (eni.InstanceId is { } owner)
                owners.Add(owner);
        }
        var listedBefore = owners.Where(instanceIds.Contains).ToHashSet();

        // From here the two sets change in place: a refusal or null afterwards never uses this read again.
        foreach (var eni in eniGone)
            described.Remove(eni.Id);
        foreach (var eni in enis)
        {
            if (!described.Add(eni.Id))
                throw new StateFileException("$.NetworkInterfaces", $"'{eni.Id}' appears twice");
        }
        var groupById = new Dictionary<SecurityGroupId, ReadGroupResult>(read.Groups.Length);
        foreach (var g in read.Groups)
            groupById[g.Group.Id] = g;
        var same = InstanceReadSame(groupById, described);
        var instances = new ReadInstanceResult[iNew];
        var secondaries = new NetworkInterfaceId[iNew][];
        for (var k = 0; k < iNew; k++)
        {
            var (i, text) = (ip + k, instanceTexts[ip + k]);
            if (cache.Get(text, same, out var looked) is { } held)
                (instances[k], secondaries[k]) = (held, SecondariesOf((InstanceLookups)looked!));
            else
            {
                var (fresh, named) = ReadItem(text, $"$.Instances[{i}]", node => (ReadInstance(node, groupById, described), SecondaryEnis(node)));
                cache.Put(text, fresh, new InstanceLookups(InstanceGroups(fresh.Instance, groupById), [.. named.Select(e => (e, described.Contains(e)))]));
                (instances[k], secondaries[k]) = (fresh, named.Count == 0 ? [] : [.. named]);
            }
            owners.Add(instances[k].Instance.Id);
        }
        foreach (var r in instanceGone)
            instanceIds.Remove(r.Instance.Id);
        foreach (var r in instances)
        {
            if (!instanceIds.Add(r.Instance.Id))
                throw new StateFileException("$.Instances", $"'{r.Instance.Id}' appears twice");
        }

        // Each owner's instance as read and its ENIs in the list's order (those outside the stretch looked for only when it was listed before).
        var ePrefix = CollectionsMarshal.AsSpan(read.Interfaces)[..ep];
        var eSuffix = CollectionsMarshal.AsSpan(read.Interfaces)[(ep + eOld)..];
        var ownerEnis = new List<ReadInterfaceResult>();
        if (listedBefore.Count > 0)
        {
            foreach (var eni in ePrefix)
            {
                if (eni.InstanceId is { } owner && listedBefore.Contains(owner))
                    ownerEnis.Add(eni);
            }
        }
        foreach (var eni in enis)
        {
            if (eni.InstanceId is not null)
                ownerEnis.Add(eni);
        }
        if (listedBefore.Count > 0)
        {
            foreach (var eni in eSuffix)
            {
                if (eni.InstanceId is { } owner && listedBefore.Contains(owner))
                    ownerEnis.Add(eni);
            }
        }
        var ownerReads = new Dictionary<InstanceId, ReadInstanceResult>();
        foreach (var r in instances)
            ownerReads[r.Instance.Id] = r;
        // Kept instances (outside the stretch) whose ENIs changed, by where they stand.
        var keptOwners = new List<int>();
        if (listedBefore.Count > 0)
        {
            for (var k = 0; k < read.Instances.Count; k++)
            {
                if (k == ip)
                    k += iOld;
                if (k < read.Instances.Count && listedBefore.Contains(read.Instances[k].Instance.Id))
                {
                    keptOwners.Add(k);
                    ownerReads[read.Instances[k].Instance.Id] = read.Instances[k];
                }
            }
        }
        foreach (var eni in ownerEnis)
        {
            // An ENI of an instance no longer (or never) listed: refused, as the whole read refuses it.
            if (!ownerReads.ContainsKey(eni.InstanceId!.Value))
                throw new StateFileException(eni.Path, $"instance '{eni.InstanceId}' is not in $.Instances");
        }
        var attached = AttachInterfaces([.. ownerReads.Values], ownerReads, ownerEnis, groupById).ToDictionary(r => r.Instance.Id, r => r.Instance);

        // The lists and the state: the stretch put in place, the kept owners attached again. The state's instances
        // in chunks, sharing all but the stretch's and the kept owners' with the state before (twenty-fifth session:
        // a new array of every instance a join, kept with the state).
        var stateBefore = read.State.InstanceList;
        var gone = new List<Instance>(iOld + keptOwners.Count);
        var came = new List<Instance>(iNew + keptOwners.Count);
        for (var k = ip; k < ip + iOld; k++)
            gone.Add(stateBefore[k]);
        var stretch = new Instance[iNew];
        for (var k = 0; k < iNew; k++)
            came.Add(stretch[k] = attached[instances[k].Instance.Id]);
        var stateInstances = stateBefore.Spliced(ip, iOld, stretch);
        foreach (var k in keptOwners)
        {
            var at = k < ip ? k : k - iOld + iNew;
            gone.Add(stateBefore[k]);
            came.Add(attached[stateBefore[k].Id]);
            stateInstances = stateInstances.With(at, came[^1]);
        }
        var state = read.State.WithInstances(stateInstances, gone, came);
        // The stretches put in place, in the kept read's own lists (it is used up).
        Splice(read.Instances, ip, iOld, instances);
        Splice(read.Secondaries, ip, iOld, secondaries);
        Splice(read.Interfaces, ep, eOld, enis);
        return read with { State = state };
    }

    /// <summary>A kept read's list of <paramref name="items"/>, with room for some joins (its first join would double it otherwise).</summary>
    private static List<T> Spared<T>(IReadOnlyCollection<T> items)
    {
        var list = new List<T>(items.Count + Math.Max(16, items.Count / 16));
        list.AddRange(items);
        return list;
    }

    /// <summary><paramref name="list"/> with its <paramref name="count"/> items from <paramref name="at"/> replaced by <paramref name="items"/>, in place.</summary>
    private static void Splice<T>(List<T> list, int at, int count, T[] items)
    {
        var both = Math.Min(count, items.Length);
        for (var k = 0; k < both; k++)
            list[at + k] = items[k];
        if (count > both)
            list.RemoveRange(at + both, count - both);
        else if (items.Length > both)
            list.InsertRange(at + both, items.AsSpan(both));
    }

    /// <summary>
    /// Where two lists of texts differ: the length of their common start, and how many texts of each lie
    /// between it and their common end. The agent's lists are the held union's chunked lists: the chunks two
    /// share skipped whole (<see cref="ChunkedTexts.Common"/>, twenty-third session); arrays are walked as arrays
    /// (twenty-second session: ~2,200 interface calls a join through the lists); any other list is walked
    /// as a list (<see cref="StretchOfLists"/>, the twin).
    /// </summary>
    internal static (int Start, int Before, int After) Stretch(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        // The held union's lists in chunks (twenty-third session): the chunks they share skipped whole.
        if (before is ChunkedTexts a && after is ChunkedTexts b)
        {
            var (common, last) = ChunkedTexts.Common(a, b);
            return (common, a.Count - common - last, b.Count - common - last);
        }
        if (before is not string[] was || after is not string[] now)
            return StretchOfLists(before, after);
        var most = Math.Min(was.Length, now.Length);
        var start = 0;
        while (start < most && ReferenceEquals(was[start], now[start]))
            start++;
        var end = 0;
        while (end < most - start && ReferenceEquals(was[^(end + 1)], now[^(end + 1)]))
            end++;
        return (start, was.Length - start - end, now.Length - start - end);
    }

    /// <summary><see cref="Stretch"/> through the lists' indexers.</summary>
    internal static (int Start, int Before, int After) StretchOfLists(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        var most = Math.Min(before.Count, after.Count);
        var start = 0;
        while (start < most && ReferenceEquals(before[start], after[start]))
            start++;
        var end = 0;
        while (end < most - start && ReferenceEquals(before[before.Count - 1 - end], after[after.Count - 1 - end]))
            end++;
        return (start, before.Count - start - end, after.Count - start - end);
    }

    /// <summary>Whether an instance outside the stretch [<paramref name="start"/>, +<paramref name="count"/>) names <paramref name="eni"/> as its secondary ENI.</summary>
    private static bool NamedOutside(List<NetworkInterfaceId[]> secondaries, int start, int count, NetworkInterfaceId eni)
    {
        for (var k = 0; k < secondaries.Count; k++)
        {
            if ((k < start || k >= start + count) && secondaries[k].Length > 0 && secondaries[k].Contains(eni))
                return true;
        }
        return false;
    }

    /// <summary>The same texts (the same instances) in the same order.</summary>
    private static bool SameTexts(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (ReferenceEquals(a, b))
            return true;
        if (a.Count != b.Count)
            return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (!ReferenceEquals(a[i], b[i]))
                return false;
        }
        return true;
    }

    private static readonly JsonDocumentOptions ItemOptions = DocumentOptions with { MaxDepth = DocumentOptions.MaxDepth - 2 };

    /// <summary>Reads one resource's text as the whole read reads the item at <paramref name="path"/>.</summary>
    private static T ReadItem<T>(string text, string path, Func<JsonNode, T> read)
    {
        using var document = JsonDocument.Parse(text, ItemOptions);
        return read(new JsonNode(document.RootElement, path));
    }

    private static (NetworkState State, KeptRead Kept) ReadItems(string regionId, IReadOnlyList<IReadOnlyList<string>> lists, StateItemCache cache)
    {
        IReadOnlyList<string> ListOf(string name) => lists[Array.FindIndex(PartDigest.Lists, l => l.List == name)];
        var prefixLists = ListOf("PrefixLists").Select((text, i) => cache.Get<ReadPrefixListResult>(text, (_, _) => true) is { } held
            ? held
            : cache.Put(text, ReadItem(text, $"$.PrefixLists[{i}]", ReadPrefixList), null)).ToList();
        var portRangeLists = ListOf("PortRangeLists").Select((text, i) => cache.Get<ReadPortRangeListResult>(text, (_, _) => true) is { } held
            ? held
            : cache.Put(text, ReadItem(text, $"$.PortRangeLists[{i}]", ReadPortRangeList), null)).ToList();
        var prefixById = UniqueById(prefixLists, p => p.List.Id, "PrefixListId");
        UniqueById(portRangeLists, p => p.List.Id, "PortRangeListId");

        // A group's reading looked up the prefix lists its rules name (each one's family).
        var groups = ListOf("SecurityGroups").Select((text, i) =>
        {
            if (cache.Get<ReadGroupResult>(text, (held, looked) => Named(held.Group).Select(Family).SequenceEqual((bool?[])looked!)) is { } held)
                return held;
            var read = ReadItem(text, $"$.SecurityGroups[{i}]", node => ReadGroup(node, id => prefixById.TryGetValue(id, out var p) ? p.List : null));
            return cache.Put(text, read, Named(read.Group).Select(Family).ToArray());
        }).ToList();
        bool? Family(PrefixListId id) => prefixById.TryGetValue(id, out var p) ? p.List.IsV6 : null;
        var groupById = UniqueById(groups, g => g.Group.Id, "SecurityGroupId");

        {
            // An interface's JSON is looked at again when it is attached: it is kept with it (an element of its own).
            var interfaces = ListOf("NetworkInterfaces").Select((text, i) =>
            {
                if (cache.Get<ReadInterfaceResult>(text, (_, _) => true) is { } held)
                    return held;
                return cache.Put(text, ReadItem(text, $"$.NetworkInterfaces[{i}]", node => ReadInterface(node with { Element = node.Element.Clone() })), null);
            }).ToList();
            UniqueById(interfaces, e => e.Id, "NetworkInterfaceId");
            var described = interfaces.Select(e => e.Id).ToHashSet();
            var same = InstanceReadSame(groupById, described);
            var instanceTexts = ListOf("Instances");
            var instances = new List<ReadInstanceResult>(instanceTexts.Count);
            var named = new NetworkInterfaceId[instanceTexts.Count][];
            for (var i = 0; i < instanceTexts.Count; i++)
            {
                var text = instanceTexts[i];
                if (cache.Get(text, same, out var looked) is { } held)
                {
                    instances.Add(held);
                    named[i] = SecondariesOf((InstanceLookups)looked!);
                    continue;
                }
                var (read, secondaries) = ReadItem(text, $"$.Instances[{i}]", node => (ReadInstance(node, groupById, described), SecondaryEnis(node)));
                instances.Add(cache.Put(text, read, new InstanceLookups(InstanceGroups(read.Instance, groupById), [.. secondaries.Select(e => (e, described.Contains(e)))])));
                named[i] = secondaries.Count == 0 ? [] : [.. secondaries];
            }
            var instanceById = UniqueById(instances, i => i.Instance.Id, "InstanceId");
            var asRead = Spared(instances);
            instances = AttachInterfaces(instances, instanceById, instanceTexts, interfaces, ListOf("NetworkInterfaces"), groupById, cache);
            var state = new NetworkState(regionId, groups.Select(g => g.Group), instances.Select(i => i.Instance),
                prefixLists.Select(p => p.List), portRangeLists.Select(p => p.List));
            return (state, new KeptRead(regionId, lists, state, [.. groups], prefixById, asRead, Spared(named), Spared(interfaces), [.. instanceById.Keys], described));
        }
    }

    /// <summary>
    /// <see cref="AttachInterfaces(List{ReadInstanceResult}, Dictionary{InstanceId, ReadInstanceResult}, List{ReadInterfaceResult}, Dictionary{SecurityGroupId, ReadGroupResult})"/>
    /// where an instance is as it was read and attached before (the same instance read, the same
    /// interfaces' texts in the same order, its groups' network and type as they were): that instance as
    /// attached then. The others are attached as the whole read attaches them, in the list's order (an
    /// instance attached before passed every check with the same inputs, so the first refusal is the
    /// whole read's).
    /// </summary>
    private static List<ReadInstanceResult> AttachInterfaces(List<ReadInstanceResult> instances, Dictionary<InstanceId, ReadInstanceResult> byId, IReadOnlyList<string> instanceTexts,
        List<ReadInterfaceResult> interfaces, IReadOnlyList<string> interfaceTexts, Dictionary<SecurityGroupId, ReadGroupResult> groups, StateItemCache cache)
    {
        if (interfaces.Count == 0)
            return instances;
        var attachedTo = new Dictionary<InstanceId, List<string>>();
        for (var i = 0; i < interfaces.Count; i++)
        {
            if (interfaces[i].InstanceId is not { } owner)
                continue;
            if (!attachedTo.TryGetValue(owner, out var texts))
                attachedTo[owner] = texts = new List<string>(1);
            texts.Add(interfaceTexts[i]);
        }
        var held = new Dictionary<InstanceId, Instance>();
        for (var k = 0; k < instances.Count; k++)
        {
            var instance = instances[k].Instance;
            if (attachedTo.TryGetValue(instance.Id, out var texts) && cache.Attached(instanceTexts[k]) is { } earlier
                && ReferenceEquals(earlier.Base, instance) && SameTexts(earlier.Interfaces, texts) && SameGroups(earlier.Groups, groups))
                held[instance.Id] = earlier.Attached;
        }
        var attached = AttachInterfaces(instances, byId, [.. interfaces.Where(e => e.InstanceId is not { } owner || !held.ContainsKey(owner))], groups);
        for (var k = 0; k < attached.Count; k++)
        {
            var id = attached[k].Instance.Id;
            if (held.TryGetValue(id, out var instance))
                attached[k] = attached[k] with { Instance = instance };
            else if (attachedTo.TryGetValue(id, out var texts))
                cache.Attach(instanceTexts[k], new StateItemCache.Attachment(instances[k].Instance, [.. texts], attached[k].Instance,
                    [.. attached[k].Instance.AllSecurityGroupIds.Distinct().Select(g => (g, groups[g].Group.VpcId, groups[g].Group.Type))]));
        }
        return attached;
    }

    /// <summary>Whether each group is still in the state with the network and type it had.</summary>
    private static bool SameGroups((SecurityGroupId, VpcId?, SecurityGroupType)[] earlier, Dictionary<SecurityGroupId, ReadGroupResult> groups)
    {
        foreach (var (id, vpc, type) in earlier)
        {
            if (!groups.TryGetValue(id, out var now) || now.Group.VpcId != vpc || now.Group.Type != type)
                return false;
        }
        return true;
    }

    /// <summary>
    /// Whether an instance read before reads the same now: its groups' network and type and which of
    /// its secondary ENIs are described are as its reading looked them up. One delegate for every
    /// instance, and plain loops: a 1,000-host account's agent checks ~1,100 instances a walk.
    /// </summary>
    private static Func<ReadInstanceResult, object?, bool> InstanceReadSame(Dictionary<SecurityGroupId, ReadGroupResult> groupById, HashSet<NetworkInterfaceId> described) =>
        (_, looked) =>
        {
            var lookups = (InstanceLookups)looked!;
            foreach (var (id, vpc, type) in lookups.Groups)
            {
                if (!groupById.TryGetValue(id, out var now) || now.Group.VpcId != vpc || now.Group.Type != type)
                    return false;
            }
            foreach (var (id, wasDescribed) in lookups.Secondaries)
            {
                if (described.Contains(id) != wasDescribed)
                    return false;
            }
            return true;
        };

    /// <summary>What an instance's reading looked up of its groups: each one's network and type.</summary>
    private static (SecurityGroupId, VpcId?, SecurityGroupType)[] InstanceGroups(Instance instance, Dictionary<SecurityGroupId, ReadGroupResult> groupById) =>
        [.. instance.SecurityGroupIds.Select(g => (g, groupById[g].Group.VpcId, groupById[g].Group.Type))];

    private static NetworkInterfaceId[] SecondariesOf(InstanceLookups lookups) =>
        lookups.Secondaries.Length == 0 ? [] : [.. lookups.Secondaries.Select(s => s.Id)];

    /// <summary>The prefix lists a group's rules name.</summary>
    private static IEnumerable<PrefixListId> Named(SecurityGroup group) =>
        group.Rules.Select(r => r.Peer).OfType<RulePeer.PrefixList>().Select(p => p.PrefixListId);

    /// <summary>The secondary ENIs an instance's own <c>NetworkInterfaces</c> names (whose addresses it takes unless described).</summary>
    private static List<NetworkInterfaceId> SecondaryEnis(JsonNode node) =>
        [.. node.WrappedList("NetworkInterfaces", "NetworkInterface")
            .Where(nic => IsSecondary(nic.String("Type")) && NetworkInterfaceId.TryParse(nic.String("NetworkInterfaceId"), out _))
            .Select(nic => NetworkInterfaceId.Parse(nic.String("NetworkInterfaceId")!))];

    internal sealed record InstanceLookups((SecurityGroupId, VpcId?, SecurityGroupType)[] Groups, (NetworkInterfaceId Id, bool Described)[] Secondaries);

    private static Dictionary<TId, T> UniqueById<T, TId>(List<T> items, Func<T, TId> id, string field)
        where T : IHasPath
        where TId : notnull
    {
        var byId = new Dictionary<TId, T>();
        foreach (var item in items)
        {
            if (!byId.TryAdd(id(item), item))
                throw new StateFileException($"{item.Path}.{field}", $"'{id(item)}' appears twice (first at {byId[id(item)].Path})");
        }
        return byId;
    }

    internal interface IHasPath
    {
        string Path { get; }
    }

    internal sealed record ReadGroupResult(SecurityGroup Group, string Path) : IHasPath;

    internal sealed record ReadInstanceResult(Instance Instance, string Path) : IHasPath;

    internal sealed record ReadPrefixListResult(PrefixList List, string Path) : IHasPath;

    private sealed record ReadPortRangeListResult(PortRangeList List, string Path) : IHasPath;

    private static ReadGroupResult ReadGroup(JsonNode node, Func<PrefixListId, PrefixList?> findPrefixList)
    {
        node.RequireObject();
        var idText = node.RequireString("SecurityGroupId");
        if (!SecurityGroupId.TryParse(idText, out var id))
            throw new StateFileException($"{node.Path}.SecurityGroupId", $"'{idText}' is not a security group ID (sg-…)");

        VpcId? vpcId = null;
        if (node.String("VpcId") is { } vpcText)
            vpcId = VpcId.TryParse(vpcText, out var v) ? v : throw new StateFileException($"{node.Path}.VpcId", $"'{vpcText}' is not a VPC ID (vpc-…)");

        var type = SecurityGroupType.Normal;
        if (node.String("SecurityGroupType") is { } typeText && !SecurityGroupTypes.TryParse(typeText, out type))
            throw new StateFileException($"{node.Path}.SecurityGroupType", $"'{typeText}' is not a group type (normal or enterprise)");
        if (type == SecurityGroupType.Enterprise && vpcId is null)
            throw new StateFileException($"{node.Path}.SecurityGroupType", "an advanced (enterprise) group must belong to a VPC (InvalidParams.VpcIdGroupType)");

        var inner = type == SecurityGroupType.Enterprise ? InnerAccessPolicy.Drop : InnerAccessPolicy.Accept;
        if (node.String("InnerAccessPolicy") is { } innerText && !InnerAccessPolicies.TryParse(innerText, out inner))
            throw new StateFileException($"{node.Path}.InnerAccessPolicy", $"'{innerText}' is not an inner access policy (Accept or Drop)");

        var context = new RuleContext(vpcId is null, type, findPrefixList);
        var rules = new List<SecurityGroupRule>();
        var ruleIds = new HashSet<SecurityGroupRuleId>();
        var index = 0;
        foreach (var permission in node.WrappedList("Permissions", "Permission"))
        {
            index++;
            var rule = ReadRule(permission, context, id, index);
            if (!ruleIds.Add(rule.Id))
                throw new StateFileException($"{permission.Path}.SecurityGroupRuleId", $"'{rule.Id}' appears twice in this group");
            if (rule.Peer is RulePeer.PrefixList p && findPrefixList(p.PrefixListId) is null)
                throw new StateFileException(permission.Path + (rule.Direction == Direction.Ingress ? ".SourcePrefixListId" : ".DestPrefixListId"),
                    $"prefix list '{p.PrefixListId}' is not in $.PrefixLists, so the rule's addresses are unknown");
            rules.Add(rule);
        }

        var group = new SecurityGroup(id,
            node.String("SecurityGroupName") ?? string.Empty,
            node.String("Description") ?? string.Empty,
            type, vpcId, inner, [.. rules], ReadTags(node), node.Time("CreationTime"));
        return new ReadGroupResult(group, node.Path);
    }

    private static SecurityGroupRule ReadRule(JsonNode node, RuleContext context, SecurityGroupId groupId, int index)
    {
        node.RequireObject();
        var directionText = node.RequireString("Direction");
        if (!Directions.TryParse(directionText, out var direction))
            throw new StateFileException($"{node.Path}.Direction", $"'{directionText}' is not a direction (ingress or egress)");

        SecurityGroupRuleId id;
        if (node.String("SecurityGroupRuleId") is { } idText)
        {
            if (!SecurityGroupRuleId.TryParse(idText, out id))
                throw new StateFileException($"{node.Path}.SecurityGroupRuleId", $"'{idText}' is not a rule ID (sgr-…)");
        }
        else
        {
            // Exports older than rule IDs (≈2021) carry none; name the rule by its group and position.
            id = SecurityGroupRuleId.Parse($"{SecurityGroupRuleId.Prefix}{groupId.Value[SecurityGroupId.Prefix.Length..]}_{index}");
        }

        var fields = new PermissionFields
        {
            IpProtocol = node.String("IpProtocol"),
            PortRange = node.String("PortRange"),
            SourcePortRange = node.String("SourcePortRange"),
            Policy = node.String("Policy"),
            Priority = node.String("Priority"),
            NicType = node.String("NicType"),
            SourceCidrIp = node.String("SourceCidrIp"),
            Ipv6SourceCidrIp = node.String("Ipv6SourceCidrIp"),
            SourceGroupId = node.String("SourceGroupId"),
            SourceGroupOwnerAccount = node.String("SourceGroupOwnerAccount"),
            SourceGroupOwnerId = node.String("SourceGroupOwnerId"),
            SourcePrefixListId = node.String("SourcePrefixListId"),
            DestCidrIp = node.String("DestCidrIp"),
            Ipv6DestCidrIp = node.String("Ipv6DestCidrIp"),
            DestGroupId = node.String("DestGroupId"),
            DestGroupOwnerAccount = node.String("DestGroupOwnerAccount"),
            DestGroupOwnerId = node.String("DestGroupOwnerId"),
            DestPrefixListId = node.String("DestPrefixListId"),
            PortRangeListId = node.String("PortRangeListId"),
            Description = node.String("Description"),
        };
        var parsed = PermissionParser.Parse(direction, fields, context, id, node.Time("CreateTime"));
        if (!parsed.TryGet(out var rule, out var error))
            throw new StateFileException($"{node.Path}.{PermissionParser.FieldOf(error, direction)}", $"{error.Code}: {error.Message}");
        return rule;
    }

    private static ReadInstanceResult ReadInstance(JsonNode node, Dictionary<SecurityGroupId, ReadGroupResult> groups, HashSet<NetworkInterfaceId> described)
    {
        node.RequireObject();
        var idText = node.RequireString("InstanceId");
        if (!InstanceId.TryParse(idText, out var id))
            throw new StateFileException($"{node.Path}.InstanceId", $"'{idText}' is not an instance ID (i-…)");

        var vpcAttributes = node.Property("VpcAttributes");
        var vpcText = vpcAttributes?.String("VpcId");
        var networkText = node.String("InstanceNetworkType") ?? (vpcText is null ? "classic" : "vpc");
        if (!NetworkTypes.TryParse(networkText, out var networkType))
            throw new StateFileException($"{node.Path}.InstanceNetworkType", $"'{networkText}' is not a network type (vpc or classic)");

        VpcId? vpcId = null;
        VSwitchId? vSwitchId = null;
        if (networkType == NetworkType.Vpc)
        {
            if (vpcText is null)
                throw new StateFileException($"{node.Path}.VpcAttributes.VpcId", "required for an instance in a VPC");
            vpcId = VpcId.TryParse(vpcText, out var v) ? v : throw new StateFileException($"{node.Path}.VpcAttributes.VpcId", $"'{vpcText}' is not a VPC ID (vpc-…)");
            if (vpcAttributes!.Value.String("VSwitchId") is { } vswText)
                vSwitchId = VSwitchId.TryParse(vswText, out var s) ? s : throw new StateFileException($"{node.Path}.VpcAttributes.VSwitchId", $"'{vswText}' is not a vSwitch ID (vsw-…)");
        }

        var privateAddresses = new List<IpAddress>();
        var publicAddresses = new List<IpAddress>();
        void Add(List<IpAddress> into, (string Value, string Path) item)
        {
            if (!IpAddress.TryParse(item.Value, out var address))
                throw new StateFileException(item.Path, $"'{item.Value}' is not an IP address");
            if (!into.Contains(address))
                into.Add(address);
        }

        if (networkType == NetworkType.Vpc)
        {
            foreach (var item in vpcAttributes!.Value.StringList("PrivateIpAddress", "IpAddress"))
                Add(privateAddresses, item);
        }
        else
        {
            foreach (var item in node.StringList("InnerIpAddress", "IpAddress"))
                Add(privateAddresses, item);
        }
        foreach (var nic in node.WrappedList("NetworkInterfaces", "NetworkInterface"))
        {
            // A secondary ENI that $.NetworkInterfaces describes brings its own addresses and groups
            // there; in an older file it does not, and its addresses stay the instance's.
            if (IsSecondary(nic.String("Type")) && NetworkInterfaceId.TryParse(nic.String("NetworkInterfaceId"), out var eniId) && described.Contains(eniId))
                continue;
            foreach (var set in nic.WrappedList("PrivateIpSets", "PrivateIpSet"))
            {
                if (set.String("PrivateIpAddress") is { } ip)
                    Add(privateAddresses, (ip, $"{set.Path}.PrivateIpAddress"));
            }
            foreach (var set in nic.WrappedList("Ipv6Sets", "Ipv6Set"))
            {
                if (set.String("Ipv6Address") is { } ip)
                    Add(privateAddresses, (ip, $"{set.Path}.Ipv6Address"));
            }
        }
        foreach (var item in node.StringList("PublicIpAddress", "IpAddress"))
            Add(publicAddresses, item);
        if (node.Property("EipAddress") is { } eip && eip.String("IpAddress") is { } eipText)
            Add(publicAddresses, (eipText, $"{eip.Path}.IpAddress"));

        var groupIds = ReadGroupIds(node, groups, vpcId, "instance");
        var instance = new Instance(id, node.String("InstanceName") ?? string.Empty, networkType, vpcId, vSwitchId,
            [.. privateAddresses], [.. publicAddresses], [.. groupIds], node.String("Status") ?? "Running", ReadTags(node));
        return new ReadInstanceResult(instance, node.Path);
    }

    private static bool IsSecondary(string? type) => string.Equals(type, "Secondary", StringComparison.OrdinalIgnoreCase);

    /// <summary>The <c>SecurityGroupIds</c> of an instance or ENI: each in the state and in its network, of one type.</summary>
    private static List<SecurityGroupId> ReadGroupIds(JsonNode node, Dictionary<SecurityGroupId, ReadGroupResult> groups, VpcId? vpcId, string what)
    {
        var groupIds = new List<SecurityGroupId>();
        foreach (var (text, path) in node.StringList("SecurityGroupIds", "SecurityGroupId"))
        {
            if (!SecurityGroupId.TryParse(text, out var groupId))
                throw new StateFileException(path, $"'{text}' is not a security group ID (sg-…)");
            if (!groups.TryGetValue(groupId, out var group))
                throw new StateFileException(path, $"security group '{groupId}' is not in $.SecurityGroups");
            if (group.Group.VpcId != vpcId)
            {
                var where = group.Group.VpcId is { } gv ? $"VPC {gv}" : "the classic network";
                var mine = vpcId is { } iv ? $"VPC {iv}" : "the classic network";
                throw new StateFileException(path, $"security group '{groupId}' is in {where} but the {what} is in {mine} (InvalidInstanceId.Mismatch)");
            }
            if (!groupIds.Contains(groupId))
                groupIds.Add(groupId);
        }
        if (groupIds.Select(g => groups[g].Group.Type).Distinct().Count() > 1)
            throw new StateFileException($"{node.Path}.SecurityGroupIds", $"an {what} cannot be in basic and advanced groups at once (InvalidOperation.MultiGroupType)");
        return groupIds;
    }

    /// <summary>A <c>NetworkInterfaces</c> item as read, before it is attached to its instance.</summary>
    internal sealed record ReadInterfaceResult(
        NetworkInterfaceId Id, InstanceId? InstanceId, bool Secondary, VpcId? VpcId, VSwitchId? VSwitchId, MacAddress? Mac,
        List<IpAddress> Private, List<IpAddress> Public, JsonNode Node, string Path) : IHasPath;

    private static ReadInterfaceResult ReadInterface(JsonNode node)
    {
        node.RequireObject();
        var idText = node.RequireString("NetworkInterfaceId");
        if (!NetworkInterfaceId.TryParse(idText, out var id))
            throw new StateFileException($"{node.Path}.NetworkInterfaceId", $"'{idText}' is not a network interface ID (eni-…)");

        var type = node.String("Type") ?? "Secondary";
        if (!type.Equals("Primary", StringComparison.OrdinalIgnoreCase) && !IsSecondary(type))
            throw new StateFileException($"{node.Path}.Type", $"'{type}' is not a network interface type (Primary or Secondary)");

        InstanceId? instanceId = null;
        var (instanceText, instancePath) = node.String("InstanceId") is { } direct
            ? (direct, $"{node.Path}.InstanceId")
            : (node.Property("Attachment")?.String("InstanceId"), $"{node.Path}.Attachment.InstanceId");
        if (instanceText is not null)
            instanceId = InstanceId.TryParse(instanceText, out var i) ? i : throw new StateFileException(instancePath, $"'{instanceText}' is not an instance ID (i-…)");

        VpcId? vpcId = null;
        if (node.String("VpcId") is { } vpcText)
            vpcId = VpcId.TryParse(vpcText, out var v) ? v : throw new StateFileException($"{node.Path}.VpcId", $"'{vpcText}' is not a VPC ID (vpc-…)");
        VSwitchId? vSwitchId = null;
        if (node.String("VSwitchId") is { } vswText)
            vSwitchId = VSwitchId.TryParse(vswText, out var sw) ? sw : throw new StateFileException($"{node.Path}.VSwitchId", $"'{vswText}' is not a vSwitch ID (vsw-…)");
        MacAddress? mac = null;
        if (node.String("MacAddress") is { } macText)
            mac = MacAddress.TryParse(macText, out var m) ? m : throw new StateFileException($"{node.Path}.MacAddress", $"'{macText}' is not a MAC address (xx:xx:xx:xx:xx:xx)");

        var privateAddresses = new List<IpAddress>();
        var publicAddresses = new List<IpAddress>();
        void Add(List<IpAddress> into, string text, string path)
        {
            if (!IpAddress.TryParse(text, out var address))
                throw new StateFileException(path, $"'{text}' is not an IP address");
            if (!into.Contains(address))
                into.Add(address);
        }
        if (node.String("PrivateIpAddress") is { } primaryIp)
            Add(privateAddresses, primaryIp, $"{node.Path}.PrivateIpAddress");
        foreach (var set in node.WrappedList("PrivateIpSets", "PrivateIpSet"))
        {
            if (set.String("PrivateIpAddress") is { } ip)
                Add(privateAddresses, ip, $"{set.Path}.PrivateIpAddress");
            if (set.Property("AssociatedPublicIp") is { } associated && associated.String("PublicIpAddress") is { } pub)
                Add(publicAddresses, pub, $"{associated.Path}.PublicIpAddress");
        }
        foreach (var set in node.WrappedList("Ipv6Sets", "Ipv6Set"))
        {
            if (set.String("Ipv6Address") is { } ip)
                Add(privateAddresses, ip, $"{set.Path}.Ipv6Address");
        }
        if (node.Property("AssociatedPublicIp") is { } eip && eip.String("PublicIpAddress") is { } eipText)
            Add(publicAddresses, eipText, $"{eip.Path}.PublicIpAddress");
        return new ReadInterfaceResult(id, instanceId, IsSecondary(type), vpcId, vSwitchId, mac, privateAddresses, publicAddresses, node, node.Path);
    }

    /// <summary>
    /// Each attached ENI joined to its instance: a secondary one as a <see cref="NetworkInterface"/>
    /// with its groups (checked as an instance's are: in the state, in the instance's VPC, one type,
    /// at most five), a primary one as the instance's own ENI ID, addresses and groups (which must be
    /// the instance's). An address belongs to one ENI of an instance.
    /// </summary>
    private static List<ReadInstanceResult> AttachInterfaces(List<ReadInstanceResult> instances, Dictionary<InstanceId, ReadInstanceResult> byId,
        List<ReadInterfaceResult> interfaces, Dictionary<SecurityGroupId, ReadGroupResult> groups)
    {
        var updated = new Dictionary<InstanceId, Instance>();
        Instance Current(InstanceId id) => updated.TryGetValue(id, out var i) ? i : byId[id].Instance;
        foreach (var eni in interfaces)
        {
            if (eni.InstanceId is not { } instanceId)
                continue; // Available: attached to nothing, it decides nothing
            var where = eni.Node.String("InstanceId") is not null ? $"{eni.Path}.InstanceId" : $"{eni.Path}.Attachment.InstanceId";
            if (!byId.ContainsKey(instanceId))
                throw new StateFileException(where, $"instance '{instanceId}' is not in $.Instances");
            var instance = Current(instanceId);
            if (instance.NetworkType != NetworkType.Vpc)
                throw new StateFileException(where, $"instance '{instanceId}' is in the classic network; network interfaces are a VPC's (InvalidOperation.VpcMismatch)");
            if (eni.VpcId is { } vpc && vpc != instance.VpcId)
                throw new StateFileException($"{eni.Path}.VpcId", $"the network interface is in VPC {vpc} but instance '{instanceId}' is in VPC {instance.VpcId} (InvalidOperation.VpcMismatch)");
            var groupIds = ReadGroupIds(eni.Node, groups, instance.VpcId, "network interface");
            if (groupIds.Count > Instance.MaxSecurityGroups)
                throw new StateFileException($"{eni.Path}.SecurityGroupIds", $"a network interface is in at most {Instance.MaxSecurityGroups} security groups; this one names {groupIds.Count} (SecurityGroupInstanceLimitExceed)");

            if (!eni.Secondary)
            {
                if (instance.NetworkInterfaceId is { } known && known != eni.Id)
                    throw new StateFileException($"{eni.Path}.NetworkInterfaceId", $"instance '{instanceId}' already has primary network interface '{known}'");
                if (groupIds.Count > 0 && instance.SecurityGroupIds.Length > 0 && !groupIds.ToHashSet().SetEquals(instance.SecurityGroupIds))
                    throw new StateFileException($"{eni.Path}.SecurityGroupIds", $"a primary network interface's groups are its instance's, but instance '{instanceId}' is in {string.Join(", ", instance.SecurityGroupIds)}");
                CheckOwnedOnce(instance, eni, exceptPrimary: true);
                updated[instanceId] = instance with
                {
                    NetworkInterfaceId = eni.Id,
                    PrivateAddresses = [.. instance.PrivateAddresses.Concat(eni.Private).Distinct()],
                    PublicAddresses = [.. instance.PublicAddresses.Concat(eni.Public).Distinct()],
                    SecurityGroupIds = instance.SecurityGroupIds.Length > 0 ? instance.SecurityGroupIds : [.. groupIds],
                };
                continue;
            }
            CheckOwnedOnce(instance, eni, exceptPrimary: false);
            if (groupIds.Count > 0 && instance.AllSecurityGroupIds.FirstOrDefault() is { } any && groups[any].Group.Type != groups[groupIds[0]].Group.Type)
                throw new StateFileException($"{eni.Path}.SecurityGroupIds", $"the network interface's groups and instance '{instanceId}''s are of different types (InvalidOperation.MultiGroupType)");
            updated[instanceId] = instance with
            {
                SecondaryInterfaces = instance.SecondaryInterfaces.Add(
                    new NetworkInterface(eni.Id, [.. eni.Private], [.. eni.Public], [.. groupIds], eni.VSwitchId ?? instance.VSwitchId, eni.Mac)),
            };
        }
        return [.. instances.Select(r => updated.TryGetValue(r.Instance.Id, out var i) ? r with { Instance = i } : r)];
    }

    /// <summary>ECS gives an address to one ENI: one that another ENI of the instance already holds is refused.</summary>
    private static void CheckOwnedOnce(Instance instance, ReadInterfaceResult eni, bool exceptPrimary)
    {
        foreach (var nic in instance.Interfaces)
        {
            if (exceptPrimary && !nic.IsSecondaryInterface)
                continue;
            foreach (var address in eni.Private.Concat(eni.Public))
            {
                if (nic.PrivateAddresses.Contains(address) || nic.PublicAddresses.Contains(address))
                    throw new StateFileException(eni.Path, $"address {address} is already on {(nic.IsSecondaryInterface ? $"network interface '{nic.NetworkInterfaceId}'" : "the primary network interface")} of instance '{instance.Id}' (InvalidIpAddress.AlreadyExist)");
            }
        }
    }

    private static ReadPrefixListResult ReadPrefixList(JsonNode node)
    {
        node.RequireObject();
        var idText = node.RequireString("PrefixListId");
        if (!PrefixListId.TryParse(idText, out var id))
            throw new StateFileException($"{node.Path}.PrefixListId", $"'{idText}' is not a prefix list ID (pl-…)");
        var family = node.String("AddressFamily") ?? "IPv4";
        var isV6 = family.Equals("IPv6", StringComparison.OrdinalIgnoreCase);
        if (!isV6 && !family.Equals("IPv4", StringComparison.OrdinalIgnoreCase))
            throw new StateFileException($"{node.Path}.AddressFamily", $"'{family}' is not an address family (IPv4 or IPv6)");
        var entries = new List<Cidr>();
        foreach (var entry in node.WrappedList("Entries", "Entry"))
        {
            var text = entry.RequireString("Cidr");
            if (!Cidr.TryParse(text, out var cidr) || cidr.IsV6 != isV6)
                throw new StateFileException($"{entry.Path}.Cidr", $"'{text}' is not an {family} CIDR block");
            entries.Add(cidr);
        }
        return new ReadPrefixListResult(new PrefixList(id, node.String("PrefixListName") ?? string.Empty, isV6, [.. entries], MaxEntriesOf(node, entries.Count)), node.Path);
    }

    private static ReadPortRangeListResult ReadPortRangeList(JsonNode node)
    {
        node.RequireObject();
        var idText = node.RequireString("PortRangeListId");
        if (!PortRangeListId.TryParse(idText, out var id))
            throw new StateFileException($"{node.Path}.PortRangeListId", $"'{idText}' is not a port range list ID (prl-…)");
        var entries = new List<PortRange>();
        foreach (var entry in node.WrappedList("Entries", "Entry"))
        {
            var text = entry.RequireString("PortRange");
            if (!PortRange.ParseFor(IpProtocol.Tcp, text).TryGet(out var range, out var error))
                throw new StateFileException($"{entry.Path}.PortRange", $"{error.Code}: {error.Message}");
            entries.Add(range);
        }
        return new ReadPortRangeListResult(new PortRangeList(id, node.String("PortRangeListName") ?? string.Empty, [.. entries], MaxEntriesOf(node, entries.Count)), node.Path);
    }

    /// <summary>A list's optional <c>MaxEntries</c>: a whole number no smaller than its entries (0 when absent).</summary>
    private static int MaxEntriesOf(JsonNode node, int entries)
    {
        if (node.String("MaxEntries") is not { } text)
            return 0;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < entries)
            throw new StateFileException($"{node.Path}.MaxEntries", $"'{text}' is not a whole number of at least the list's {entries} entries");
        return value;
    }

    private static ImmutableArray<Tag> ReadTags(JsonNode node) =>
        [.. node.WrappedList("Tags", "Tag").Select(t => new Tag(t.RequireObject().String("TagKey") ?? t.RequireString("Key"), t.String("TagValue") ?? t.String("Value") ?? string.Empty))];
}

/// <summary>
/// One agent's read of its state kept for its next (<see cref="StateFileReader.Read(string, IReadOnlyList{IReadOnlyList{string}}, StateItemCache, Func{string}, StateReadBefore?)"/>):
/// an agent's own, never shared (the fleet bench's simulated agents share a <see cref="StateItemCache"/>, each keeps its own of these).
/// </summary>
public sealed class StateReadBefore
{
    internal StateFileReader.KeptRead? Last { get; set; }

    /// <summary>Reads made from the read before (a rule change's, a join's), for tests and the bench.</summary>
    public long Derived { get; internal set; }

    /// <summary>Of <see cref="Derived"/>, those whose instances or ENIs changed (a join's, a leave's), for tests and the bench.</summary>
    public long DerivedWithInstances { get; internal set; }
}

/// <summary>
/// The resources <see cref="StateFileReader.Read(string, IReadOnlyList{IReadOnlyList{string}}, StateItemCache, Func{string})"/>
/// read, by their text's instance, with what each reading looked up elsewhere: an entry lives while its
/// text is held. Safe to share between threads (the fleet bench's simulated agents share one).
/// </summary>
public sealed class StateItemCache
{
    private sealed record Entry(object Read, object? Looked);

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<string, Entry> _entries = new();

    /// <summary>Resources read, and resources found read already.</summary>
    public (long Read, long Found) Counts => (Interlocked.Read(ref _read), Interlocked.Read(ref _found));

    private long _read;
    private long _found;

    /// <summary>An instance as attached to its interfaces: the instance read, the interfaces' texts in order, the result, and its groups' network and type.</summary>
    internal sealed record Attachment(Instances.Instance Base, string[] Interfaces, Instances.Instance Attached, (Identifiers.SecurityGroupId, Identifiers.VpcId?, Groups.SecurityGroupType)[] Groups);

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<string, Attachment> _attached = new();

    internal Attachment? Attached(string instanceText) => _attached.TryGetValue(instanceText, out var attachment) ? attachment : null;

    internal void Attach(string instanceText, Attachment attachment) => _attached.AddOrUpdate(instanceText, attachment);

    internal T? Get<T>(string text, Func<T, object?, bool> same)
        where T : class
    {
        if (!_entries.TryGetValue(text, out var entry) || entry.Read is not T read || !same(read, entry.Looked))
            return null;
        Interlocked.Increment(ref _found);
        return read;
    }

    /// <summary><see cref="Get{T}(string, Func{T, object?, bool})"/>, with what the reading looked up.</summary>
    internal T? Get<T>(string text, Func<T, object?, bool> same, out object? looked)
        where T : class
    {
        looked = null;
        if (!_entries.TryGetValue(text, out var entry) || entry.Read is not T read || !same(read, entry.Looked))
            return null;
        Interlocked.Increment(ref _found);
        looked = entry.Looked;
        return read;
    }

    internal T Put<T>(string text, T read, object? looked)
        where T : class
    {
        Interlocked.Increment(ref _read);
        _entries.AddOrUpdate(text, new Entry(read, looked));
        return read;
    }
}
