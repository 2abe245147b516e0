using System.Text.Json;
using Palisade.Storage.Records;

namespace Palisade.Storage.Backup;

/// <summary>
/// A whole control plane as one JSON document, and back: every row of every table (accounts, keys
/// with their encrypted secrets, VPCs, groups, rules with their IDs and times, instances, tags,
/// ClientTokens, hosts with their declarations and credentials (secrets encrypted), host bindings, the revision history (with the hosts each change concerned), the action trail, the rules' usage, observed flows and which hosts sample them; not agent reports, which agents send again), so that it moves losslessly between SQLite and PostgreSQL.
/// Table and column names come from this list only, never from the file.
/// </summary>
public static class StoreBackup
{
    public const string Format = "palisade-backup";
    public const int Version = 1;

    private enum Kind { Text, Integer, Boolean, Bytes }

    /// <param name="FormerName">The table's name in backups of an older format, read when the file lacks <paramref name="Name"/>.</param>
    /// <param name="WhenAbsent">What a column a backup of an older version lacks holds instead of null (for a NOT NULL column added since).</param>
    private sealed record Table(string Name, string OrderBy, (string Column, Kind Kind)[] Columns, string? FormerName = null, IReadOnlyDictionary<string, object>? WhenAbsent = null);

    private static (string, Kind) T(string c) => (c, Kind.Text);
    private static (string, Kind) I(string c) => (c, Kind.Integer);

    // In an order that satisfies the foreign keys.
    private static readonly Table[] Tables =
    [
        new("accounts", "account_id", [I("account_id"), T("name"), T("created_at")]),
        new("access_keys", "access_key_id", [T("access_key_id"), I("account_id"), ("secret_ciphertext", Kind.Bytes), T("status"), ("read_only", Kind.Boolean), T("created_at")]),
        new("hosts", "host_name", [T("host_name"), T("interface_patterns"), T("address_space"), T("created_at")]),
        new("host_credentials", "access_key_id", [T("access_key_id"), T("host_name"), ("secret_ciphertext", Kind.Bytes), T("status"), T("created_at")]),
        new("vpcs", "vpc_id", [T("vpc_id"), I("account_id"), T("region_id"), T("cidr_block"), T("name"), T("description"), T("status"), T("created_at")]),
        new("vswitches", "vswitch_id", [T("vswitch_id"), I("account_id"), T("region_id"), T("vpc_id"), T("zone_id"), T("cidr_block"), T("name"), T("description"), T("status"), T("created_at")]),
        new("security_groups", "security_group_id", [T("security_group_id"), I("account_id"), T("region_id"), T("vpc_id"), T("name"), T("description"), T("group_type"), T("inner_access_policy"), T("created_at"), I("next_rule_position"), T("resource_group_id")]),
        new("security_group_rules", "security_group_id, position", [T("rule_id"), T("security_group_id"), I("position"), T("direction"), T("ip_protocol"), T("port_range"), T("source_port_range"),
            T("policy"), I("priority"), T("nic_type"), T("peer_kind"), T("peer_value"), T("peer_owner_account"), I("peer_owner_id"), T("local_cidr"), T("port_range_list_id"),
            T("description"), T("created_at"), T("identity")]),
        new("prefix_lists", "prefix_list_id", [T("prefix_list_id"), I("account_id"), T("region_id"), T("address_family"), I("max_entries"), T("name"), T("description"), T("resource_group_id"), T("created_at")]),
        new("prefix_list_entries", "prefix_list_id, position", [T("prefix_list_id"), T("cidr"), T("description"), I("position")]),
        new("port_range_lists", "port_range_list_id", [T("port_range_list_id"), I("account_id"), T("region_id"), I("max_entries"), T("name"), T("description"), T("resource_group_id"), T("created_at")]),
        new("port_range_list_entries", "port_range_list_id, position", [T("port_range_list_id"), T("port_range"), T("description"), I("position")]),
        new("instances", "instance_id", [T("instance_id"), I("account_id"), T("region_id"), T("zone_id"), T("name"), T("description"), T("network_type"), T("vpc_id"), T("vswitch_id"),
            T("status"), T("image_id"), T("instance_type"), T("created_at"), T("resource_group_id")]),
        new("instance_addresses", "instance_id, kind, position", [T("instance_id"), T("kind"), T("address"), I("position"), T("scope")]),
        new("memberships", "instance_id, position", [T("instance_id"), T("security_group_id"), I("position")]),
        new("network_interfaces", "network_interface_id", [T("network_interface_id"), I("account_id"), T("region_id"), T("zone_id"), T("vpc_id"), T("vswitch_id"), T("instance_id"),
            T("interface_type"), T("name"), T("description"), T("created_at"), T("resource_group_id")]),
        new("network_interface_addresses", "network_interface_id, position", [T("network_interface_id"), T("address"), I("position"), T("scope")]),
        new("network_interface_groups", "network_interface_id, position", [T("network_interface_id"), T("security_group_id"), I("position")]),
        // After the ENIs it names; a backup made before bindings were per ENI has no network_interface_id (its bindings become their instances' primary ENIs').
        new("host_bindings", "host_name, interface_name", [T("network_interface_id"), T("instance_id"), I("account_id"), T("host_name"), T("interface_name"), T("bound_at")]),
        new("eip_addresses", "allocation_id", [T("allocation_id"), I("account_id"), T("region_id"), T("ip_address"), T("name"), T("description"), I("bandwidth"),
            T("internet_charge_type"), T("resource_group_id"), T("instance_type"), T("instance_id"), T("allocated_at")]),
        new("tags", "resource_type, resource_id, position", [I("account_id"), T("resource_type"), T("resource_id"), T("tag_key"), T("tag_value"), I("position")]),
        new("client_tokens", "account_id, token", [I("account_id"), T("token"), T("action"), T("request_hash"), T("response_json"), T("created_at")]),
        new("rule_usage", "account_id, security_group_rule_id, host_name, bucket_start", [I("account_id"), T("security_group_rule_id"), T("host_name"), T("bucket_start"),
            I("packets"), I("bytes"), T("last_hit_at")]),
        new("usage_hosts", "account_id, host_name", [I("account_id"), T("host_name"), T("counting_since"), T("last_report_at")]),
        // A backup made before flows were per ENI has no network_interface_id: its flows become their instances' primary ENIs', as migration 014 does.
        new("observed_flows", "account_id, instance_id, network_interface_id, minute_start, source_ip, ip_protocol, port, host_name", [I("account_id"), T("instance_id"), T("network_interface_id"), T("source_ip"),
            T("ip_protocol"), I("port"), T("minute_start"), T("host_name"), I("connections")], WhenAbsent: new Dictionary<string, object> { ["network_interface_id"] = "" }),
        new("flow_hosts", "account_id, host_name", [I("account_id"), T("host_name"), T("sampling_since"), T("last_report_at"), I("dropped")]),
        new("hosts_without_flow_sampling", "host_name", [T("host_name"), T("since")]),
        new("revisions", "revision", [I("revision"), I("account_id"), T("action"), T("committed_at"), I("account_revision")]),
        new("revision_hosts", "revision, host_name", [I("revision"), T("host_name")], FormerName: "host_changes"),
        // Without event_id: the restoring store numbers the events anew, in the same order, so that
        // its own counter (a PostgreSQL sequence, SQLite's AUTOINCREMENT) stays ahead of them.
        new("action_trail", "event_id", [T("event_time"), I("account_id"), T("access_key_id"), T("action"), T("api_version"), T("request_id"), T("parameters"),
            I("http_status"), T("result_code"), I("revision")]),
    ];

