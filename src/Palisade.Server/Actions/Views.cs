using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Palisade.Server.Actions;

/// <summary>How resources appear in responses: every field ECS returns, empty strings when unset (ecs-api.md §1.7).</summary>
internal static class Views
{
    /// <summary>A rule as DescribeSecurityGroupAttribute writes it: its request fields (<see cref="PermissionFields.Of"/>), every one present, and what ECS adds.</summary>
    /// <param name="listName">The name of a prefix list or port-range list the rule names ("" when unknown).</param>
    public static EcsObject Permission(SecurityGroupRule r, Func<Domain.Identifiers.SecurityGroupId, string>? groupName = null, Func<string, string>? listName = null)
    {
        string ListName(string? id) => id is null ? "" : listName?.Invoke(id) ?? "";
        var f = PermissionFields.Of(r);
        var peerGroupName = r.Peer is RulePeer.Group g ? groupName?.Invoke(g.GroupId) ?? "" : "";
        var ingress = r.Direction == Direction.Ingress;
        static string Text(string? value) => value ?? "";
        return new EcsObject
        {
            { "SecurityGroupRuleId", r.Id.Value },
            { "Direction", r.Direction.ToWire() },
            { "IpProtocol", Text(f.IpProtocol) },
            { "PortRange", Text(f.PortRange) },
            { "SourcePortRange", Text(f.SourcePortRange) },
            { "Policy", Text(f.Policy) },
            { "Priority", r.Priority.Value },
            { "NicType", Text(f.NicType) },
            { "SourceCidrIp", Text(f.SourceCidrIp) },
            { "Ipv6SourceCidrIp", Text(f.Ipv6SourceCidrIp) },
            { "SourceGroupId", Text(f.SourceGroupId) },
            { "SourceGroupName", ingress ? peerGroupName : "" },
            // ECS answers with one owner field; a rule made with an owner ID shows the ID.
            { "SourceGroupOwnerAccount", Text(f.SourceGroupOwnerId ?? f.SourceGroupOwnerAccount) },
            { "SourcePrefixListId", Text(f.SourcePrefixListId) },
            { "SourcePrefixListName", ListName(f.SourcePrefixListId) },
            { "DestCidrIp", Text(f.DestCidrIp) },
            { "Ipv6DestCidrIp", Text(f.Ipv6DestCidrIp) },
            { "DestGroupId", Text(f.DestGroupId) },
            { "DestGroupName", ingress ? "" : peerGroupName },
            { "DestGroupOwnerAccount", Text(f.DestGroupOwnerId ?? f.DestGroupOwnerAccount) },
            { "DestPrefixListId", Text(f.DestPrefixListId) },
            { "DestPrefixListName", ListName(f.DestPrefixListId) },
            { "PortRangeListId", Text(f.PortRangeListId) },
            { "PortRangeListName", ListName(f.PortRangeListId) },
            { "Description", r.Description },
            { "CreateTime", Time.Format(r.CreateTime) },
        };
    }

    public static EcsList Tags(IEnumerable<Tag> tags) =>
        EcsList.Of("Tag", tags.Select(t => new EcsObject { { "TagKey", t.Key }, { "TagValue", t.Value } }));

    /// <summary>The VPC API writes tags as Key/Value, not TagKey/TagValue (ecs-api.md §3.14).</summary>
    public static EcsList VpcTags(IEnumerable<Tag> tags) =>
        EcsList.Of("Tag", tags.Select(t => new EcsObject { { "Key", t.Key }, { "Value", t.Value } }));

