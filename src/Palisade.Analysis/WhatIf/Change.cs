using System.Collections.Immutable;

namespace Palisade.Analysis.WhatIf;

/// <summary>A change an API call could make, applied to a state to give the state after it. Pure.</summary>
public abstract record Change
{
    public abstract string Describe();

    /// <summary>The state after the change; an <see cref="ArgumentException"/> when the change does not fit the state.</summary>
    public abstract NetworkState ApplyTo(NetworkState state);

    /// <summary>
    /// The instances whose NIC policy the change can alter (in the state before): only flows from or to
    /// them can be gained or lost.
    /// </summary>
    public abstract IReadOnlySet<InstanceId> Affected(NetworkState state);

    /// <summary>
    /// The one group whose own rules or settings the change alters, when that is all it alters: then an
    /// ENI outside that group keeps its policy even on an affected instance (whose other ENI is in it).
    /// Null when the change may alter other policies (a membership change, which other groups' rules see).
    /// </summary>
    public virtual SecurityGroupId? OnlyGroupAltered(NetworkState state) => null;

    /// <summary>
    /// The groups whose rules or settings the change alters, when that is all it alters (as
    /// <see cref="OnlyGroupAltered"/>, for a change that alters several groups' answers at once: a
    /// prefix-list edit alters every group whose rules name the list). Null when the change may alter
    /// other policies.
    /// </summary>
    public virtual IReadOnlySet<SecurityGroupId>? GroupsAltered(NetworkState state) =>
        OnlyGroupAltered(state) is { } group ? new HashSet<SecurityGroupId> { group } : null;

    protected static SecurityGroupId? OwnerOf(NetworkState state, SecurityGroupRuleId rule) =>
        state.Groups.FirstOrDefault(g => g.Rules.Any(r => r.Id == rule))?.Id;

    protected static HashSet<InstanceId> MembersOf(NetworkState s, SecurityGroupId group) => [.. s.MembersOf(group).Select(i => i.Id)];

    protected static NetworkState With(NetworkState s, IEnumerable<SecurityGroup>? groups = null, IEnumerable<Instance>? instances = null) =>
        new(s.RegionId, groups ?? s.Groups, instances ?? s.Instances, s.PrefixLists, s.PortRangeLists);

    protected static SecurityGroup GroupOf(NetworkState s, SecurityGroupId id) =>
        s.FindGroup(id) ?? throw new ArgumentException($"no security group {id} in the state");

    protected static Instance InstanceOf(NetworkState s, InstanceId id) =>
        s.FindInstance(id) ?? throw new ArgumentException($"no instance {id} in the state");

    public sealed record Authorize(SecurityGroupId Group, SecurityGroupRule Rule) : Change
    {
        public override string Describe() => $"authorize in {Group}: {Rule.Direction.ToString().ToLowerInvariant()} {Rule.Policy.ToLower()} {Rule.Protocol.ToWire()} {Rule.Ports} {(Rule.Direction == Domain.Networking.Direction.Ingress ? "from" : "to")} {Rule.Peer} priority {Rule.Priority}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) => MembersOf(state, Group);

        public override SecurityGroupId? OnlyGroupAltered(NetworkState state) => Group;

        public override NetworkState ApplyTo(NetworkState state)
        {
            var group = GroupOf(state, Group);
            if (group.Rules.Any(r => r.Identity == Rule.Identity))
                return state; // ECS: authorizing an existing rule changes nothing
            return With(state, groups: state.Groups.Select(g => g.Id == Group ? g with { Rules = g.Rules.Add(Rule) } : g));
        }
    }

    /// <summary>
    /// Several rules of one group replaced at once (what <c>palisade suggest --apply</c> does: the new
    /// rules authorized, then the old ones revoked): <paramref name="Removed"/> go, <paramref name="Added"/> come.
    /// </summary>
    public sealed record ReplaceRules(SecurityGroupId Group, ImmutableArray<SecurityGroupRuleId> Removed, ImmutableArray<SecurityGroupRule> Added) : Change
    {
        public override string Describe() => $"replace {Removed.Length} rules of {Group} with {Added.Length}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) => MembersOf(state, Group);

        public override SecurityGroupId? OnlyGroupAltered(NetworkState state) => Group;

        public override NetworkState ApplyTo(NetworkState state)
        {
            var gone = Removed.ToHashSet();
            _ = GroupOf(state, Group);
            return With(state, groups: state.Groups.Select(g => g.Id == Group ? g with { Rules = [.. g.Rules.Where(r => !gone.Contains(r.Id)), .. Added] } : g));
        }
    }

