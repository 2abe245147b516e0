using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;

namespace Palisade.Storage.State;

/// <summary>
/// For a whole region at once (what the analysis and the export read): each instance's ENIs, and
/// the EIP through which the internet reaches it. Two queries, not two per instance.
/// </summary>
public sealed class RegionAddresses
{
    /// <summary>Each instance's ENIs in <see cref="Order"/>; never written after it is built (a copy is brought forward).</summary>
    private readonly Dictionary<InstanceId, NetworkInterfaceRecord[]> _interfaces;

    private readonly Dictionary<string, EipRecord> _eipByTarget;

    public RegionAddresses(IStoreSession s, long accountId, string regionId)
    {
        _interfaces = InOrder(s.NetworkInterfaces.List(accountId, regionId));
        _eipByTarget = s.Eips.List(accountId, regionId).Where(e => e.TargetId is not null).ToDictionary(e => e.TargetId!, StringComparer.Ordinal);
    }

    private RegionAddresses(Dictionary<InstanceId, NetworkInterfaceRecord[]> interfaces, Dictionary<string, EipRecord> eipByTarget) =>
        (_interfaces, _eipByTarget) = (interfaces, eipByTarget);

    /// <summary>An instance's ENIs in their order: primary first (by type), then as made, then by ID.</summary>
    private static NetworkInterfaceRecord[] Order(IEnumerable<NetworkInterfaceRecord> interfaces) =>
        [.. interfaces.OrderBy(e => e.Type).ThenBy(e => e.CreatedAt).ThenBy(e => e.Id.Value, StringComparer.Ordinal)];

    private static Dictionary<InstanceId, NetworkInterfaceRecord[]> InOrder(IEnumerable<NetworkInterfaceRecord> interfaces) => interfaces
        .Where(e => e.InstanceId is not null)
        .GroupBy(e => e.InstanceId!.Value)
        .ToDictionary(g => g.Key, Order);

    /// <summary>
    /// The same addresses with the ENIs of <paramref name="instances"/> as given (issue 17, fifteenth
    /// session: an account's view brought forward by a commit that changed those instances' ENIs, read
    /// again at the new revision); the EIPs as they are (the caller knows the commit moved none).
    /// </summary>
    public RegionAddresses WithInterfacesOf(IReadOnlyDictionary<InstanceId, IReadOnlyList<NetworkInterfaceRecord>> instances) =>
        WithInterfacesOf(instances, new Dictionary<string, EipRecord?>());

    /// <summary>
    /// The same addresses with the ENIs of <paramref name="instances"/> as given, and the EIPs that reach
    /// each target of <paramref name="eips"/> (an instance or ENI ID) as given, none when null (issue 17,
    /// sixteenth session: a view brought forward over instances run or deleted, read again at the new revision).
    /// Only the given instances' ENIs are put in order (seventeenth session: the region's were all sorted
    /// again, 10,000 ENIs for one instance run); every other instance's list is shared. The slow twin is
    /// the region loaded whole (<c>HostScopeTests.AViewBroughtForward_AnswersAsTheWholeReload</c>).
    /// </summary>
    public RegionAddresses WithInterfacesOf(IReadOnlyDictionary<InstanceId, IReadOnlyList<NetworkInterfaceRecord>> instances, IReadOnlyDictionary<string, EipRecord?> eips)
    {
        var eipByTarget = _eipByTarget;
        if (eips.Count > 0)
        {
            eipByTarget = new Dictionary<string, EipRecord>(_eipByTarget, StringComparer.Ordinal);
            foreach (var (target, eip) in eips)
            {
                if (eip is null)
                    eipByTarget.Remove(target);
                else
                    eipByTarget[target] = eip;
            }
        }
        var interfaces = new Dictionary<InstanceId, NetworkInterfaceRecord[]>(_interfaces);
        foreach (var id in instances.Keys)
            interfaces.Remove(id);
        // Each given ENI goes to the instance it is attached to (its own key, as a whole load groups them).
        foreach (var group in instances.Values.SelectMany(e => e).Where(e => e.InstanceId is not null).GroupBy(e => e.InstanceId!.Value))
            interfaces[group.Key] = Order(interfaces.TryGetValue(group.Key, out var kept) ? kept.Concat(group) : group);
        return new(interfaces, eipByTarget);
    }

    /// <summary>The instance an ENI of the region is attached to, if it is.</summary>
    public InstanceId? OwnerOf(NetworkInterfaceId id) =>
        _interfaces.Values.SelectMany(g => g).FirstOrDefault(e => e.Id == id)?.InstanceId;

    /// <summary>The instance's ENIs, its primary one first (the list is never written: shared, not copied).</summary>
    public IReadOnlyList<NetworkInterfaceRecord> Interfaces(InstanceId id) => _interfaces.TryGetValue(id, out var known) ? known : [];

    public EipRecord? EipOf(string targetId) => _eipByTarget.GetValueOrDefault(targetId);

    /// <summary>The EIP through which the internet reaches an instance: its own, or its primary ENI's.</summary>
    public EipRecord? EipOfInstance(InstanceRecord instance) =>
        EipOf(instance.Id.Value) ?? Interfaces(instance.Id).Where(e => e.Type == NetworkInterfaceType.Primary).Select(e => EipOf(e.Id.Value)).FirstOrDefault(e => e is not null);

    public IReadOnlyList<IpAddress> PublicAddressesOf(InstanceRecord instance) =>
        EipOfInstance(instance) is { } eip ? [.. instance.PublicAddresses, eip.Address] : instance.PublicAddresses;
}
