using System.Collections.Concurrent;
using Dapper;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

// The account resource families (IAccountTable): one set of statements over their descriptors
// (Tables.cs); what a family does besides its row (its parts, what it touches for the hosts' feed)
// is given to its AccountTable here.
internal sealed partial class SqlSession
{
    public IAccountTable<VpcId, VpcRecord> Vpcs => field ??= new AccountTable<VpcId, VpcRecord, VpcRow>(this, Tables.Vpcs, id => id.Value, VpcRow.Of, Each<VpcRow, VpcRecord>(r => r.ToRecord()));

    public IAccountTable<VSwitchId, VSwitchRecord> VSwitches => field ??=
        new AccountTable<VSwitchId, VSwitchRecord, VSwitchRow>(this, Tables.VSwitches, id => id.Value, VSwitchRow.Of, Each<VSwitchRow, VSwitchRecord>(r => r.ToRecord()));

    public IAccountTable<SecurityGroupId, GroupRecord> Groups => field ??=
        new AccountTable<SecurityGroupId, GroupRecord, GroupRow>(this, Tables.Groups, id => id.Value, GroupRow.Of, Each<GroupRow, GroupRecord>(r => r.ToRecord()))
        {
            // A group made concerns no host yet (none has a NIC in it); named so that the account's views bring
            // it forward instead of reloading (issue 17, seventeenth session).
            Inserting = g => TouchGroup(g.Id),
            Deleting = id =>
            {
                TouchGroup(id);
                Touch(Touched.Members, id.Value);
            },
        };

    public IAccountTable<InstanceId, InstanceRecord> Instances => field ??=
        new AccountTable<InstanceId, InstanceRecord, InstanceRow>(this, Tables.Instances, id => id.Value, InstanceRow.Of, Complete)
        {
            Inserting = i => TouchInstance(i.Id),
            Inserted = InsertInstanceParts,
            Deleting = DetachFromInstance,
        };

    public IAccountTable<NetworkInterfaceId, NetworkInterfaceRecord> NetworkInterfaces => field ??=
        new AccountTable<NetworkInterfaceId, NetworkInterfaceRecord, NetworkInterfaceRow>(this, Tables.NetworkInterfaces, id => id.Value, NetworkInterfaceRow.Of, CompleteInterfaces)
        {
            Inserting = e => TouchNetworkInterface(e.Id),
            Inserted = InsertInterfaceParts,
            Deleting = DetachInterface,
        };

    public IAccountTable<string, EipRecord> Eips => field ??=
        new AccountTable<string, EipRecord, EipRow>(this, Tables.Eips, id => id, EipRow.Of, Each<EipRow, EipRecord>(r => r.ToRecord())) { Deleting = TouchEipTarget };

    public IEntryListTable<PrefixListId, PrefixListRecord> PrefixLists => field ??=
        new EntryListTable<PrefixListId, PrefixListRecord, PrefixListRow>(this, Tables.PrefixLists, id => id.Value, PrefixListRow.Of, r => r.prefix_list_id,
            (r, entries) => r.ToRecord([.. entries.Select(e => new PrefixListEntryRecord(Cidr.Parse(e.Value), e.Description))]),
            l => new(l.Id.Value, l.Name, l.Description, [.. l.Entries.Select(e => (e.Cidr.ToString(), e.Description))]), id => Touch(Touched.PrefixList, id));

    public IEntryListTable<PortRangeListId, PortRangeListRecord> PortRangeLists => field ??=
        new EntryListTable<PortRangeListId, PortRangeListRecord, PortRangeListRow>(this, Tables.PortRangeLists, id => id.Value, PortRangeListRow.Of, r => r.port_range_list_id,
            (r, entries) => r.ToRecord([.. entries.Select(e => new PortRangeListEntryRecord(PortRange.ParseFor(IpProtocol.Tcp, e.Value).Value, e.Description))]),
            l => new(l.Id.Value, l.Name, l.Description, [.. l.Entries.Select(e => (e.Range.ToString(), e.Description))]), id => Touch(Touched.PortRangeList, id));

    private static Func<List<TRow>, (long Account, string Region)?, List<TRecord>> Each<TRow, TRecord>(Func<TRow, TRecord> toRecord) => (rows, _) => [.. rows.Select(toRecord)];

    // The statements every family shares, from its descriptor.

    private TRow? FindRow<TRow>(Table t, long accountId, string id) =>
        One<TRow>($"SELECT * FROM {t.Name} WHERE {t.Owner} = @accountId AND {t.Key} = @id", new { accountId, id });

    private List<TRow> ListRows<TRow>(Table t, long accountId, string regionId) =>
        [.. Query<TRow>($"SELECT * FROM {t.Name} WHERE {t.Owner} = @accountId AND region_id = @regionId ORDER BY {t.ListOrder}", new { accountId, regionId })];

    private int CountRows(Table t, long accountId, string regionId) =>
        (int)Scalar($"SELECT COUNT(*) FROM {t.Name} WHERE {t.Owner} = @accountId AND region_id = @regionId", new { accountId, regionId });

    private static readonly ConcurrentDictionary<(string Table, Type Row), string> Inserts = new();

    /// <summary>Inserts a row given as an object whose properties are the columns written (as <c>XRow.Of</c> makes it).</summary>
    private void InsertRow(Table t, object row) =>
        Execute(Inserts.GetOrAdd((t.Name, row.GetType()), key =>
        {
            var columns = key.Row.GetProperties().Select(p => p.Name).ToList();
            return $"INSERT INTO {key.Table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "@" + c))})";
        }), row);

