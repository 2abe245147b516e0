using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

// Row shapes exactly as the tables hold them (snake_case, text times); Dapper fills them by column name.
// An account family's row also says how a record becomes a new row (Of: an object whose properties
// are the columns written, which SqlSession.InsertRow turns into its INSERT).
#pragma warning disable IDE1006 // names follow the columns

internal sealed class AccountRow
{
    public long account_id { get; set; }
    public string name { get; set; } = "";
    public string created_at { get; set; } = "";
    public AccountRecord ToRecord() => new(account_id, name, Time.Parse(created_at));
}

internal sealed class AccessKeyRow
{
    public string access_key_id { get; set; } = "";
    public long account_id { get; set; }
    public byte[] secret_ciphertext { get; set; } = [];
    public string status { get; set; } = "";
    public bool read_only { get; set; }
    public string created_at { get; set; } = "";
    public AccessKeyRecord ToRecord() => new(access_key_id, account_id, secret_ciphertext, Enum.Parse<AccessKeyStatus>(status), read_only, Time.Parse(created_at));
}

internal sealed class ActionTrailRow
{
    public long event_id { get; set; }
    public string event_time { get; set; } = "";
    public long account_id { get; set; }
    public string access_key_id { get; set; } = "";
    public string action { get; set; } = "";
    public string api_version { get; set; } = "";
    public string request_id { get; set; } = "";
    public string parameters { get; set; } = "";
    public long http_status { get; set; }
    public string result_code { get; set; } = "";
    public long? revision { get; set; }
    public ActionTrailRecord ToRecord() =>
        new(event_id, new ActionTrailEntry(Time.Parse(event_time), account_id, access_key_id, action, api_version, request_id, parameters, (int)http_status, result_code), revision);
}

internal sealed class ClientTokenRow
{
    public long account_id { get; set; }
    public string token { get; set; } = "";
    public string action { get; set; } = "";
    public string request_hash { get; set; } = "";
    public string response_json { get; set; } = "";
    public string created_at { get; set; } = "";
    public ClientTokenRecord ToRecord() => new(account_id, token, action, request_hash, response_json, Time.Parse(created_at));
}

internal sealed class VpcRow
{
    public string vpc_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string cidr_block { get; set; } = "";
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string status { get; set; } = "";
    public string created_at { get; set; } = "";
    public VpcRecord ToRecord() => new(VpcId.Parse(vpc_id), account_id, region_id, Cidr.Parse(cidr_block), name, description, status, Time.Parse(created_at));
    public static object Of(VpcRecord v) =>
        new { vpc_id = v.Id.Value, account_id = v.AccountId, region_id = v.RegionId, cidr_block = v.CidrBlock.ToString(), name = v.Name, description = v.Description, status = v.Status, created_at = Time.Format(v.CreatedAt) };
}

internal sealed class VSwitchRow
{
    public string vswitch_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string vpc_id { get; set; } = "";
    public string zone_id { get; set; } = "";
    public string cidr_block { get; set; } = "";
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string status { get; set; } = "";
    public string created_at { get; set; } = "";
    public VSwitchRecord ToRecord() => new(VSwitchId.Parse(vswitch_id), account_id, region_id, VpcId.Parse(vpc_id), zone_id, Cidr.Parse(cidr_block), name, description, status, Time.Parse(created_at));
    public static object Of(VSwitchRecord v) => new
    {
        vswitch_id = v.Id.Value, account_id = v.AccountId, region_id = v.RegionId, vpc_id = v.VpcId.Value, zone_id = v.ZoneId, cidr_block = v.CidrBlock.ToString(),
        name = v.Name, description = v.Description, status = v.Status, created_at = Time.Format(v.CreatedAt),
    };
}

internal sealed class GroupRow
{
    public string security_group_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string? vpc_id { get; set; }
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string group_type { get; set; } = "";
    public string inner_access_policy { get; set; } = "";
    public string created_at { get; set; } = "";
    public long next_rule_position { get; set; }
    public string? resource_group_id { get; set; }

    public GroupRecord ToRecord()
    {
        SecurityGroupTypes.TryParse(group_type, out var type);
        InnerAccessPolicies.TryParse(inner_access_policy, out var inner);
        return new GroupRecord(SecurityGroupId.Parse(security_group_id), account_id, region_id, vpc_id is null ? null : VpcId.Parse(vpc_id),
            name, description, type, inner, Time.Parse(created_at), resource_group_id ?? "");
    }

    /// <summary>A new group's row (<c>next_rule_position</c> starts at the column's default).</summary>
    public static object Of(GroupRecord g) => new
    {
        security_group_id = g.Id.Value, account_id = g.AccountId, region_id = g.RegionId, vpc_id = g.VpcId?.Value, name = g.Name, description = g.Description,
        group_type = g.Type.ToWire(), inner_access_policy = g.InnerAccessPolicy.ToWire(), created_at = Time.Format(g.CreatedAt), resource_group_id = g.ResourceGroupId,
    };
}

