using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;

namespace Palisade.Domain.State;

/// <summary>
/// Everything one region of one account holds that decides traffic: groups with their rules,
/// instances with their groups and addresses, prefix lists and port range lists. Immutable, and
/// indexed once on construction so that compiling a NIC's policy never scans the whole state.
/// </summary>
public sealed class NetworkState
{
    private FrozenDictionary<SecurityGroupId, SecurityGroup> _groups; // replaced only in a fresh copy (WithGroups)
    private FrozenDictionary<InstanceId, Instance> _instances; // replaced only in a fresh copy (WithInstances)
    /// <summary>Instances that came, left (null) or were replaced since <see cref="_instances"/> was built (WithInstances); null: none.</summary>
    private Dictionary<InstanceId, Instance?>? _instancesSince;
    private FrozenDictionary<SecurityGroupId, ImmutableArray<Instance>> _members; // replaced only in a fresh copy (WithInstances)
    /// <summary>Groups whose members changed since <see cref="_members"/> was built (WithInstances), with their members now; null: none.</summary>
    private Dictionary<SecurityGroupId, ImmutableArray<Instance>>? _membersSince;
    private FrozenDictionary<PrefixListId, PrefixList> _prefixLists; // replaced only in a fresh copy (WithPrefixLists)
    private readonly FrozenDictionary<PortRangeListId, PortRangeList> _portRangeLists;

    // The instances as one array, in chunks, or both: each made of the other when first asked for (issue 17,
    // twenty-fifth session). A state made anew has the array; one made by the agent's read of a join
    // (WithInstances of chunks) has the chunks, sharing all but one with the state before's, and makes the
    // array only if something reads Instances (nothing on the agent's path does). Set once each: a reader
    // racing another makes the same items and the first one set is kept.
    private Instance[]? _instanceArray;
    private InstanceChunks? _instanceChunks;

    public NetworkState(
        string regionId,
        IEnumerable<SecurityGroup> groups,
        IEnumerable<Instance> instances,
        IEnumerable<PrefixList>? prefixLists = null,
        IEnumerable<PortRangeList>? portRangeLists = null)
    {
        RegionId = regionId;
        Groups = [.. groups];
        _instanceArray = [.. instances];
        PrefixLists = [.. prefixLists ?? []];
        PortRangeLists = [.. portRangeLists ?? []];
        _groups = Groups.ToFrozenDictionary(g => g.Id);
        _instances = Instances.ToFrozenDictionary(i => i.Id);
        _prefixLists = PrefixLists.ToFrozenDictionary(p => p.Id);
        _portRangeLists = PortRangeLists.ToFrozenDictionary(p => p.Id);
        _members = MembersByGroup(Instances);
    }

    /// <summary>
    /// This state with its prefix lists replaced, sharing its groups, instances and their indexes: a
    /// prefix-list edit's state after, without indexing every instance and group again.
    /// </summary>
    public NetworkState WithPrefixLists(IEnumerable<PrefixList> prefixLists)
    {
        var after = (NetworkState)MemberwiseClone();
        after.PrefixLists = [.. prefixLists];
        after._prefixLists = after.PrefixLists.ToFrozenDictionary(p => p.Id);
        return after;
    }

    /// <summary>
    /// This state with its groups replaced by groups of the same IDs, networks and types (their rules,
    /// names, tags changed), sharing its instances, lists and their indexes: the state after a rule
    /// change, without indexing every instance again (issue 17, eighteenth session: the agent's read of
    /// a rule change). The members of a group are its instances', so they stay as they are.
    /// </summary>
    public NetworkState WithGroups(IEnumerable<SecurityGroup> groups)
    {
        var after = (NetworkState)MemberwiseClone();
        after.Groups = [.. groups];
        if (after.Groups.Length != Groups.Length || after.Groups.Where((g, i) => g.Id != Groups[i].Id || g.VpcId != Groups[i].VpcId || g.Type != Groups[i].Type).Any())
            throw new ArgumentException("the groups replaced must be the same groups, in the same order, of the same networks and types", nameof(groups));
        after._groups = after.Groups.ToFrozenDictionary(g => g.Id);
        return after;
    }

