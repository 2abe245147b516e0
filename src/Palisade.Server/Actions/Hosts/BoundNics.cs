namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// What a bound NIC is (issue 16 item 6): one ENI, with its own groups, on its own host interface;
/// a classic instance's NIC (no ENI) has its instance's. The one place that answers "the groups of a
/// bound NIC" for the server's host actions.
/// </summary>
internal static class BoundNics
{
    /// <summary>The groups of the NIC <paramref name="binding"/> names (none when it is gone meanwhile).</summary>
    public static IReadOnlyList<SecurityGroupId> GroupsOf(IStoreSession s, HostBindingRecord binding) =>
        binding.NetworkInterfaceId is { } eni
            ? s.NetworkInterfaces.Find(binding.AccountId, eni)?.SecurityGroupIds ?? []
            : s.Instances.Find(binding.AccountId, binding.InstanceId)?.SecurityGroupIds ?? [];

    /// <summary>
    /// The bindings an agent's report names: <c>NetworkInterfaceId.N</c> (each ENI), and the older
    /// <c>InstanceId.N</c> (the instance's primary NIC), among those on the host.
    /// </summary>
    public static List<HostBindingRecord> Named(IStoreSession s, IReadOnlyList<HostBindingRecord> onHost, IReadOnlySet<InstanceId> instances, IReadOnlySet<NetworkInterfaceId> enis)
    {
        var primaries = instances.Select(s.FindHostBinding).OfType<HostBindingRecord>().Select(b => b.Nic).ToHashSet(StringComparer.Ordinal);
        return [.. onHost.Where(b => primaries.Contains(b.Nic) || (b.NetworkInterfaceId is { } eni && enis.Contains(eni)))];
    }
}
