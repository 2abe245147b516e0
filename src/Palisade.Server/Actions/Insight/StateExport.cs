using System.Text;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// An account's region written as a state file: the response bodies ECS itself would give
/// (DescribeSecurityGroupAttribute merged with the DescribeSecurityGroups item, DescribeInstances
/// items), so the offline commands read the live control plane exactly as they read a real account.
/// </summary>
internal static class StateExport
{
    public static string Json(IStoreSession s, long accountId, string regionId) =>
        Encoding.UTF8.GetString(ResponseWriter.Json(Body(s, accountId, regionId)));

    /// <param name="onlyFor">
    /// When given, only what these instances' policies depend on: their groups, the groups those
    /// groups' rules name, the instances in any of them (whose addresses the rules and inner access
    /// expand to), and the groups those instances are in. An agent needs no more, and a large
    /// account stays a small answer.
    /// </param>
    internal static EcsObject Body(IStoreSession s, long accountId, string regionId, IReadOnlySet<Domain.Identifiers.InstanceId>? onlyFor = null) =>
        Body(new Source(s, accountId, regionId), onlyFor);

    /// <summary>
    /// The region as one read loads it, so that several narrowed bodies (a host's NICs one by one,
    /// issue 17) read the store once: groups, instances, their addresses, rules as first asked for,
    /// and the lists. Immutable once loaded but for the rules, which are read as first asked for
    /// (safely from several threads): a source kept across requests for the same account revision
    /// (<see cref="Hosts.AccountViews"/>) reads them <see cref="Through"/> the asking request's session —
    /// the same rows, since the account has not changed.
    /// </summary>
    internal sealed record Source
    {
        // Not readonly: a source brought forward (Forward) is a copy with its own.
        private System.Collections.Concurrent.ConcurrentDictionary<Domain.Identifiers.SecurityGroupId, IReadOnlyList<Domain.Rules.SecurityGroupRule>> _rules;

        public Source(IStoreSession s, long accountId, string regionId)
        {
            Session = s;
            AccountId = accountId;
            RegionId = regionId;
            Groups = s.Groups.List(accountId, regionId);
            Instances = s.Instances.List(accountId, regionId);
            Addresses = new(s, accountId, regionId);
            PrefixLists = s.PrefixLists.List(accountId, regionId);
            PortRangeLists = s.PortRangeLists.List(accountId, regionId);
            _rules = [];
            // Tags of the region's groups and instances in two queries, not one per resource.
            _groupTags = s.ListTagsOfType(accountId, TaggedResourceTypes.SecurityGroup).ToLookup(t => t.ResourceId, t => t.Tag, StringComparer.Ordinal);
            _instanceTags = s.ListTagsOfType(accountId, TaggedResourceTypes.Instance).ToLookup(t => t.ResourceId, t => t.Tag, StringComparer.Ordinal);
            _interfaceTags = s.ListTagsOfType(accountId, TaggedResourceTypes.NetworkInterface).ToLookup(t => t.ResourceId, t => t.Tag, StringComparer.Ordinal);
        }

        /// <summary>
        /// The same loaded region, reading rules not read yet through <paramref name="s"/> (a read of the same
        /// account revision); with none (a host fetch served from the node's memory, issue 17) a rule not
        /// loaded is <see cref="Hosts.NotInMemoryException"/>: the fetch reads the store instead.
        /// </summary>
        public Source Through(IStoreSession? s) => this with { Session = s };

        public IStoreSession? Session { get; private init; }

        /// <summary>
        /// Every group's rules, from one query of the same read that loaded the region (issue 17: a view kept
        /// for a host fetch served from memory, which has no session to read them through later).
        /// </summary>
        public void LoadRules(IStoreSession s)
        {
            var byGroup = s.ListRulesInRegion(AccountId, RegionId).ToLookup(r => r.Group, r => r.Rule);
            foreach (var group in Groups)
                _rules.TryAdd(group.Id, [.. byGroup[group.Id]]);
        }

        public string RegionId { get; }