    /// <summary>
    /// This state with <paramref name="instances"/> for its instances, which are its own but for the
    /// instances <paramref name="gone"/> (this state's, left or replaced) and those that
    /// <paramref name="came"/> (new or replacing), the others the same objects: the state after a join,
    /// a leave, an ENI attached or detached, with its indexes changed by the difference, not built
    /// again (issue 17, nineteenth session: the agent's read of a join made a state of ~1,100 instances
    /// and their indexes for one instance more). The groups whose members changed — every group of an
    /// interface of an instance gone or come — get their members again in state order: their members
    /// before with the gone instances' taken out and the come ones' put in where they stand, when the
    /// kept instances are in the same order (a splice: <see cref="PlacesOfCame"/>), else by walking
    /// every instance; every other group keeps its members array (so what was made of it, the
    /// renderer's member set, stays found).
    /// Instances found by ID look at the instances changed since the index was built first, and the
    /// index is built again once those are many. The constructor is the slow twin (<c>NetworkStateTests</c>).
    /// </summary>
    public NetworkState WithInstances(ImmutableArray<Instance> instances, IReadOnlyCollection<Instance> gone, IReadOnlyCollection<Instance> came)
    {
        var after = WithInstancesOf(instances, new Reading(Instances), new Reading(instances), gone, came);
        (after._instanceArray, after._instanceChunks) = (ImmutableCollectionsMarshal.AsArray(instances), null);
        return after;
    }

    /// <summary>
    /// <see cref="WithInstances(ImmutableArray{Instance}, IReadOnlyCollection{Instance}, IReadOnlyCollection{Instance})"/>
    /// of the instances in chunks, made from this state's (<see cref="InstanceChunks"/>): the agent's read of a join
    /// (twenty-fifth session), which keeps the state it makes and so would keep a new array of every instance a join.
    /// The array's overload is the slow twin (<c>NetworkStateWithInstancesTests</c>).
    /// </summary>
    internal NetworkState WithInstances(InstanceChunks instances, IReadOnlyCollection<Instance> gone, IReadOnlyCollection<Instance> came)
    {
        var after = WithInstancesOf(instances, new Reading(InstanceList), new Reading(instances), gone, came);
        (after._instanceArray, after._instanceChunks) = (null, instances);
        return after;
    }

    private NetworkState WithInstancesOf(IReadOnlyList<Instance> instances, Reading before, Reading reading, IReadOnlyCollection<Instance> gone, IReadOnlyCollection<Instance> came)
    {
        // The cheap guard: each gone instance is this state's, each come one's ID new or gone, and the counts add up.
        var goneIds = new HashSet<InstanceId>(gone.Count);
        foreach (var instance in gone)
        {
            if (!ReferenceEquals(FindInstance(instance.Id), instance) || !goneIds.Add(instance.Id))
                throw new ArgumentException($"instance {instance.Id} is not this state's to replace", nameof(gone));
        }
        var cameIds = new HashSet<InstanceId>(came.Count);
        foreach (var instance in came)
        {
            if (!cameIds.Add(instance.Id) || (FindInstance(instance.Id) is not null && !goneIds.Contains(instance.Id)))
                throw new ArgumentException($"instance {instance.Id} is this state's already", nameof(came));
        }
        if (instances.Count != before.Count - gone.Count + came.Count)
            throw new ArgumentException("the instances are not this state's with those gone and those come", nameof(instances));

        var after = (NetworkState)MemberwiseClone();
        var since = _instancesSince is { } held ? new Dictionary<InstanceId, Instance?>(held) : new Dictionary<InstanceId, Instance?>(gone.Count + came.Count);
        foreach (var instance in gone)
            since[instance.Id] = null;
        foreach (var instance in came)
            since[instance.Id] = instance;
        if (since.Count > Math.Max(64, instances.Count / 8))
            (after._instances, after._instancesSince) = (instances.ToFrozenDictionary(i => i.Id), null);
        else
            after._instancesSince = since;

        // The groups whose members changed: every group of an interface of an instance gone or come.
        var changed = new HashSet<SecurityGroupId>();
        foreach (var instance in gone.Concat(came))
            changed.UnionWith(instance.AllSecurityGroupIds);
        if (changed.Count == 0)
            return after;
        // Their members again in state order, beside the index as the instances are (twenty-first session:
        // every group's members were copied into a new frozen index a join, for the one group joined); the
        // index is built again once they are many. A group left without members is found empty either way.
        // Each group's members are its held members with those of the instances gone taken out and those of
        // the instances come put in at their places (twenty-second session: every instance was walked and
        // each of its groups looked up, ~1,100 string hashes a join, to add one member to one group); every
        // instance is walked only when the kept instances are not in the same order.
        var membersSince = _membersSince is { } heldMembers ? new Dictionary<SecurityGroupId, ImmutableArray<Instance>>(heldMembers) : new Dictionary<SecurityGroupId, ImmutableArray<Instance>>(changed.Count);
        var goneSet = new InstanceSet(gone as Instance[] ?? [.. gone]);
        if (PlacesOfCame(before, reading, goneSet, new InstanceSet(came as Instance[] ?? [.. came])) is { } places)
        {
            foreach (var group in changed)
                membersSince[group] = Merged(MembersOf(group), reading, goneSet, places, group);
        }
        else
        {
            foreach (var (group, list) in MembersWalked(instances, changed))
                membersSince[group] = list;
        }
        if (membersSince.Count <= Math.Max(4, _members.Count / 8))
        {
            after._membersSince = membersSince;
            return after;
        }
        var members = new Dictionary<SecurityGroupId, ImmutableArray<Instance>>(_members.Count + membersSince.Count);
        foreach (var (group, kept) in _members)
        {
            if (!membersSince.ContainsKey(group))
                members.Add(group, kept);
        }
        foreach (var (group, list) in membersSince)
        {
            if (list.Length > 0)
                members.Add(group, list);
        }
        (after._members, after._membersSince) = (members.ToFrozenDictionary(), null);
        return after;
    }

