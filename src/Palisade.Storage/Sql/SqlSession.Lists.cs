using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

// Prefix lists and port-range lists (schema 006).
internal sealed partial class SqlSession
{
    public int RuleQuotaUsed(SecurityGroupId groupId) =>
        (int)Scalar("""
            SELECT COALESCE(SUM(COALESCE(pl.max_entries, 1) * COALESCE(prl.max_entries, 1)), 0)
            FROM security_group_rules r
            LEFT JOIN prefix_lists pl ON r.peer_kind = @kind AND pl.prefix_list_id = r.peer_value
            LEFT JOIN port_range_lists prl ON prl.port_range_list_id = r.port_range_list_id
            WHERE r.security_group_id = @id
            """, new { id = groupId.Value, kind = RuleCodec.PeerPrefixList });

    // Prefix lists

    public void InsertPrefixList(PrefixListRecord l)
    {
        Execute("""
            INSERT INTO prefix_lists (prefix_list_id, account_id, region_id, address_family, max_entries, name, description, resource_group_id, created_at)
            VALUES (@id, @AccountId, @RegionId, @family, @MaxEntries, @Name, @Description, @ResourceGroupId, @at)
            """, new { id = l.Id.Value, l.AccountId, l.RegionId, family = l.AddressFamily, l.MaxEntries, l.Name, l.Description, l.ResourceGroupId, at = Time.Format(l.CreatedAt) });
        InsertPrefixListEntries(l);
    }

    private void InsertPrefixListEntries(PrefixListRecord l)
    {
        var position = 0;
        foreach (var e in l.Entries)
            Execute("INSERT INTO prefix_list_entries (prefix_list_id, cidr, description, position) VALUES (@id, @cidr, @Description, @position)",
                new { id = l.Id.Value, cidr = e.Cidr.ToString(), e.Description, position = ++position });
    }

    public PrefixListRecord? FindPrefixList(long accountId, PrefixListId id) =>
        PrefixListsWhere("account_id = @accountId AND prefix_list_id = @id", new { accountId, id = id.Value }).FirstOrDefault();

    public IReadOnlyList<PrefixListRecord> ListPrefixLists(long accountId, string regionId) =>
        PrefixListsWhere("account_id = @accountId AND region_id = @regionId", new { accountId, regionId });

    private List<PrefixListRecord> PrefixListsWhere(string where, object args)
    {
        var rows = Query<PrefixListRow>($"SELECT * FROM prefix_lists WHERE {where} ORDER BY prefix_list_id", args).ToList();
        if (rows.Count == 0)
            return [];
        var entries = Query<(string Id, string Cidr, string Description)>(
                $"SELECT prefix_list_id, cidr, description FROM prefix_list_entries WHERE prefix_list_id IN (SELECT prefix_list_id FROM prefix_lists WHERE {where}) ORDER BY prefix_list_id, position", args)
            .ToLookup(e => e.Id, e => new PrefixListEntryRecord(Cidr.Parse(e.Cidr), e.Description));
        return [.. rows.Select(r => r.ToRecord([.. entries[r.prefix_list_id]]))];
    }

    public int CountPrefixLists(long accountId, string regionId) =>
        (int)Scalar("SELECT COUNT(*) FROM prefix_lists WHERE account_id = @accountId AND region_id = @regionId", new { accountId, regionId });

    public void UpdatePrefixList(PrefixListRecord l)
    {
        Touch(Touched.PrefixList, l.Id.Value);
        Execute("UPDATE prefix_lists SET name = @Name, description = @Description WHERE prefix_list_id = @id", new { id = l.Id.Value, l.Name, l.Description });
        Execute("DELETE FROM prefix_list_entries WHERE prefix_list_id = @id", new { id = l.Id.Value });
        InsertPrefixListEntries(l);
    }

    public void DeletePrefixList(PrefixListId id)
    {
        Touch(Touched.PrefixList, id.Value);
        Execute("DELETE FROM prefix_list_entries WHERE prefix_list_id = @id", new { id = id.Value });
        Execute("DELETE FROM tags WHERE resource_type = @type AND resource_id = @id", new { id = id.Value, type = TaggedResourceTypes.PrefixList });
        Execute("DELETE FROM prefix_lists WHERE prefix_list_id = @id", new { id = id.Value });
    }