    public sealed record Revoke(SecurityGroupRuleId RuleId) : Change
    {
        public override string Describe() => $"revoke {RuleId}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) =>
            state.Groups.FirstOrDefault(g => g.Rules.Any(r => r.Id == RuleId)) is { } owner ? MembersOf(state, owner.Id) : new HashSet<InstanceId>();

        public override SecurityGroupId? OnlyGroupAltered(NetworkState state) => OwnerOf(state, RuleId);

        public override NetworkState ApplyTo(NetworkState state)
        {
            var owner = state.Groups.FirstOrDefault(g => g.Rules.Any(r => r.Id == RuleId)) ?? throw new ArgumentException($"no rule {RuleId} in the state");
            return With(state, groups: state.Groups.Select(g => g.Id == owner.Id ? g with { Rules = [.. g.Rules.Where(r => r.Id != RuleId)] } : g));
        }
    }

    /// <summary>
    /// A rule's attributes change in place (ModifySecurityGroupRule / ModifySecurityGroupEgressRule):
    /// the rule keeps its ID and direction, the rest is <paramref name="Rule"/>.
    /// </summary>
    public sealed record Modify(SecurityGroupRuleId RuleId, SecurityGroupRule Rule) : Change
    {
        public override string Describe() => $"modify {RuleId}: {Rule.Direction.ToString().ToLowerInvariant()} {Rule.Policy.ToLower()} {Rule.Protocol.ToWire()} {Rule.Ports} {(Rule.Direction == Domain.Networking.Direction.Ingress ? "from" : "to")} {Rule.Peer} priority {Rule.Priority}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) =>
            state.Groups.FirstOrDefault(g => g.Rules.Any(r => r.Id == RuleId)) is { } owner ? MembersOf(state, owner.Id) : new HashSet<InstanceId>();

        public override SecurityGroupId? OnlyGroupAltered(NetworkState state) => OwnerOf(state, RuleId);

        public override NetworkState ApplyTo(NetworkState state)
        {
            var owner = state.Groups.FirstOrDefault(g => g.Rules.Any(r => r.Id == RuleId)) ?? throw new ArgumentException($"no rule {RuleId} in the state");
            var old = owner.Rules.First(r => r.Id == RuleId);
            if (old.Direction != Rule.Direction)
                throw new ArgumentException($"{RuleId} is an {old.Direction.ToString().ToLowerInvariant()} rule: a modification keeps the direction");
            var replaced = Rule with { Id = RuleId };
            return With(state, groups: state.Groups.Select(g => g.Id == owner.Id ? g with { Rules = [.. g.Rules.Select(r => r.Id == RuleId ? replaced : r)] } : g));
        }
    }

    /// <summary>A membership change touches the instance, the group's members (inner access) and every NIC whose rules name the group.</summary>
    protected static HashSet<InstanceId> MembershipAffected(NetworkState s, InstanceId instance, SecurityGroupId group)
    {
        var affected = MembersOf(s, group);
        affected.Add(instance);
        foreach (var referencing in s.Groups.Where(g => g.Rules.Any(r => r.Peer is RulePeer.Group p && p.GroupId == group)))
            affected.UnionWith(MembersOf(s, referencing.Id));
        return affected;
    }

    /// <summary>
    /// The ENI a join or leave concerns: the instance itself (its primary ENI) when
    /// <paramref name="eni"/> is null or names the primary ENI, else the secondary ENI it names
    /// (JoinSecurityGroup / LeaveSecurityGroup with <c>NetworkInterfaceId</c>).
    /// </summary>
    protected static (Instance Instance, NetworkInterface? Secondary) InterfaceOf(NetworkState s, InstanceId id, NetworkInterfaceId? eni)
    {
        var instance = InstanceOf(s, id);
        if (eni is not { } wanted || instance.NetworkInterfaceId == wanted && instance.SecondaryInterfaces.All(e => e.Id != wanted))
            return (instance, null);
        return (instance, instance.SecondaryInterfaces.FirstOrDefault(e => e.Id == wanted) ?? throw new ArgumentException($"no network interface {wanted} on {id} in the state"));
    }