    /// <summary>
    /// Where each instance that came stands in <paramref name="instances"/>, in ascending order, when
    /// those are this state's instances in the same order with the gone ones taken out and the come
    /// ones put in; null otherwise. One walk of the two lists side by side, comparing references: a
    /// kept instance is the same object in both, so a place where they differ is a gone or come one's.
    /// </summary>
    private static int[]? PlacesOfCame(Reading before, Reading instances, InstanceSet gone, InstanceSet came)
    {
        var places = new int[came.Length];
        var (o, n, goneSeen, cameSeen) = (0, 0, 0, 0);
        while (n < instances.Count)
        {
            if (o < before.Count && ReferenceEquals(before[o], instances[n]))
                (o, n) = (o + 1, n + 1);
            else if (o < before.Count && gone.Holds(before[o]))
                (o, goneSeen) = (o + 1, goneSeen + 1);
            else if (cameSeen < places.Length && came.Holds(instances[n]))
                places[cameSeen++] = n++;
            else
                return null;
        }
        for (; o < before.Count; o++, goneSeen++)
        {
            if (!gone.Holds(before[o]))
                return null;
        }
        return goneSeen == gone.Length && cameSeen == places.Length ? places : null;
    }

    /// <summary>
    /// <paramref name="group"/>'s members in <paramref name="instances"/>' order, from its members
    /// before (<paramref name="held"/>, in this state's order): those of the instances gone taken out,
    /// those of the instances at <paramref name="places"/> (come, ascending) put in where they stand.
    /// The kept instances are in the same order in both states (<see cref="PlacesOfCame"/>), and each
    /// one's members are the same ENIs, next to each other: the held members before a come instance's
    /// place are those of the kept instances before it, found by walking the instances up to that
    /// place and comparing references. The members of an instance with secondary ENIs are views of it
    /// (<see cref="Instance.Interfaces"/>), its ID theirs.
    /// </summary>
    private static ImmutableArray<Instance> Merged(ImmutableArray<Instance> held, Reading instances, InstanceSet gone, int[] places, SecurityGroupId group)
    {
        var count = held.Length;
        if (gone.Length > 0)
        {
            foreach (var member in held)
            {
                if (gone.HoldsEniOf(member))
                    count--;
            }
        }
        foreach (var place in places)
            count += MemberCount(instances[place], group);
        if (count == 0)
            return [];
        var members = ImmutableArray.CreateBuilder<Instance>(count);
        var (j, n) = (Kept(0), 0);
        foreach (var place in places)
        {
            var instance = instances[place];
            if (MemberCount(instance, group) == 0)
                continue;
            // The kept members of the instances before this one's place (none left: nothing to walk).
            for (; n < place && j < held.Length; n++)
            {
                while (j < held.Length && InstanceSet.IsOf(held[j], instances[n]))
                {
                    members.Add(held[j]);
                    j = Kept(j + 1);
                }
            }
            if (instance.SecondaryInterfaces.Length == 0)
                members.Add(instance);
            else
            {
                foreach (var nic in instance.Interfaces)
                {
                    if (nic.SecurityGroupIds.Contains(group))
                        members.Add(nic);
                }
            }
        }
        for (; j < held.Length; j = Kept(j + 1))
            members.Add(held[j]);
        return members.MoveToImmutable();

        // The first held member from k on that is not an ENI of an instance gone.
        int Kept(int k)
        {
            while (k < held.Length && gone.Length > 0 && gone.HoldsEniOf(held[k]))
                k++;
            return k;
        }
    }