internal sealed class InstanceRow
{
    public string instance_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string zone_id { get; set; } = "";
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string network_type { get; set; } = "";
    public string? vpc_id { get; set; }
    public string? vswitch_id { get; set; }
    public string status { get; set; } = "";
    public string image_id { get; set; } = "";
    public string instance_type { get; set; } = "";
    public string created_at { get; set; } = "";
    public string? resource_group_id { get; set; }

    public InstanceRecord ToRecord(IReadOnlyList<IpAddress> privateAddresses, IReadOnlyList<IpAddress> publicAddresses, IReadOnlyList<SecurityGroupId> groups)
    {
        NetworkTypes.TryParse(network_type, out var network);
        return new InstanceRecord(InstanceId.Parse(instance_id), account_id, region_id, zone_id, name, description, network,
            vpc_id is null ? null : VpcId.Parse(vpc_id), vswitch_id is null ? null : VSwitchId.Parse(vswitch_id),
            status, image_id, instance_type, privateAddresses, publicAddresses, groups, Time.Parse(created_at), resource_group_id ?? "");
    }

    /// <summary>An instance's row, without its addresses and groups (rows of their own).</summary>
    public static object Of(InstanceRecord i) => new
    {
        instance_id = i.Id.Value, account_id = i.AccountId, region_id = i.RegionId, zone_id = i.ZoneId, name = i.Name, description = i.Description,
        network_type = i.NetworkType.ToWire(), vpc_id = i.VpcId?.Value, vswitch_id = i.VSwitchId?.Value, status = i.Status, image_id = i.ImageId,
        instance_type = i.InstanceType, created_at = Time.Format(i.CreatedAt), resource_group_id = i.ResourceGroupId,
    };
}

internal sealed class NetworkInterfaceRow
{
    public string network_interface_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string zone_id { get; set; } = "";
    public string vpc_id { get; set; } = "";
    public string vswitch_id { get; set; } = "";
    public string? instance_id { get; set; }
    public string interface_type { get; set; } = "";
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string created_at { get; set; } = "";
    public string? resource_group_id { get; set; }

    public NetworkInterfaceRecord ToRecord(IReadOnlyList<IpAddress> addresses, IReadOnlyList<SecurityGroupId> groups) =>
        new(NetworkInterfaceId.Parse(network_interface_id), account_id, region_id, zone_id, VpcId.Parse(vpc_id), VSwitchId.Parse(vswitch_id),
            instance_id is null ? null : InstanceId.Parse(instance_id), Enum.Parse<NetworkInterfaceType>(interface_type), name, description,
            addresses, groups, Time.Parse(created_at), resource_group_id ?? "");

    /// <summary>An ENI's row, without its addresses and groups (a secondary ENI's rows of their own; a primary's, its instance's).</summary>
    public static object Of(NetworkInterfaceRecord e) => new
    {
        network_interface_id = e.Id.Value, account_id = e.AccountId, region_id = e.RegionId, zone_id = e.ZoneId, vpc_id = e.VpcId.Value, vswitch_id = e.VSwitchId.Value,
        instance_id = e.InstanceId?.Value, interface_type = e.Type.ToString(), name = e.Name, description = e.Description, created_at = Time.Format(e.CreatedAt),
        resource_group_id = e.ResourceGroupId,
    };
}

internal sealed class EipRow
{
    public string allocation_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string ip_address { get; set; } = "";
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public long bandwidth { get; set; }
    public string internet_charge_type { get; set; } = "";
    public string? resource_group_id { get; set; }
    public string? instance_type { get; set; }
    public string? instance_id { get; set; }
    public string allocated_at { get; set; } = "";

    public EipRecord ToRecord() =>
        new(allocation_id, account_id, region_id, IpAddress.Parse(ip_address), name, description, (int)bandwidth, internet_charge_type, resource_group_id ?? "",
            instance_type is null ? null : Enum.Parse<EipTargetType>(instance_type), instance_id, Time.Parse(allocated_at));

    public static object Of(EipRecord e) => new
    {
        allocation_id = e.AllocationId, account_id = e.AccountId, region_id = e.RegionId, ip_address = e.Address.ToString(), name = e.Name, description = e.Description,
        bandwidth = e.Bandwidth, internet_charge_type = e.InternetChargeType, resource_group_id = e.ResourceGroupId, instance_type = e.TargetType?.ToString(),
        instance_id = e.TargetId, allocated_at = Time.Format(e.AllocatedAt),
    };
}

internal sealed class PrefixListRow
{
    public string prefix_list_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public string address_family { get; set; } = "";
    public long max_entries { get; set; }
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string resource_group_id { get; set; } = "";
    public string created_at { get; set; } = "";