    public sealed record Summary(int Tables, int Rows, long Revision);

    /// <param name="except">Tables left out (by name), for a digest of the control plane that ignores bookkeeping such as the action trail.</param>
    /// <param name="indented">Off for a digest, where only the bytes' identity matters.</param>
    public static Summary Write(IStore store, Stream output, IReadOnlyCollection<string>? except = null, bool indented = true)
    {
        return store.Read(s =>
        {
            using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented });
            var rows = 0;
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteString("source", store.Kind);
            var revision = s.CurrentRevision();
            w.WriteNumber("revision", revision);
            w.WriteStartObject("tables");
            foreach (var table in Tables)
            {
                if (except?.Contains(table.Name) == true)
                    continue;
                w.WriteStartArray(table.Name);
                foreach (var row in s.DumpTable(table.Name, [.. table.Columns.Select(c => c.Column)], table.OrderBy))
                {
                    w.WriteStartObject();
                    foreach (var (column, kind) in table.Columns)
                    {
                        w.WritePropertyName(column);
                        WriteValue(w, row[column], kind);
                    }
                    w.WriteEndObject();
                    rows++;
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            return new Summary(Tables.Length, rows, revision);
        });
    }

    private static void WriteValue(Utf8JsonWriter w, object? value, Kind kind)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); return;
            case byte[] bytes: w.WriteBase64StringValue(bytes); return;
        }
        switch (kind)
        {
            case Kind.Integer: w.WriteNumberValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)); return;
            case Kind.Boolean: w.WriteBooleanValue(value is bool b ? b : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) != 0); return;
            default: w.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); return;
        }
    }

    /// <summary>
    /// Loads a backup into an empty store, in one transaction: all of it or, on any problem, nothing.
    /// The restore is itself recorded as one more revision, so that followers of the change feed resync.
    /// </summary>
    public static Summary Restore(IStore store, Stream input)
    {
        using var doc = JsonDocument.Parse(input);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.GetString() != Format)
            throw new InvalidDataException("not a Palisade backup (no \"format\": \"palisade-backup\")");
        if (!root.TryGetProperty("version", out var version) || version.GetInt32() != Version)
            throw new InvalidDataException($"backup version {version} is not supported; this Palisade reads version {Version}");
        var tables = root.GetProperty("tables");
        var loaded = store.Write("Restore", null, s =>
        {
            if (s.ListAccounts().Count > 0 || s.CurrentRevision() > 0)
                throw new InvalidOperationException("restore needs an empty control plane; this one has accounts or history");
            var rows = 0;
            foreach (var table in Tables)
            {
                if (!tables.TryGetProperty(table.Name, out var items) && (table.FormerName is null || !tables.TryGetProperty(table.FormerName, out items)))
                    continue;
                foreach (var item in items.EnumerateArray())
                {
                    var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (column, kind) in table.Columns)
                        row[column] = item.TryGetProperty(column, out var v) ? ReadValue(v, kind, table.Name, column) : table.WhenAbsent?.GetValueOrDefault(column);
                    s.LoadRow(table.Name, row);
                    rows++;
                }
            }
            s.NumberAccountRevisions();
            s.AddMissingPrimaryNetworkInterfaces();
            s.DeclareHostsOfOldBindings();
            return rows;
        });
        return new Summary(Tables.Length, loaded, store.CurrentRevision());
    }

    private static object? ReadValue(JsonElement v, Kind kind, string table, string column)
    {
        if (v.ValueKind == JsonValueKind.Null)
            return null;
        try
        {
            return kind switch
            {
                Kind.Integer => v.GetInt64(),
                Kind.Boolean => v.GetBoolean(),
                Kind.Bytes => v.GetBytesFromBase64(),
                _ => v.GetString(),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{table}.{column}: {v.GetRawText()} is not a {kind.ToString().ToLowerInvariant()}");
        }
    }
}