    /// <summary>The state with the groups of one ENI of an instance replaced.</summary>
    protected static NetworkState WithGroups(NetworkState state, InstanceId id, NetworkInterface? secondary, Func<ImmutableArray<SecurityGroupId>, ImmutableArray<SecurityGroupId>> change) =>
        With(state, instances: state.Instances.Select(i => i.Id != id ? i
            : secondary is null ? i with { SecurityGroupIds = change(i.SecurityGroupIds) }
            : i with { SecondaryInterfaces = [.. i.SecondaryInterfaces.Select(e => e.Id == secondary.Id ? e with { SecurityGroupIds = change(e.SecurityGroupIds) } : e)] }));

    private static string Naming(InstanceId instance, NetworkInterfaceId? eni) => eni is { } e ? $"{instance} ({e})" : instance.Value;

    /// <param name="NetworkInterface">The ENI that joins, when not the instance's primary one.</param>
    public sealed record Join(InstanceId Instance, SecurityGroupId Group, NetworkInterfaceId? NetworkInterface = null) : Change
    {
        public override string Describe() => $"join {Naming(Instance, NetworkInterface)} to {Group}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) => MembershipAffected(state, Instance, Group);

        public override NetworkState ApplyTo(NetworkState state)
        {
            var (instance, secondary) = InterfaceOf(state, Instance, NetworkInterface);
            var group = GroupOf(state, Group);
            var groups = secondary?.SecurityGroupIds ?? instance.SecurityGroupIds;
            if (groups.Contains(Group))
                throw new ArgumentException($"{Naming(Instance, NetworkInterface)} is in {Group} already");
            if (group.VpcId != instance.VpcId)
                throw new ArgumentException($"{Group} and {Instance} are not in the same network (InvalidInstanceId.Mismatch)");
            if (groups.Length >= Domain.Instances.Instance.MaxSecurityGroups)
                throw new ArgumentException($"{Naming(Instance, NetworkInterface)} is in {groups.Length} groups already, the most a network interface may be in (SecurityGroupInstanceLimitExceed)");
            return WithGroups(state, Instance, secondary, g => g.Add(Group));
        }
    }

    /// <param name="NetworkInterface">The ENI that leaves, when not the instance's primary one.</param>
    public sealed record Leave(InstanceId Instance, SecurityGroupId Group, NetworkInterfaceId? NetworkInterface = null) : Change
    {
        public override string Describe() => $"{Naming(Instance, NetworkInterface)} leaves {Group}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) => MembershipAffected(state, Instance, Group);

        public override NetworkState ApplyTo(NetworkState state)
        {
            var (instance, secondary) = InterfaceOf(state, Instance, NetworkInterface);
            var groups = secondary?.SecurityGroupIds ?? instance.SecurityGroupIds;
            if (!groups.Contains(Group))
                throw new ArgumentException($"{Naming(Instance, NetworkInterface)} is not in {Group}");
            if (groups.Length == 1)
                throw new ArgumentException($"{Group} is the last group of {Naming(Instance, NetworkInterface)} (InstanceLastSecurityGroup)");
            return WithGroups(state, Instance, secondary, g => g.Remove(Group));
        }
    }

    public sealed record DeleteGroup(SecurityGroupId Group) : Change
    {
        public override string Describe() => $"delete {Group}";

        // A group that may be deleted has no members, so its rules apply to nobody and it names nobody.
        public override IReadOnlySet<InstanceId> Affected(NetworkState state) => MembersOf(state, Group);

        public override NetworkState ApplyTo(NetworkState state)
        {
            GroupOf(state, Group);
            if (state.MembersOf(Group).Length > 0)
                throw new ArgumentException($"{Group} still has instances (DependencyViolation)");
            return With(state, groups: state.Groups.Where(g => g.Id != Group));
        }
    }

    public sealed record SetInnerAccessPolicy(SecurityGroupId Group, InnerAccessPolicy Policy) : Change
    {
        public override string Describe() => $"set the InnerAccessPolicy of {Group} to {Policy.ToWire()}";

        public override IReadOnlySet<InstanceId> Affected(NetworkState state) => MembersOf(state, Group);

        public override SecurityGroupId? OnlyGroupAltered(NetworkState state) => Group;