        public long AccountId { get; }

        public IReadOnlyList<GroupRecord> Groups { get; private init; }
        public IReadOnlyList<InstanceRecord> Instances { get; private init; }
        public RegionAddresses Addresses { get; private init; }
        public readonly IReadOnlyList<PrefixListRecord> PrefixLists;
        public readonly IReadOnlyList<PortRangeListRecord> PortRangeLists;

        // Not readonly: a source brought forward (Forward) is a copy with its own.
        private ILookup<string, Tag> _groupTags;
        private ILookup<string, Tag> _instanceTags;
        private ILookup<string, Tag> _interfaceTags;

        public IReadOnlyList<Tag> GroupTags(Domain.Identifiers.SecurityGroupId id) => [.. _groupTags[id.Value]];

        public IReadOnlyList<Tag> InstanceTags(Domain.Identifiers.InstanceId id) => [.. _instanceTags[id.Value]];

        public IReadOnlyList<Tag> InterfaceTags(Domain.Identifiers.NetworkInterfaceId id) => [.. _interfaceTags[id.Value]];

        /// <summary>
        /// The region at the next account revision, read again only where a commit changed it (issue 17,
        /// fifteenth and sixteenth sessions: <see cref="Hosts.AccountViews"/> brings its view forward): the
        /// records of <paramref name="groups"/> and their rules; those of <paramref name="instances"/> with
        /// their ENIs, tags and EIPs — an instance run is put at its place in the store's order, one deleted
        /// taken out; and the tags and EIPs of <paramref name="interfaces"/>, through <paramref name="s"/> (a
        /// read at that revision); everything else shared with this source. A group made is put at its place
        /// with its tags, one deleted taken out with its rules and tags (seventeenth session). Null when a
        /// group's or an instance's place cannot be told without the store's collation (the caller reloads whole).
        /// </summary>
        public Source? Forward(IStoreSession s, IReadOnlySet<Domain.Identifiers.SecurityGroupId> groups, IReadOnlySet<Domain.Identifiers.InstanceId> instances,
            IReadOnlySet<Domain.Identifiers.NetworkInterfaceId>? interfaces = null)
        {
            interfaces ??= new HashSet<Domain.Identifiers.NetworkInterfaceId>();
            var groupList = Groups;
            var groupTags = _groupTags;
            if (groups.Count > 0)
            {
                var list = Groups.ToList();
                var tagsOfGroups = new Dictionary<string, IReadOnlyList<Tag>>(StringComparer.Ordinal);
                foreach (var id in groups)
                {
                    var at = list.FindIndex(g => g.Id == id);
                    var now = s.Groups.Find(AccountId, id);
                    if (now is not null && now.RegionId != RegionId)
                        continue;
                    if (at >= 0 && now is not null)
                    {
                        list[at] = now;
                    }
                    else if (at >= 0)
                    {
                        // Deleted (seventeenth session): with its rules and tags.
                        list.RemoveAt(at);
                        tagsOfGroups[id.Value] = [];
                    }
                    else if (now is not null)
                    {
                        // Made (seventeenth session): at its place in the store's order, with the tags it was made with.
                        if (GroupPlaceOf(list, now) is not { } place)
                            return null;
                        list.Insert(place, now);
                        tagsOfGroups[id.Value] = s.ListTags(TaggedResourceTypes.SecurityGroup, id.Value);
                    }
                }
                groupList = list;
                groupTags = WithTags(_groupTags, tagsOfGroups);
            }
            var instanceList = Instances;
            var addresses = Addresses;
            var (instanceTags, interfaceTags) = (_instanceTags, _interfaceTags);
            if (instances.Count > 0 || interfaces.Count > 0)
            {
                var list = Instances.ToList();
                var enis = new Dictionary<Domain.Identifiers.InstanceId, IReadOnlyList<NetworkInterfaceRecord>>();
                var eips = new Dictionary<string, EipRecord?>(StringComparer.Ordinal);
                var (tagsOfInstances, tagsOfInterfaces) = (new Dictionary<string, IReadOnlyList<Tag>>(StringComparer.Ordinal), new Dictionary<string, IReadOnlyList<Tag>>(StringComparer.Ordinal));
                foreach (var id in instances)
                {
                    var at = list.FindIndex(i => i.Id == id);
                    var now = s.Instances.Find(AccountId, id);
                    if (now is not null && now.RegionId != RegionId)
                        continue;
                    if (at >= 0 && now is not null)
                    {
                        // The order's key (made, then ID) never changes: the instance stays where it is.
                        if (now.CreatedAt != list[at].CreatedAt)
                            return null;
                        list[at] = now;
                    }
                    else if (at >= 0)
                    {
                        list.RemoveAt(at);
                    }
                    else if (now is not null)
                    {
                        if (PlaceOf(list, now) is not { } place)
                            return null;
                        list.Insert(place, now);
                    }
                    else
                    {
                        // Neither here before nor now (run and deleted since, or of another region).
                        continue;
                    }
                    enis[id] = now is null ? [] : s.NetworkInterfacesOf(id);
                    tagsOfInstances[id.Value] = now is null ? [] : s.ListTags(TaggedResourceTypes.Instance, id.Value);
                    eips[id.Value] = now is null ? null : s.EipOf(id.Value);
                }
                foreach (var id in interfaces)
                {
                    tagsOfInterfaces[id.Value] = s.ListTags(TaggedResourceTypes.NetworkInterface, id.Value);
                    eips[id.Value] = s.EipOf(id.Value);
                }
                instanceList = list;
                addresses = Addresses.WithInterfacesOf(enis, eips);
                (instanceTags, interfaceTags) = (WithTags(_instanceTags, tagsOfInstances), WithTags(_interfaceTags, tagsOfInterfaces));
            }
            var rules = new System.Collections.Concurrent.ConcurrentDictionary<Domain.Identifiers.SecurityGroupId, IReadOnlyList<Domain.Rules.SecurityGroupRule>>(_rules);
            foreach (var id in groups)
            {
                if (groupList.Any(x => x.Id == id))
                    rules[id] = s.ListRules(id);
                else
                    rules.TryRemove(id, out _);
            }
            var next = this with { Session = s, Groups = groupList, Instances = instanceList, Addresses = addresses };
            next._rules = rules;
            (next._groupTags, next._instanceTags, next._interfaceTags) = (groupTags, instanceTags, interfaceTags);
            return next;
        }

