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
    private readonly ILookup<InstanceId, NetworkInterfaceRecord> _interfaces;

    private readonly Dictionary<string, EipRecord> _eipByTarget;

    public RegionAddresses(IStoreSession s, long accountId, string regionId)
    {
        _interfaces = InOrder(s.NetworkInterfaces.List(accountId, regionId));
        _eipByTarget = s.Eips.List(accountId, regionId).Where(e => e.TargetId is not null).ToDictionary(e => e.TargetId!, StringComparer.Ordinal);
    }

    private RegionAddresses(ILookup<InstanceId, NetworkInterfaceRecord> interfaces, Dictionary<string, EipRecord> eipByTarget) =>
        (_interfaces, _eipByTarget) = (interfaces, eipByTarget);

    private static ILookup<InstanceId, NetworkInterfaceRecord> InOrder(IEnumerable<NetworkInterfaceRecord> interfaces) => interfaces
        .Where(e => e.InstanceId is not null)
        .OrderBy(e => e.Type).ThenBy(e => e.CreatedAt).ThenBy(e => e.Id.Value, StringComparer.Ordinal)
        .ToLookup(e => e.InstanceId!.Value);

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
        return new(InOrder(_interfaces.Where(g => !instances.ContainsKey(g.Key)).SelectMany(g => g).Concat(instances.Values.SelectMany(e => e))), eipByTarget);
    }

    /// <summary>The instance an ENI of the region is attached to, if it is.</summary>
    public InstanceId? OwnerOf(NetworkInterfaceId id) =>
        _interfaces.SelectMany(g => g).FirstOrDefault(e => e.Id == id)?.InstanceId;

    /// <summary>The instance's ENIs, its primary one first.</summary>
    public IReadOnlyList<NetworkInterfaceRecord> Interfaces(InstanceId id) => [.. _interfaces[id]];

    public EipRecord? EipOf(string targetId) => _eipByTarget.GetValueOrDefault(targetId);

    /// <summary>The EIP through which the internet reaches an instance: its own, or its primary ENI's.</summary>
    public EipRecord? EipOfInstance(InstanceRecord instance) =>
        EipOf(instance.Id.Value) ?? _interfaces[instance.Id].Where(e => e.Type == NetworkInterfaceType.Primary).Select(e => EipOf(e.Id.Value)).FirstOrDefault(e => e is not null);

    public IReadOnlyList<IpAddress> PublicAddressesOf(InstanceRecord instance) =>
        EipOfInstance(instance) is { } eip ? [.. instance.PublicAddresses, eip.Address] : instance.PublicAddresses;
}
