using Palisade.Domain.State;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// The NICs in a security group as observed flows and host bindings name them (issue 20): a group's
/// members are ENIs — an instance by its primary ENI (<see cref="Primaries"/>), or any ENI, primary or
/// secondary, by its ID (<see cref="Enis"/>). A flow or binding without an ENI is its instance's
/// primary NIC's (a classic instance's, or one recorded before flows were per ENI). So a group only a
/// secondary ENI is in has that ENI's flows and hosts, and not its instance's primary's.
/// </summary>
internal sealed class GroupNics
{
    private readonly HashSet<InstanceId> _primaries = [];
    private readonly HashSet<(InstanceId, NetworkInterfaceId)> _enis = [];

    /// <summary>The instances whose primary NIC is in the group.</summary>
    public IReadOnlySet<InstanceId> Primaries => _primaries;

    /// <summary>The ENIs in the group, primary or secondary, with the instance each is attached to.</summary>
    public IReadOnlySet<(InstanceId Instance, NetworkInterfaceId Eni)> Enis => _enis;

    /// <summary>The instances with a NIC in the group: whose flows to read.</summary>
    public IReadOnlyCollection<InstanceId> Instances => [.. _primaries.Concat(_enis.Select(e => e.Item1)).Distinct()];

    /// <summary>Whether the NIC a flow or binding names (an ENI, or with null the instance's primary NIC) is in the group.</summary>
    public bool Contains(InstanceId instance, NetworkInterfaceId? eni) =>
        eni is { } id ? _enis.Contains((instance, id)) : _primaries.Contains(instance);

    /// <summary>From the store: the group's member instances and the attached ENIs whose groups include it.</summary>
    public static GroupNics Of(IStoreSession s, GroupRecord group)
    {
        var nics = new GroupNics();
        nics._primaries.UnionWith(s.MembersOf(group.Id));
        foreach (var eni in s.NetworkInterfaces.List(group.AccountId, group.RegionId))
        {
            // A primary ENI's groups are its instance's; an ENI not attached carries no traffic.
            if (eni.InstanceId is { } instance && eni.SecurityGroupIds.Contains(group.Id))
                nics._enis.Add((instance, eni.Id));
        }
        return nics;
    }

    /// <summary>From an account's state: its members, each an ENI view (<see cref="NetworkState.MembersOf"/>).</summary>
    public static GroupNics Of(NetworkState state, SecurityGroupId group)
    {
        var nics = new GroupNics();
        foreach (var member in state.MembersOf(group))
        {
            if (!member.IsSecondaryInterface)
                nics._primaries.Add(member.Id);
            if (member.NetworkInterfaceId is { } eni)
                nics._enis.Add((member.Id, eni));
        }
        return nics;
    }
}