        /// <summary>
        /// Where an instance goes in the region's list (<c>created_at DESC, instance_id DESC</c>), or null when
        /// it was made in the same second as another whose ID the store's collation might order otherwise than
        /// ordinal comparison does (IDs of one shape — same length, letters and digits of one case, hyphens at
        /// the same places — order alike under the C, binary and the usual language collations).
        /// </summary>
        internal static int? PlaceOf(IReadOnlyList<InstanceRecord> list, InstanceRecord record)
        {
            for (var k = 0; k < list.Count; k++)
            {
                var older = list[k].CreatedAt.CompareTo(record.CreatedAt);
                if (older < 0)
                    return k;
                if (older == 0)
                {
                    if (!OneShape(list[k].Id.Value, record.Id.Value))
                        return null;
                    if (string.CompareOrdinal(list[k].Id.Value, record.Id.Value) < 0)
                        return k;
                }
            }
            return list.Count;
        }

        /// <summary>
        /// Whether two IDs are of one shape (same length, lowercase letters and digits, hyphens at the same
        /// places): such IDs order alike under the C, binary and the usual language collations.
        /// </summary>
        private static bool OneShape(string a, string b)
        {
            if (a.Length != b.Length)
                return false;
            for (var n = 0; n < a.Length; n++)
            {
                if ((a[n] == '-') != (b[n] == '-') || !(char.IsAsciiDigit(a[n]) || char.IsAsciiLetterLower(a[n]) || a[n] == '-')
                    || !(char.IsAsciiDigit(b[n]) || char.IsAsciiLetterLower(b[n]) || b[n] == '-'))
                    return false;
            }
            return true;
        }

