using System.Collections.Immutable;

namespace Palisade.Analysis.WhatIf;

/// <summary>
/// The instances whose flows two states may decide differently, worked out by comparing the states'
/// records (for a change known only by its result, as a dry run's). A pair of instances outside the
/// set is decided alike in both states: each end has the same addresses and the same groups, those
/// groups have the same rules and inner access policy, and whatever their rules name — a group's
/// members, a prefix list's entries, a port-range list's ports — is the same. The set is the change's
/// own <see cref="Change.Affected"/> worked out from the outside, and as wide: it holds
/// <list type="bullet">
/// <item>every instance whose decisive fields differ (network, VPC, vSwitch, addresses, groups, ENIs, status), or that is in one state only;</item>
/// <item>the members, before and after, of every group that differs (rules, type, network, inner access), or whose membership may have changed (a group of a changed instance), or whose rules name such a group as peer, or a prefix or port-range list that differs.</item>
/// </list>
/// Names, descriptions, tags and creation times decide nothing and are not compared. The records'
/// arrays compare by reference, so they are compared element by element here.
/// </summary>
public static class StateDifference
{
    public static IReadOnlySet<InstanceId> Affected(NetworkState before, NetworkState after)
    {
        var affected = new HashSet<InstanceId>();
        // Groups whose membership may differ: every group a changed instance is in, before or after.
        var membership = new HashSet<SecurityGroupId>();
        foreach (var id in before.Instances.Select(i => i.Id).Concat(after.Instances.Select(i => i.Id)))
        {
            var (was, now) = (before.FindInstance(id), after.FindInstance(id));
            if (was is not null && now is not null && SameInstance(was, now))
                continue;
            affected.Add(id);
            membership.UnionWith(was?.AllSecurityGroupIds ?? []);
            membership.UnionWith(now?.AllSecurityGroupIds ?? []);
        }
        var prefixLists = Differing(before.PrefixLists.Select(p => p.Id), after.PrefixLists.Select(p => p.Id),
            id => (before.FindPrefixList(id), after.FindPrefixList(id)) is ({ } x, { } y) && x.IsV6 == y.IsV6 && x.Entries.SequenceEqual(y.Entries));
        var portLists = Differing(before.PortRangeLists.Select(p => p.Id), after.PortRangeLists.Select(p => p.Id),
            id => (before.FindPortRangeList(id), after.FindPortRangeList(id)) is ({ } x, { } y) && x.Entries.SequenceEqual(y.Entries));
        var groups = Differing(before.Groups.Select(g => g.Id), after.Groups.Select(g => g.Id),
            id => (before.FindGroup(id), after.FindGroup(id)) is ({ } x, { } y) && SameGroup(x, y));

        bool Decides(SecurityGroup group) =>
            groups.Contains(group.Id) || membership.Contains(group.Id) || group.Rules.Any(r =>
                r.Peer is RulePeer.Group g && membership.Contains(g.GroupId)
                || r.Peer is RulePeer.PrefixList p && prefixLists.Contains(p.PrefixListId)
                || r.PortRangeListId is { } l && portLists.Contains(l));

        foreach (var state in new[] { before, after })
        {
            foreach (var group in state.Groups.Where(Decides).Select(g => g.Id).Concat(groups).Concat(membership).Distinct())
                affected.UnionWith(state.MembersOf(group).Select(m => m.Id));
        }
        return affected;
    }

    /// <summary>
    /// The prefix lists whose entries differ, as <paramref name="after"/> holds them, when that is all
    /// that decides differently between the two states (the same instances in the same order with the
    /// same decisive fields, the same groups, the same port-range lists, the same prefix lists but for
    /// their entries): then the difference is a <see cref="Change.SetPrefixListEntries"/> of the state
    /// before. Null otherwise, or when no list's entries differ.
    /// </summary>
    public static IReadOnlyList<PrefixList>? PrefixListEntriesOnly(NetworkState before, NetworkState after)
    {
        if (before.Instances.Length != after.Instances.Length || before.Groups.Length != after.Groups.Length
            || before.PrefixLists.Length != after.PrefixLists.Length || before.PortRangeLists.Length != after.PortRangeLists.Length)
            return null;
        for (var k = 0; k < before.Instances.Length; k++)
        {
            if (before.Instances[k].Id != after.Instances[k].Id || !SameInstance(before.Instances[k], after.Instances[k]))
                return null;
        }
        for (var k = 0; k < before.Groups.Length; k++)
        {
            if (before.Groups[k].Id != after.Groups[k].Id || !SameGroup(before.Groups[k], after.Groups[k]))
                return null;
        }
        foreach (var list in before.PortRangeLists)
        {
            if (after.FindPortRangeList(list.Id) is not { } other || !list.Entries.SequenceEqual(other.Entries))
                return null;
        }
        var edited = new List<PrefixList>();
        foreach (var list in before.PrefixLists)
        {
            if (after.FindPrefixList(list.Id) is not { } other || other.IsV6 != list.IsV6)
                return null;
            if (!list.Entries.SequenceEqual(other.Entries))
                edited.Add(other);
        }
        return edited.Count > 0 ? edited : null;
    }

    private static HashSet<T> Differing<T>(IEnumerable<T> before, IEnumerable<T> after, Func<T, bool> same) =>
        [.. before.Concat(after).Distinct().Where(id => !same(id))];

    private static bool SameGroup(SecurityGroup x, SecurityGroup y) =>
        x.Type == y.Type && x.VpcId == y.VpcId && x.InnerAccessPolicy == y.InnerAccessPolicy && x.Rules.SequenceEqual(y.Rules);

    private static bool SameInstance(Instance x, Instance y) =>
        x.NetworkType == y.NetworkType && x.VpcId == y.VpcId && x.VSwitchId == y.VSwitchId && x.Status == y.Status
        && x.NetworkInterfaceId == y.NetworkInterfaceId
        && Same(x.PrivateAddresses, y.PrivateAddresses) && Same(x.PublicAddresses, y.PublicAddresses)
        && Same(x.SecurityGroupIds, y.SecurityGroupIds)
        && x.SecondaryInterfaces.Length == y.SecondaryInterfaces.Length
        && x.SecondaryInterfaces.Zip(y.SecondaryInterfaces).All(p => SameInterface(p.First, p.Second));

    private static bool SameInterface(NetworkInterface x, NetworkInterface y) =>
        x.Id == y.Id && x.VSwitchId == y.VSwitchId && x.MacAddress == y.MacAddress
        && Same(x.PrivateAddresses, y.PrivateAddresses) && Same(x.PublicAddresses, y.PublicAddresses)
        && Same(x.SecurityGroupIds, y.SecurityGroupIds);

    private static bool Same<T>(ImmutableArray<T> x, ImmutableArray<T> y) =>
        x.IsDefaultOrEmpty ? y.IsDefaultOrEmpty : !y.IsDefault && x.SequenceEqual(y);
}