    /// <summary>Sets the given columns (the properties of <paramref name="values"/>) of one resource's row.</summary>
    private void UpdateRow(Table t, string id, object values)
    {
        var args = new DynamicParameters(values);
        args.Add("key", id);
        Execute($"UPDATE {t.Name} SET {string.Join(", ", values.GetType().GetProperties().Select(p => $"{p.Name} = @{p.Name}"))} WHERE {t.Key} = @key", args);
    }

    private void DeleteRow(Table t, string id)
    {
        foreach (var part in t.Parts)
            Execute($"DELETE FROM {part} WHERE {t.Key} = @id", new { id });
        if (t.TagType is { } type)
            Execute("DELETE FROM tags WHERE resource_type = @type AND resource_id = @id", new { id, type });
        Execute($"DELETE FROM {t.Name} WHERE {t.Key} = @id", new { id });
    }

    /// <summary>
    /// A family over its table: how its IDs are keys, its records rows (<paramref name="row"/>) and its
    /// rows records (<paramref name="records"/>, which reads their parts; told the account and region when
    /// the rows are all of them, null for a Find), and what it does before and after a write besides its
    /// row: touch what the hosts' policies depend on (SqlSession.Hosts.cs), write its parts.
    /// </summary>
    private class AccountTable<TId, TRecord, TRow>(SqlSession s, Table table, Func<TId, string> key, Func<TRecord, object> row,
        Func<List<TRow>, (long Account, string Region)?, List<TRecord>> records)
        : IAccountTable<TId, TRecord>
    {
        public Action<TRecord>? Inserting { get; init; }

        public Action<TRecord>? Inserted { get; init; }

        public Action<TId>? Deleting { get; init; }

        protected SqlSession Session => s;

        protected Func<TId, string> Key => key;

        private List<TRecord> Records(List<TRow> rows, (long Account, string Region)? wholeRegion) => rows.Count == 0 ? [] : records(rows, wholeRegion);

        public void Insert(TRecord record)
        {
            Inserting?.Invoke(record);
            s.InsertRow(table, row(record));
            Inserted?.Invoke(record);
        }

        public TRecord? Find(long accountId, TId id) =>
            s.FindRow<TRow>(table, accountId, key(id)) is { } found ? Records([found], wholeRegion: null)[0] : default;

        public IReadOnlyList<TRecord> List(long accountId, string regionId) => Records(s.ListRows<TRow>(table, accountId, regionId), (accountId, regionId));

        public int Count(long accountId, string regionId) => s.CountRows(table, accountId, regionId);

        public void Delete(TId id)
        {
            Deleting?.Invoke(id);
            s.DeleteRow(table, key(id));
        }
    }

    /// <summary>What a list's row does not hold: its key, its name and description as an update sets them, and its entries (a value's text and a description each), in order.</summary>
    private sealed record ListFields(string Key, string Name, string Description, IReadOnlyList<(string Value, string Description)> Entries);

    /// <summary>
    /// A list family: its entries are written after its row, replaced whole by an update, and read
    /// in order with its lists; <paramref name="touch"/> names the list (by key) to the hosts whose
    /// policies depend on it, before an update or a delete.
    /// </summary>
    private sealed class EntryListTable<TId, TRecord, TRow> : AccountTable<TId, TRecord, TRow>, IEntryListTable<TId, TRecord>
    {
        private readonly EntryList _lists;
        private readonly Func<TRecord, ListFields> _fields;
        private readonly Action<string> _touch;

        public EntryListTable(SqlSession s, EntryList lists, Func<TId, string> key, Func<TRecord, object> row, Func<TRow, string> rowKey,
            Func<TRow, IReadOnlyList<(string Value, string Description)>, TRecord> record, Func<TRecord, ListFields> fields, Action<string> touch)
            : base(s, lists.Lists, key, row, (rows, _) => s.WithEntries(lists, rows, rowKey, record))
        {
            _lists = lists;
            _fields = fields;
            _touch = touch;
            Inserted = list => s.InsertEntries(lists, fields(list).Key, fields(list).Entries);
            Deleting = id => touch(key(id));
        }

        public void Update(TRecord list)
        {
            var (id, name, description, entries) = _fields(list);
            _touch(id);
            Session.UpdateRow(_lists.Lists, id, new { name, description });
            Session.Execute($"DELETE FROM {_lists.Entries} WHERE {_lists.Lists.Key} = @id", new { id });
            Session.InsertEntries(_lists, id, entries);
        }

        public IReadOnlyList<SecurityGroupId> GroupsUsing(TId id) =>
            [.. Session.Query<string>($"SELECT DISTINCT security_group_id FROM security_group_rules WHERE {_lists.UsedBy} ORDER BY security_group_id",
                new { id = Key(id), kind = RuleCodec.PeerPrefixList }).Select(SecurityGroupId.Parse)];
    }

    private List<TRecord> WithEntries<TRow, TRecord>(EntryList lists, List<TRow> rows, Func<TRow, string> rowKey, Func<TRow, IReadOnlyList<(string Value, string Description)>, TRecord> record)
    {
        var key = lists.Lists.Key;
        var entries = Query<(string Id, string Value, string Description)>(
                $"SELECT {key}, {lists.Value}, description FROM {lists.Entries} WHERE {InList(key, "ids")} ORDER BY {key}, position", new { ids = rows.Select(rowKey).ToArray() })
            .ToLookup(e => e.Id, e => (e.Value, e.Description));
        return [.. rows.Select(r => record(r, [.. entries[rowKey(r)]]))];
    }

    private void InsertEntries(EntryList lists, string id, IReadOnlyList<(string Value, string Description)> entries)
    {
        for (var n = 0; n < entries.Count; n++)
        {
            Execute($"INSERT INTO {lists.Entries} ({lists.Lists.Key}, {lists.Value}, description, position) VALUES (@id, @Value, @Description, @position)",
                new { id, entries[n].Value, entries[n].Description, position = n + 1 });
        }
    }
}