        /// <summary>
        /// Where a group made goes in the region's list (<c>security_group_id DESC</c>), or null when an ID it is
        /// compared with is not of its shape (then the store's collation might order them otherwise than
        /// ordinal comparison does: see <see cref="PlaceOf"/>).
        /// </summary>
        internal static int? GroupPlaceOf(IReadOnlyList<GroupRecord> list, GroupRecord record)
        {
            for (var k = 0; k < list.Count; k++)
            {
                if (!OneShape(list[k].Id.Value, record.Id.Value))
                    return null;
                if (string.CompareOrdinal(list[k].Id.Value, record.Id.Value) < 0)
                    return k;
            }
            return list.Count;
        }

        private static ILookup<string, Tag> WithTags(ILookup<string, Tag> tags, IReadOnlyDictionary<string, IReadOnlyList<Tag>> replaced) =>
            replaced.Count == 0 ? tags : tags.Where(g => !replaced.ContainsKey(g.Key)).SelectMany(g => g.Select(t => (g.Key, Tag: t)))
                .Concat(replaced.SelectMany(r => r.Value.Select(t => (r.Key, Tag: t))))
                .ToLookup(t => t.Key, t => t.Tag, StringComparer.Ordinal);

        public IReadOnlyList<Domain.Rules.SecurityGroupRule> RulesOf(Domain.Identifiers.SecurityGroupId id) =>
            _rules.TryGetValue(id, out var known) ? known : _rules.GetOrAdd(id, (Session ?? throw new Hosts.NotInMemoryException($"the rules of {id.Value}")).ListRules(id));
    }

    /// <summary>The records a body holds, in its order: what <see cref="Body(Source, IReadOnlySet{Domain.Identifiers.InstanceId}?)"/> writes.</summary>
    internal sealed record Part(
        IReadOnlyList<GroupRecord> Groups,
        IReadOnlyList<InstanceRecord> Instances,
        IReadOnlyList<NetworkInterfaceRecord> Interfaces,
        IReadOnlyList<PrefixListRecord> PrefixLists,
        IReadOnlyList<PortRangeListRecord> PortRangeLists);

    /// <summary>The records of the region, or of what <paramref name="onlyFor"/>'s policies depend on (see <see cref="Body(IStoreSession, long, string, IReadOnlySet{Domain.Identifiers.InstanceId}?)"/>).</summary>
    internal static Part Select(Source source, IReadOnlySet<Domain.Identifiers.InstanceId>? onlyFor)
    {
        var groups = source.Groups;
        var instances = source.Instances;
        var addresses = source.Addresses;
        var RulesOf = source.RulesOf;
        // An instance's groups are those of every ENI attached to it (its own are its primary ENI's).
        IEnumerable<Domain.Identifiers.SecurityGroupId> GroupsOf(InstanceRecord i) =>
            i.SecurityGroupIds.Concat(addresses.Interfaces(i.Id).SelectMany(e => e.SecurityGroupIds));
        if (onlyFor is not null)
        {
            var own = instances.Where(i => onlyFor.Contains(i.Id)).SelectMany(GroupsOf).ToHashSet();
            var relevant = own.Concat(own.SelectMany(g => RulesOf(g)).Select(r => r.Peer).OfType<Domain.Rules.RulePeer.Group>().Select(p => p.GroupId)).ToHashSet();
            instances = [.. instances.Where(i => onlyFor.Contains(i.Id) || GroupsOf(i).Any(relevant.Contains))];
            // Every group an included instance is in stays in the file, so that the file says the
            // truth about its memberships (and reads back); their other members are not needed.
            var listed = relevant.Concat(instances.SelectMany(GroupsOf)).ToHashSet();
            groups = [.. groups.Where(g => listed.Contains(g.Id))];
        }
        // The ENIs of the file's instances (primary and secondary): a secondary ENI's own addresses,
        // groups and EIP decide its traffic.
        var interfaces = instances.SelectMany(i => addresses.Interfaces(i.Id)).ToList();
        // The lists the file's rules name (all of the region's when not narrowed).
        var named = groups.SelectMany(g => RulesOf(g.Id)).ToList();
        var prefixLists = source.PrefixLists
            .Where(l => onlyFor is null || named.Any(r => r.Peer is Domain.Rules.RulePeer.PrefixList p && p.PrefixListId == l.Id)).ToList();
        var portRangeLists = source.PortRangeLists
            .Where(l => onlyFor is null || named.Any(r => r.PortRangeListId == l.Id)).ToList();
        return new Part(groups, instances, interfaces, prefixLists, portRangeLists);
    }

