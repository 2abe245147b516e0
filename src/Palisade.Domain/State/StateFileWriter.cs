using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Palisade.Domain.Ecs;
using Palisade.Domain.Groups;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Domain.State;

/// <summary>
/// Writes a <see cref="NetworkState"/> as a state file, the inverse of <see cref="StateFileReader"/>:
/// reading what it writes gives the same state (a property test holds it to that). The shapes are
/// ECS's own answers (ecs-api.md §3.3, §3.4, §3.13), unset fields as empty strings, so a file it
/// writes reads as a real account's export does. It writes what decides traffic, the state; the
/// descriptive fields only a live resource has (zone, instance type, image, EIP allocation) are not
/// in a state and so not in its file.
/// </summary>
public static class StateFileWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(NetworkState state)
    {
        var output = new ArrayBufferWriter<byte>();
        Write(state, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>The state file as UTF-8, appended to <paramref name="output"/> (no string made: the analysis process's input, issue 19).</summary>
    public static void Write(NetworkState state, IBufferWriter<byte> output)
    {
        using (var w = new Utf8JsonWriter(output, Options))
        {
            w.WriteStartObject();
            w.WriteString("RegionId", state.RegionId);
            WriteArray(w, "SecurityGroups", state.Groups, WriteGroup);
            WriteArray(w, "Instances", state.Instances, WriteInstance);
            // ENIs, prefix lists and port range lists only when there are any, as in files made before them.
            if (state.Instances.Any(i => i.NetworkInterfaceId is not null || i.SecondaryInterfaces.Length > 0))
                WriteArray(w, "NetworkInterfaces", state.Instances, WriteInterfaces);
            if (state.PrefixLists.Length > 0)
                WriteArray(w, "PrefixLists", state.PrefixLists, WritePrefixList);
            if (state.PortRangeLists.Length > 0)
                WriteArray(w, "PortRangeLists", state.PortRangeLists, WritePortRangeList);
            w.WriteEndObject();
        }
    }

    private static void WriteGroup(Utf8JsonWriter w, SecurityGroup g)
    {
        w.WriteStartObject();
        w.WriteString("SecurityGroupId", g.Id.Value);
        w.WriteString("SecurityGroupName", g.Name);
        w.WriteString("Description", g.Description);
        w.WriteString("VpcId", g.VpcId?.Value ?? "");
        w.WriteString("SecurityGroupType", g.Type.ToWire());
        w.WriteString("InnerAccessPolicy", g.InnerAccessPolicy.ToWire());
        w.WriteString("CreationTime", Time(g.CreationTime));
        WriteTags(w, g.Tags);
        WriteWrapped(w, "Permissions", "Permission", g.Rules, WritePermission);
        w.WriteEndObject();
    }

    /// <summary>A rule as DescribeSecurityGroupAttribute writes it: its ID and direction, then every request field (<see cref="PermissionFields"/>), "" when unset.</summary>
    private static void WritePermission(Utf8JsonWriter w, SecurityGroupRule r)
    {
        w.WriteStartObject();
        w.WriteString("SecurityGroupRuleId", r.Id.Value);
        w.WriteString("Direction", r.Direction.ToWire());
        var present = PermissionFields.Of(r).Pairs().ToDictionary(StringComparer.Ordinal);
        foreach (var name in PermissionFields.Names)
        {
            if (name == nameof(PermissionFields.Priority))
                w.WriteNumber(name, r.Priority.Value); // a number in ECS's answers, as the reader accepts
            else
                w.WriteString(name, present.GetValueOrDefault(name, ""));
        }
        w.WriteString("CreateTime", Time(r.CreateTime));
        w.WriteEndObject();
    }

    /// <summary>
    /// A DescribeInstances item. IPv4 private addresses are the VPC's (or the classic network's inner)
    /// addresses, IPv6 ones the primary ENI's <c>Ipv6Sets</c>, as ECS writes them; public ones and an
    /// EIP are one list in a state, so all go to <c>PublicIpAddress</c>.
    /// </summary>
    private static void WriteInstance(Utf8JsonWriter w, Instance i)
    {
        var isVpc = i.NetworkType == NetworkType.Vpc;
        var v4 = i.PrivateAddresses.Where(a => !a.IsV6).ToList();
        var v6 = i.PrivateAddresses.Where(a => a.IsV6).ToList();
        w.WriteStartObject();
        w.WriteString("InstanceId", i.Id.Value);
        w.WriteString("InstanceName", i.Name);
        w.WriteString("Status", i.Status);
        w.WriteString("InstanceNetworkType", i.NetworkType.ToWire());
        WriteStrings(w, "SecurityGroupIds", "SecurityGroupId", i.SecurityGroupIds.Select(g => g.Value));
        w.WriteStartObject("VpcAttributes");
        w.WriteString("VpcId", i.VpcId?.Value ?? "");
        w.WriteString("VSwitchId", i.VSwitchId?.Value ?? "");
        WriteStrings(w, "PrivateIpAddress", "IpAddress", isVpc ? v4.Select(a => a.ToString()) : []);
        w.WriteEndObject();
        WriteStrings(w, "InnerIpAddress", "IpAddress", isVpc ? [] : v4.Select(a => a.ToString()));
        WriteStrings(w, "PublicIpAddress", "IpAddress", i.PublicAddresses.Select(a => a.ToString()));
        w.WriteStartObject("NetworkInterfaces");
        w.WriteStartArray("NetworkInterface");
        w.WriteStartObject();
        w.WriteString("NetworkInterfaceId", i.NetworkInterfaceId?.Value ?? "");
        w.WriteString("Type", "Primary");
        WriteWrapped(w, "Ipv6Sets", "Ipv6Set", v6, (w, a) => WriteObject(w, "Ipv6Address", a.ToString()));
        w.WriteEndObject();
        // A secondary ENI by its ID only here: its addresses and groups are in $.NetworkInterfaces.
        foreach (var eni in i.SecondaryInterfaces)
        {
            w.WriteStartObject();
            w.WriteString("NetworkInterfaceId", eni.Id.Value);
            w.WriteString("Type", "Secondary");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        WriteTags(w, i.Tags);
        w.WriteEndObject();
    }

    /// <summary>
    /// The instance's ENIs as DescribeNetworkInterfaces items: the primary by its ID alone (its
    /// addresses and groups are the instance's), each secondary with its own.
    /// </summary>
    private static void WriteInterfaces(Utf8JsonWriter w, Instance i)
    {
        if (i.NetworkInterfaceId is { } primary)
        {
            w.WriteStartObject();
            w.WriteString("NetworkInterfaceId", primary.Value);
            w.WriteString("Type", "Primary");
            w.WriteString("InstanceId", i.Id.Value);
            w.WriteString("VpcId", i.VpcId?.Value ?? "");
            w.WriteEndObject();
        }
        foreach (var eni in i.SecondaryInterfaces)
            WriteSecondary(w, i, eni);
    }

    /// <summary>
    /// A secondary ENI. ECS associates a public address with one private IPv4 address, or with the
    /// ENI itself (<c>AssociatedPublicIp</c>); the reader takes the private sets' first, then the
    /// ENI's, so the last public address is the ENI's and the others ride on the private sets in order.
    /// </summary>
    private static void WriteSecondary(Utf8JsonWriter w, Instance owner, NetworkInterface eni)
    {
        var v4 = eni.PrivateAddresses.Where(a => !a.IsV6).ToList();
        var v6 = eni.PrivateAddresses.Where(a => a.IsV6).ToList();
        var riding = eni.PublicAddresses.Length > 1 ? eni.PublicAddresses[..^1] : [];
        if (riding.Length > v4.Count)
            throw new ArgumentException($"network interface {eni.Id} has {eni.PublicAddresses.Length} public addresses but {v4.Count} private IPv4 ones to associate them with", nameof(owner));
        w.WriteStartObject();
        w.WriteString("NetworkInterfaceId", eni.Id.Value);
        w.WriteString("Type", "Secondary");
        w.WriteString("InstanceId", owner.Id.Value);
        w.WriteString("VpcId", owner.VpcId?.Value ?? "");
        w.WriteString("VSwitchId", eni.VSwitchId?.Value ?? "");
        w.WriteString("MacAddress", eni.MacAddress?.ToString() ?? "");
        w.WriteString("PrivateIpAddress", v4.Count > 0 ? v4[0].ToString() : "");
        WriteStrings(w, "SecurityGroupIds", "SecurityGroupId", eni.SecurityGroupIds.Select(g => g.Value));
        w.WriteStartObject("AssociatedPublicIp");
        w.WriteString("PublicIpAddress", eni.PublicAddresses.Length > 0 ? eni.PublicAddresses[^1].ToString() : "");
        w.WriteEndObject();
        WriteWrapped(w, "PrivateIpSets", "PrivateIpSet", v4.Select((a, n) => (Address: a, Public: n < riding.Length ? riding[n].ToString() : "")), (w, set) =>
        {
            w.WriteStartObject();
            w.WriteString("PrivateIpAddress", set.Address.ToString());
            w.WriteBoolean("Primary", set.Address == v4[0]);
            w.WriteStartObject("AssociatedPublicIp");
            w.WriteString("PublicIpAddress", set.Public);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        WriteWrapped(w, "Ipv6Sets", "Ipv6Set", v6, (w, a) => WriteObject(w, "Ipv6Address", a.ToString()));
        w.WriteEndObject();
    }

    private static void WritePrefixList(Utf8JsonWriter w, PrefixList l)
    {
        w.WriteStartObject();
        w.WriteString("PrefixListId", l.Id.Value);
        w.WriteString("PrefixListName", l.Name);
        w.WriteString("AddressFamily", l.IsV6 ? "IPv6" : "IPv4");
        WriteMaxEntries(w, l.MaxEntries);
        WriteWrapped(w, "Entries", "Entry", l.Entries, (w, cidr) => WriteObject(w, "Cidr", cidr.ToString()));
        w.WriteEndObject();
    }

    private static void WritePortRangeList(Utf8JsonWriter w, PortRangeList l)
    {
        w.WriteStartObject();
        w.WriteString("PortRangeListId", l.Id.Value);
        w.WriteString("PortRangeListName", l.Name);
        WriteMaxEntries(w, l.MaxEntries);
        WriteWrapped(w, "Entries", "Entry", l.Entries, (w, range) => WriteObject(w, "PortRange", range.ToString()));
        w.WriteEndObject();
    }

    /// <summary>0 is a list read without its <c>MaxEntries</c>: left out, as it came.</summary>
    private static void WriteMaxEntries(Utf8JsonWriter w, int maxEntries)
    {
        if (maxEntries > 0)
            w.WriteNumber("MaxEntries", maxEntries);
    }

    private static void WriteTags(Utf8JsonWriter w, ImmutableArray<Tag> tags) =>
        WriteWrapped(w, "Tags", "Tag", tags.IsDefault ? [] : tags, (w, t) =>
        {
            w.WriteStartObject();
            w.WriteString("TagKey", t.Key);
            w.WriteString("TagValue", t.Value);
            w.WriteEndObject();
        });

    /// <summary>A list as ECS wraps it: <c>"Permissions": {"Permission": [...]}</c>.</summary>
    private static void WriteWrapped<T>(Utf8JsonWriter w, string name, string itemName, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        w.WriteStartObject(name);
        WriteArray(w, itemName, items, write);
        w.WriteEndObject();
    }

    private static void WriteArray<T>(Utf8JsonWriter w, string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
            write(w, item);
        w.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, string itemName, IEnumerable<string> items) =>
        WriteWrapped(w, name, itemName, items, (w, s) => w.WriteStringValue(s));

    private static void WriteObject(Utf8JsonWriter w, string name, string value)
    {
        w.WriteStartObject();
        w.WriteString(name, value);
        w.WriteEndObject();
    }

    /// <summary>ECS's times, <c>yyyy-MM-ddTHH:mm:ssZ</c>; "" for a time the state does not know.</summary>
    private static string Time(DateTimeOffset t) =>
        t == default ? "" : t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