    /// <summary>
    /// A state's instances (an array or chunks) read by index a chunk at a time (twenty-fifth session): the walks of
    /// <see cref="PlacesOfCame"/> and <see cref="Merged"/> go in order, and a search of the chunks per instance cost
    /// the agent's join ~10 %. Passed by value: each walk its own window.
    /// </summary>
    private struct Reading
    {
        private readonly InstanceChunks? _chunks;
        private Instance[] _window;
        private int _start;

        public Reading(ImmutableArray<Instance> instances) => (_window, Count) = (ImmutableCollectionsMarshal.AsArray(instances) ?? [], instances.IsDefault ? 0 : instances.Length);

        public Reading(InstanceChunks instances) => (_chunks, _window, Count) = (instances, [], instances.Count);

        public int Count { get; }

        public Instance this[int index]
        {
            get
            {
                var k = index - _start;
                if ((uint)k >= (uint)_window.Length && _chunks is not null)
                {
                    _window = _chunks.ChunkAt(index, out _start);
                    k = index - _start;
                }
                return _window[k];
            }
        }
    }

    /// <summary>How many of <paramref name="instance"/>'s ENIs are in <paramref name="group"/> (each once, however often it names the group).</summary>
    private static int MemberCount(Instance instance, SecurityGroupId group)
    {
        var count = instance.SecurityGroupIds.Contains(group) ? 1 : 0;
        foreach (var eni in instance.SecondaryInterfaces)
        {
            if (!eni.SecurityGroupIds.IsDefault && eni.SecurityGroupIds.Contains(group))
                count++;
        }
        return count;
    }

    /// <summary>
    /// The members of <paramref name="groups"/> in state order by walking every instance (as
    /// <see cref="MembersByGroup"/> does, for those groups only): what <see cref="WithInstances(ImmutableArray{Instance}, IReadOnlyCollection{Instance}, IReadOnlyCollection{Instance})"/> does
    /// when the instances are not this state's in the same order.
    /// </summary>
    private static Dictionary<SecurityGroupId, ImmutableArray<Instance>> MembersWalked(IEnumerable<Instance> instances, IEnumerable<SecurityGroupId> groups)
    {
        var changed = new Dictionary<SecurityGroupId, ImmutableArray<Instance>.Builder>();
        foreach (var group in groups)
            changed.Add(group, ImmutableArray.CreateBuilder<Instance>());
        // Made once, not for each instance with a secondary ENI (~1,000 delegates and closures a join).
        Func<SecurityGroupId, bool> isChanged = changed.ContainsKey;
        Func<NetworkInterface, bool> eniChanged = e => !e.SecurityGroupIds.IsDefault && e.SecurityGroupIds.Any(isChanged);
        foreach (var instance in instances)
        {
            if (instance.SecondaryInterfaces.Length == 0)
            {
                AddMember(changed, instance, onlyThese: true);
                continue;
            }
            // A secondary ENI's view is made only when one of its groups changed.
            if (!instance.SecurityGroupIds.Any(isChanged) && !instance.SecondaryInterfaces.Any(eniChanged))
                continue;
            foreach (var nic in instance.Interfaces)
                AddMember(changed, nic, onlyThese: true);
        }
        return changed.ToDictionary(c => c.Key, c => c.Value.Count > 0 ? c.Value.ToImmutable() : []);
    }