    /// <param name="interfaces">The instance's ENIs (<see cref="IStoreSession.NetworkInterfacesOf"/>): its primary one first.</param>
    /// <param name="eip">The EIP associated with the instance or its primary ENI, if any.</param>
    public static EcsObject Instance(InstanceRecord i, IReadOnlyList<Tag> tags, IReadOnlyList<NetworkInterfaceRecord> interfaces, EipRecord? eip)
    {
        var isVpc = i.NetworkType == NetworkType.Vpc;
        var privateV4 = i.PrivateAddresses.Where(a => !a.IsV6).Select(a => a.ToString()).ToList();
        return new EcsObject
        {
            { "InstanceId", i.Id.Value },
            { "InstanceName", i.Name },
            { "Description", i.Description },
            { "HostName", i.Name },
            { "RegionId", i.RegionId },
            { "ZoneId", i.ZoneId },
            { "Status", i.Status },
            { "InstanceType", i.InstanceType },
            { "ImageId", i.ImageId },
            { "CreationTime", CreationTime(i.CreatedAt) },
            { "ResourceGroupId", i.ResourceGroupId },
            { "InstanceNetworkType", i.NetworkType.ToWire() },
            { "SecurityGroupIds", EcsList.Of("SecurityGroupId", i.SecurityGroupIds.Select(g => g.Value)) },
            { "VpcAttributes", new EcsObject
                {
                    { "VpcId", i.VpcId?.Value ?? "" },
                    { "VSwitchId", i.VSwitchId?.Value ?? "" },
                    { "PrivateIpAddress", EcsList.Of("IpAddress", isVpc ? privateV4 : []) },
                    { "NatIpAddress", "" },
                }
            },
            { "InnerIpAddress", EcsList.Of("IpAddress", isVpc ? [] : privateV4) },
            { "PublicIpAddress", EcsList.Of("IpAddress", i.PublicAddresses.Select(a => a.ToString())) },
            { "EipAddress", new EcsObject
                {
                    { "IpAddress", eip?.Address.ToString() ?? "" },
                    { "AllocationId", eip?.AllocationId ?? "" },
                    { "InternetChargeType", eip?.InternetChargeType ?? "" },
                    { "Bandwidth", eip?.Bandwidth ?? 0 },
                }
            },
            { "NetworkInterfaces", EcsList.Of("NetworkInterface", interfaces.Select(e => new EcsObject
                {
                    { "NetworkInterfaceId", e.Id.Value },
                    { "Type", e.Type.ToString() },
                    { "PrimaryIpAddress", e.PrivateAddresses.FirstOrDefault(a => !a.IsV6).ToString() },
                    { "MacAddress", e.MacAddress },
                    { "PrivateIpSets", PrivateIpSets(e) },
                    { "Ipv6Sets", Ipv6Sets(e) },
                    { "Ipv4PrefixSets", EcsList.Of("Ipv4PrefixSet", Array.Empty<EcsObject>()) },
                })) },
            { "Tags", Tags(tags) },
        };
    }

    private static EcsList PrivateIpSets(NetworkInterfaceRecord e) =>
        EcsList.Of("PrivateIpSet", e.PrivateAddresses.Where(a => !a.IsV6).Select((a, n) => new EcsObject
        {
            { "PrivateIpAddress", a.ToString() },
            { "Primary", n == 0 },
            { "AssociatedPublicIp", new EcsObject { { "PublicIpAddress", "" }, { "AllocationId", "" } } },
        }));

    private static EcsList Ipv6Sets(NetworkInterfaceRecord e) =>
        EcsList.Of("Ipv6Set", e.PrivateAddresses.Where(a => a.IsV6).Select(a => new EcsObject { { "Ipv6Address", a.ToString() } }));

    /// <summary>
    /// An ENI as DescribeNetworkInterfaces writes it (<c>NetworkInterfaceSets.NetworkInterfaceSet[]</c>):
    /// every documented field, the lists present even when empty (Terraform's provider reads them unchecked).
    /// </summary>
    public static EcsObject NetworkInterface(NetworkInterfaceRecord e, IReadOnlyList<Tag> tags, long ownerId, EipRecord? eip = null) => new()
    {
        { "NetworkInterfaceId", e.Id.Value },
        { "NetworkInterfaceName", e.Name },
        { "Description", e.Description },
        { "Status", e.Status },
        { "Type", e.Type.ToString() },
        { "VpcId", e.VpcId.Value },
        { "VSwitchId", e.VSwitchId.Value },
        { "ZoneId", e.ZoneId },
        { "PrivateIpAddress", e.PrivateAddresses.FirstOrDefault(a => !a.IsV6).ToString() },
        { "MacAddress", e.MacAddress },
        { "InstanceId", e.InstanceId?.Value ?? "" },
        { "CreationTime", Time.Format(e.CreatedAt) },
        { "ResourceGroupId", e.ResourceGroupId },
        { "OwnerId", ownerId.ToString(CultureInfo.InvariantCulture) },
        { "ServiceID", 0L },
        { "ServiceManaged", false },
        { "DeleteOnRelease", e.Type == NetworkInterfaceType.Primary },
        { "NetworkInterfaceTrafficMode", "Standard" },
        { "QueueNumber", 0L },
        { "SecurityGroupIds", EcsList.Of("SecurityGroupId", e.SecurityGroupIds.Select(g => g.Value)) },
        { "AssociatedPublicIp", new EcsObject { { "PublicIpAddress", eip?.Address.ToString() ?? "" }, { "AllocationId", eip?.AllocationId ?? "" } } },
        { "Attachment", new EcsObject { { "InstanceId", e.InstanceId?.Value ?? "" }, { "DeviceIndex", 0L }, { "TrunkNetworkInterfaceId", "" } } },
        { "PrivateIpSets", PrivateIpSets(e) },
        { "Ipv6Sets", Ipv6Sets(e) },
        { "Ipv4PrefixSets", EcsList.Of("Ipv4PrefixSet", Array.Empty<EcsObject>()) },
        { "Ipv6PrefixSets", EcsList.Of("Ipv6PrefixSet", Array.Empty<EcsObject>()) },
        { "Tags", Tags(tags) },
    };

    /// <summary>ECS writes instance creation times to the minute: <c>2017-12-10T04:04Z</c>.</summary>
    public static string CreationTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);
}