        public override NetworkState ApplyTo(NetworkState state)
        {
            var group = GroupOf(state, Group);
            if (group.IsEnterprise)
                throw new ArgumentException($"{Group} is an advanced group: its InnerAccessPolicy is always Drop");
            return With(state, groups: state.Groups.Select(g => g.Id == Group ? g with { InnerAccessPolicy = Policy } : g));
        }
    }
    /// <summary>
    /// A change of prefix lists' entries, nothing else: it alters the decisions of the rules that name
    /// an edited list as their peer, and so only the policies of the ENIs in the groups holding such
    /// rules (<see cref="Affected"/>: those ENIs' instances, whose flows and whose reach from the
    /// internet may change). Every other policy, every group and every address stays.
    /// </summary>
    public abstract record PrefixListEdit : Change
    {
        /// <summary>The lists whose entries the change sets (those that change and those given unchanged).</summary>
        public abstract IReadOnlyCollection<PrefixListId> Lists { get; }

        /// <summary>The groups holding a rule that names one of <see cref="Lists"/> as its peer.</summary>
        public override IReadOnlySet<SecurityGroupId> GroupsAltered(NetworkState state)
        {
            var lists = Lists.ToHashSet();
            return state.Groups.Where(g => g.Rules.Any(r => r.Peer is RulePeer.PrefixList p && lists.Contains(p.PrefixListId))).Select(g => g.Id).ToHashSet();
        }

        public override IReadOnlySet<InstanceId> Affected(NetworkState state)
        {
            var affected = new HashSet<InstanceId>();
            foreach (var group in GroupsAltered(state))
                affected.UnionWith(MembersOf(state, group));
            return affected;
        }

        /// <summary>The state with the entries of <paramref name="edited"/> lists replaced.</summary>
        protected static NetworkState WithLists(NetworkState s, IReadOnlyDictionary<PrefixListId, ImmutableArray<Cidr>> edited) =>
            s.WithPrefixLists(s.PrefixLists.Select(l => edited.TryGetValue(l.Id, out var entries) ? l with { Entries = entries } : l));

        protected static PrefixList ListOf(NetworkState s, PrefixListId id) =>
            s.FindPrefixList(id) ?? throw new ArgumentException($"no prefix list {id} in the state");
    }

    /// <summary>
    /// ModifyPrefixList's entry edit: <paramref name="Removed"/> entries go, then <paramref name="Added"/>
    /// come (<c>RemoveEntry.N.Cidr</c>, <c>AddEntry.N.Cidr</c>); each of the list's address family.
    /// </summary>
    public sealed record ModifyPrefixList(PrefixListId List, ImmutableArray<Cidr> Added, ImmutableArray<Cidr> Removed) : PrefixListEdit
    {
        public override IReadOnlyCollection<PrefixListId> Lists => [List];

        public override string Describe() =>
            $"modify {List}: " + string.Join(", ", Removed.Select(c => $"remove {c}").Concat(Added.Select(c => $"add {c}")).DefaultIfEmpty("no entry changed"));

        public override NetworkState ApplyTo(NetworkState state)
        {
            var list = ListOf(state, List);
            foreach (var cidr in Added.Concat(Removed).Where(c => c.IsV6 != list.IsV6))
                throw new ArgumentException($"{cidr} is not of the address family of {List} ({(list.IsV6 ? "IPv6" : "IPv4")})");
            foreach (var cidr in Removed.Where(c => !list.Entries.Contains(c)))
                throw new ArgumentException($"{List} has no entry {cidr}");
            var kept = list.Entries.Where(e => !Removed.Contains(e)).ToList();
            foreach (var cidr in Added.Where(kept.Contains))
                throw new ArgumentException($"{List} has the entry {cidr} already");
            return WithLists(state, new Dictionary<PrefixListId, ImmutableArray<Cidr>> { [List] = [.. kept, .. Added.Distinct()] });
        }
    }

    /// <summary>
    /// Prefix lists' entries set to those of <paramref name="Edited"/> (matched by ID; only the entries
    /// are taken): a list edit known by its result, as a dry run knows it.
    /// </summary>
    public sealed record SetPrefixListEntries(ImmutableArray<PrefixList> Edited) : PrefixListEdit
    {
        public override IReadOnlyCollection<PrefixListId> Lists => [.. Edited.Select(l => l.Id)];

        public override string Describe() => string.Join("; ", Edited.Select(l => $"set the entries of {l.Id} to [{string.Join(", ", l.Entries)}]"));

        public override NetworkState ApplyTo(NetworkState state)
        {
            foreach (var list in Edited)
                _ = ListOf(state, list.Id);
            return WithLists(state, Edited.ToDictionary(l => l.Id, l => l.Entries));
        }
    }
}