    /// <summary>
    /// Each group's members in state order: its member ENIs, each once per group — an instance's
    /// primary ENI is the instance itself, a secondary ENI its view (<see cref="Instance.Interfaces"/>).
    /// A plain loop: the what-if builds a state per question, and grouping 10,000 instances through
    /// LINQ took most of its time.
    /// </summary>
    private static FrozenDictionary<SecurityGroupId, ImmutableArray<Instance>> MembersByGroup(ImmutableArray<Instance> instances)
    {
        var members = new Dictionary<SecurityGroupId, ImmutableArray<Instance>.Builder>();
        foreach (var instance in instances)
        {
            if (instance.SecondaryInterfaces.Length == 0)
                AddMember(members, instance);
            else
                foreach (var nic in instance.Interfaces)
                    AddMember(members, nic);
        }
        return members.ToFrozenDictionary(m => m.Key, m => m.Value.ToImmutable());
    }

    /// <param name="onlyThese">True: only the groups <paramref name="members"/> holds already get the member.</param>
    private static void AddMember(Dictionary<SecurityGroupId, ImmutableArray<Instance>.Builder> members, Instance instance, bool onlyThese = false)
    {
        var groups = instance.SecurityGroupIds;
        for (var k = 0; k < groups.Length; k++)
        {
            if (groups.IndexOf(groups[k]) != k)
                continue; // named twice: a member once
            if (!members.TryGetValue(groups[k], out var list))
            {
                if (onlyThese)
                    continue;
                members.Add(groups[k], list = ImmutableArray.CreateBuilder<Instance>());
            }
            list.Add(instance);
        }
    }

    public string RegionId { get; }

    public ImmutableArray<SecurityGroup> Groups { get; private set; }

    public ImmutableArray<Instance> Instances =>
        ImmutableCollectionsMarshal.AsImmutableArray(_instanceArray ?? Interlocked.CompareExchange(ref _instanceArray, _instanceChunks!.ToArray(), null) ?? _instanceArray);

    /// <summary>The instances in chunks (made of the array when first asked for): what the agent's read of a join makes its state's of.</summary>
    internal InstanceChunks InstanceList =>
        _instanceChunks ?? Interlocked.CompareExchange(ref _instanceChunks, InstanceChunks.Of(_instanceArray!), null) ?? _instanceChunks!;

    public ImmutableArray<PrefixList> PrefixLists { get; private set; }

    public ImmutableArray<PortRangeList> PortRangeLists { get; }

    public SecurityGroup? FindGroup(SecurityGroupId id) => _groups.GetValueOrDefault(id);

    public Instance? FindInstance(InstanceId id) =>
        _instancesSince is { } since && since.TryGetValue(id, out var changed) ? changed : _instances.GetValueOrDefault(id);

    public PrefixList? FindPrefixList(PrefixListId id) => _prefixLists.GetValueOrDefault(id);

    public PortRangeList? FindPortRangeList(PortRangeListId id) => _portRangeLists.GetValueOrDefault(id);

    /// <summary>How many groups' members are found beside the index (<see cref="WithInstances(ImmutableArray{Instance}, IReadOnlyCollection{Instance}, IReadOnlyCollection{Instance})"/>), for tests.</summary>
    internal int MembersChangedSinceIndex => _membersSince?.Count ?? 0;

    /// <summary>
    /// The ENIs in <paramref name="groupId"/>, in state order: an instance when its primary ENI is,
    /// the view of a secondary ENI (<see cref="Instance.Interfaces"/>) when that ENI is. A group's
    /// members are ENIs: a group-peer rule and inner access match the addresses of these alone.
    /// </summary>
    public ImmutableArray<Instance> MembersOf(SecurityGroupId groupId) =>
        _membersSince is { } since && since.TryGetValue(groupId, out var changed) ? changed
        : _members.TryGetValue(groupId, out var members) ? members : [];
}