    public PrefixListRecord ToRecord(IReadOnlyList<PrefixListEntryRecord> entries) =>
        new(PrefixListId.Parse(prefix_list_id), account_id, region_id, address_family == "IPv6", (int)max_entries, name, description, resource_group_id, Time.Parse(created_at), entries);

    /// <summary>A list's row, without its entries (rows of their own).</summary>
    public static object Of(PrefixListRecord l) => new
    {
        prefix_list_id = l.Id.Value, account_id = l.AccountId, region_id = l.RegionId, address_family = l.AddressFamily, max_entries = l.MaxEntries, name = l.Name,
        description = l.Description, resource_group_id = l.ResourceGroupId, created_at = Time.Format(l.CreatedAt),
    };
}

internal sealed class PortRangeListRow
{
    public string port_range_list_id { get; set; } = "";
    public long account_id { get; set; }
    public string region_id { get; set; } = "";
    public long max_entries { get; set; }
    public string name { get; set; } = "";
    public string description { get; set; } = "";
    public string resource_group_id { get; set; } = "";
    public string created_at { get; set; } = "";

    public PortRangeListRecord ToRecord(IReadOnlyList<PortRangeListEntryRecord> entries) =>
        new(PortRangeListId.Parse(port_range_list_id), account_id, region_id, (int)max_entries, name, description, resource_group_id, Time.Parse(created_at), entries);

    public static object Of(PortRangeListRecord l) => new
    {
        port_range_list_id = l.Id.Value, account_id = l.AccountId, region_id = l.RegionId, max_entries = l.MaxEntries, name = l.Name, description = l.Description,
        resource_group_id = l.ResourceGroupId, created_at = Time.Format(l.CreatedAt),
    };
}

internal sealed class HostRow
{
    public string host_name { get; set; } = "";
    public string interface_patterns { get; set; } = "";
    public string address_space { get; set; } = "";
    public string created_at { get; set; } = "";
    public HostRecord ToRecord() => new(host_name, Palisade.Domain.Hosts.HostDeclaration.Parse(interface_patterns, address_space), Time.Parse(created_at));
}

internal sealed class HostCredentialRow
{
    public string access_key_id { get; set; } = "";
    public string host_name { get; set; } = "";
    public byte[] secret_ciphertext { get; set; } = [];
    public string status { get; set; } = "";
    public string created_at { get; set; } = "";
    public string? last_used_at { get; set; }
    public HostCredentialRecord ToRecord() => new(access_key_id, host_name, secret_ciphertext, Enum.Parse<AccessKeyStatus>(status), Time.Parse(created_at))
    {
        LastUsedAt = last_used_at is null ? null : Time.Parse(last_used_at),
    };
}

internal sealed class HostBindingRow
{
    public string? network_interface_id { get; set; }
    public string instance_id { get; set; } = "";
    public long account_id { get; set; }
    public string host_name { get; set; } = "";
    public string interface_name { get; set; } = "";
    public string bound_at { get; set; } = "";
    public HostBindingRecord ToRecord() => new(InstanceId.Parse(instance_id), account_id, host_name, interface_name, Time.Parse(bound_at))
    {
        NetworkInterfaceId = network_interface_id is { Length: > 0 } eni ? NetworkInterfaceId.Parse(eni) : null,
    };
}

internal sealed class AgentReportRow
{
    public long account_id { get; set; }
    public string host_name { get; set; } = "";
    public string instance_id { get; set; } = "";
    public string network_interface_id { get; set; } = "";
    public long applied_revision { get; set; }
    public string reported_at { get; set; } = "";
    public AgentReportRecord ToRecord() => new(account_id, host_name, InstanceId.Parse(instance_id), applied_revision, Time.Parse(reported_at))
    {
        NetworkInterfaceId = network_interface_id.Length > 0 ? NetworkInterfaceId.Parse(network_interface_id) : null,
    };
}

internal sealed class RuleUsageRow
{
    public long account_id { get; set; }
    public string security_group_rule_id { get; set; } = "";
    public string host_name { get; set; } = "";
    public string bucket_start { get; set; } = "";
    public long packets { get; set; }
    public long bytes { get; set; }
    public string last_hit_at { get; set; } = "";
    public RuleUsageRecord ToRecord() => new(account_id, security_group_rule_id, host_name, Time.Parse(bucket_start), packets, bytes, Time.Parse(last_hit_at));
}

internal sealed class UsageHostRow
{
    public long account_id { get; set; }
    public string host_name { get; set; } = "";
    public string counting_since { get; set; } = "";
    public string last_report_at { get; set; } = "";
    public UsageHostRecord ToRecord() => new(account_id, host_name, Time.Parse(counting_since), Time.Parse(last_report_at));
}