    internal static EcsObject Body(Source source, IReadOnlySet<Domain.Identifiers.InstanceId>? onlyFor) => Body(source, Select(source, onlyFor));

    internal static EcsObject Body(Source source, Part part)
    {
        var body = new EcsObject
        {
            { "RegionId", source.RegionId },
            { "SecurityGroups", part.Groups.Select(g => GroupItem(source, g)).ToList() },
            { "Instances", part.Instances.Select(i => InstanceItem(source, i)).ToList() },
        };
        // Absent when there are none, as in files made before them.
        if (part.Interfaces.Count > 0)
            body.Add("NetworkInterfaces", part.Interfaces.Select(e => InterfaceItem(source, e)).ToList());
        if (part.PrefixLists.Count > 0)
            body.Add("PrefixLists", part.PrefixLists.Select(PrefixLists.PrefixListRequests.Attributes).ToList());
        if (part.PortRangeLists.Count > 0)
            body.Add("PortRangeLists", part.PortRangeLists.Select(PortRangeLists.PortRangeListRequests.Attributes).ToList());
        return body;
    }

    /// <summary>A body of items already rendered, in the layout of <see cref="Body(Source, Part)"/> (the lists absent as there).</summary>
    internal static EcsObject Body(string regionId, IReadOnlyList<EcsObject> groups, IReadOnlyList<EcsObject> instances, IReadOnlyList<EcsObject> interfaces, IReadOnlyList<EcsObject> prefixLists, IReadOnlyList<EcsObject> portRangeLists)
    {
        var body = new EcsObject
        {
            { "RegionId", regionId },
            { "SecurityGroups", groups },
            { "Instances", instances },
        };
        if (interfaces.Count > 0)
            body.Add("NetworkInterfaces", interfaces);
        if (prefixLists.Count > 0)
            body.Add("PrefixLists", prefixLists);
        if (portRangeLists.Count > 0)
            body.Add("PortRangeLists", portRangeLists);
        return body;
    }

    /// <summary>A group as the file holds it: the DescribeSecurityGroups item with its rules.</summary>
    internal static EcsObject GroupItem(Source source, GroupRecord g) => new()
    {
        { "SecurityGroupId", g.Id.Value },
        { "SecurityGroupName", g.Name },
        { "Description", g.Description },
        { "VpcId", g.VpcId?.Value ?? "" },
        { "SecurityGroupType", g.Type.ToWire() },
        { "InnerAccessPolicy", g.InnerAccessPolicy.ToWire() },
        { "CreationTime", Time.Format(g.CreatedAt) },
        { "Tags", Views.Tags(source.GroupTags(g.Id)) },
        { "Permissions", EcsList.Of("Permission", source.RulesOf(g.Id).Select(r => Views.Permission(r))) },
    };

    internal static EcsObject InstanceItem(Source source, InstanceRecord i) =>
        Views.Instance(i, source.InstanceTags(i.Id), source.Addresses.Interfaces(i.Id), source.Addresses.EipOfInstance(i));

    internal static EcsObject InterfaceItem(Source source, NetworkInterfaceRecord e) =>
        Views.NetworkInterface(e, source.InterfaceTags(e.Id), source.AccountId, source.Addresses.EipOf(e.Id.Value));
}