    public IReadOnlyList<SecurityGroupId> GroupsUsingPrefixList(PrefixListId id) =>
        [.. Query<string>("SELECT DISTINCT security_group_id FROM security_group_rules WHERE peer_kind = @kind AND peer_value = @id ORDER BY security_group_id",
            new { id = id.Value, kind = RuleCodec.PeerPrefixList }).Select(SecurityGroupId.Parse)];

    // Port-range lists

    public void InsertPortRangeList(PortRangeListRecord l)
    {
        Execute("""
            INSERT INTO port_range_lists (port_range_list_id, account_id, region_id, max_entries, name, description, resource_group_id, created_at)
            VALUES (@id, @AccountId, @RegionId, @MaxEntries, @Name, @Description, @ResourceGroupId, @at)
            """, new { id = l.Id.Value, l.AccountId, l.RegionId, l.MaxEntries, l.Name, l.Description, l.ResourceGroupId, at = Time.Format(l.CreatedAt) });
        InsertPortRangeListEntries(l);
    }

    private void InsertPortRangeListEntries(PortRangeListRecord l)
    {
        var position = 0;
        foreach (var e in l.Entries)
            Execute("INSERT INTO port_range_list_entries (port_range_list_id, port_range, description, position) VALUES (@id, @range, @Description, @position)",
                new { id = l.Id.Value, range = e.Range.ToString(), e.Description, position = ++position });
    }

    public PortRangeListRecord? FindPortRangeList(long accountId, PortRangeListId id) =>
        PortRangeListsWhere("account_id = @accountId AND port_range_list_id = @id", new { accountId, id = id.Value }).FirstOrDefault();

    public IReadOnlyList<PortRangeListRecord> ListPortRangeLists(long accountId, string regionId) =>
        PortRangeListsWhere("account_id = @accountId AND region_id = @regionId", new { accountId, regionId });

    private List<PortRangeListRecord> PortRangeListsWhere(string where, object args)
    {
        var rows = Query<PortRangeListRow>($"SELECT * FROM port_range_lists WHERE {where} ORDER BY port_range_list_id", args).ToList();
        if (rows.Count == 0)
            return [];
        var entries = Query<(string Id, string Range, string Description)>(
                $"SELECT port_range_list_id, port_range, description FROM port_range_list_entries WHERE port_range_list_id IN (SELECT port_range_list_id FROM port_range_lists WHERE {where}) ORDER BY port_range_list_id, position", args)
            .ToLookup(e => e.Id, e => new PortRangeListEntryRecord(PortRange.ParseFor(IpProtocol.Tcp, e.Range).Value, e.Description));
        return [.. rows.Select(r => r.ToRecord([.. entries[r.port_range_list_id]]))];
    }

    public int CountPortRangeLists(long accountId, string regionId) =>
        (int)Scalar("SELECT COUNT(*) FROM port_range_lists WHERE account_id = @accountId AND region_id = @regionId", new { accountId, regionId });

    public void UpdatePortRangeList(PortRangeListRecord l)
    {
        Touch(Touched.PortRangeList, l.Id.Value);
        Execute("UPDATE port_range_lists SET name = @Name, description = @Description WHERE port_range_list_id = @id", new { id = l.Id.Value, l.Name, l.Description });
        Execute("DELETE FROM port_range_list_entries WHERE port_range_list_id = @id", new { id = l.Id.Value });
        InsertPortRangeListEntries(l);
    }

    public void DeletePortRangeList(PortRangeListId id)
    {
        Touch(Touched.PortRangeList, id.Value);
        Execute("DELETE FROM port_range_list_entries WHERE port_range_list_id = @id", new { id = id.Value });
        Execute("DELETE FROM tags WHERE resource_type = @type AND resource_id = @id", new { id = id.Value, type = TaggedResourceTypes.PortRangeList });
        Execute("DELETE FROM port_range_lists WHERE port_range_list_id = @id", new { id = id.Value });
    }

    public IReadOnlyList<SecurityGroupId> GroupsUsingPortRangeList(PortRangeListId id) =>
        [.. Query<string>("SELECT DISTINCT security_group_id FROM security_group_rules WHERE port_range_list_id = @id ORDER BY security_group_id",
            new { id = id.Value }).Select(SecurityGroupId.Parse)];
}

#pragma warning disable IDE1006 // names follow the columns

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
}
