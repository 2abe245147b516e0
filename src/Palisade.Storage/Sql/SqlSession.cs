using System.Data.Common;
using Dapper;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

/// <summary>
/// The store session on plain SQL that SQLite and PostgreSQL both accept. One instance lives for
/// one transaction. Rows map to records here and nowhere else.
/// </summary>
internal sealed partial class SqlSession(DbConnection connection, DbTransaction transaction, Dialect dialect, Action<string>? serialize = null,
    Action<IReadOnlyCollection<string>>? serializeAll = null) : IStoreSession
{
    /// <summary>SQLite has one writer at a time already; PostgreSQL passes the resource's lock.</summary>
    public void SerializeWith(string resource) => serialize?.Invoke(resource);

    /// <summary>Several resources' locks: in one statement where the store can (PostgreSQL), else one by one.</summary>
    public void SerializeWithAll(IReadOnlyCollection<string> resources)
    {
        if (serializeAll is not null)
            serializeAll(resources);
        else
        {
            foreach (var resource in resources.Order(StringComparer.Ordinal))
                SerializeWith(resource);
        }
    }

    /// <summary>"Column is one of a list": Dapper expands <c>IN @list</c> for SQLite, while Npgsql takes the array whole.</summary>
    private string InList(string column, string parameter) =>
        dialect == Dialect.Postgres ? $"{column} = ANY(@{parameter})" : $"{column} IN @{parameter}";

    /// <summary>Set by every write, so that the store adds a revision only for transactions that changed something.</summary>
    public bool Changed { get; private set; }

    private int Execute(string sql, object? args = null)
    {
        Changed = true;
        return connection.Execute(sql, args, transaction);
    }

    private IEnumerable<T> Query<T>(string sql, object? args = null) => connection.Query<T>(sql, args, transaction);

    private T? One<T>(string sql, object? args = null) => connection.QueryFirstOrDefault<T>(sql, args, transaction);

    private long Scalar(string sql, object? args = null) => connection.ExecuteScalar<long>(sql, args, transaction);

    // Accounts and keys

    public AccountRecord CreateAccount(string name, DateTimeOffset now)
    {
        // Alibaba Cloud account IDs are 16-digit numbers; drawn from the cryptographic generator, they keep tenants unguessable.
        long id;
        do
            id = 1_000_000_000_000_000 + (long)(BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) % 9_000_000_000_000_000UL);
        while (Scalar("SELECT COUNT(*) FROM accounts WHERE account_id = @id", new { id }) > 0);
        Execute("INSERT INTO accounts (account_id, name, created_at) VALUES (@id, @name, @at)", new { id, name, at = Time.Format(now) });
        return new AccountRecord(id, name, Time.Truncate(now));
    }

    public AccountRecord? FindAccount(long accountId) =>
        One<AccountRow>("SELECT * FROM accounts WHERE account_id = @accountId", new { accountId })?.ToRecord();

    public AccountRecord? FindAccountByName(string name) =>
        One<AccountRow>("SELECT * FROM accounts WHERE name = @name", new { name })?.ToRecord();

    public IReadOnlyList<AccountRecord> ListAccounts() =>
        [.. Query<AccountRow>("SELECT * FROM accounts ORDER BY created_at, account_id").Select(r => r.ToRecord())];

    public void InsertAccessKey(AccessKeyRecord key) =>
        Execute("""
            INSERT INTO access_keys (access_key_id, account_id, secret_ciphertext, status, read_only, created_at)
            VALUES (@AccessKeyId, @AccountId, @SecretCiphertext, @status, @ReadOnly, @at)
            """, new { key.AccessKeyId, key.AccountId, key.SecretCiphertext, status = key.Status.ToString(), key.ReadOnly, at = Time.Format(key.CreatedAt) });

    public AccessKeyRecord? FindAccessKey(string accessKeyId) =>
        One<AccessKeyRow>("SELECT * FROM access_keys WHERE access_key_id = @accessKeyId", new { accessKeyId })?.ToRecord();

    public IReadOnlyList<AccessKeyRecord> ListAccessKeys(long accountId) =>
        [.. Query<AccessKeyRow>("SELECT * FROM access_keys WHERE account_id = @accountId ORDER BY created_at, access_key_id", new { accountId }).Select(r => r.ToRecord())];

    public void SetAccessKeyStatus(string accessKeyId, AccessKeyStatus status) =>
        Execute("UPDATE access_keys SET status = @status WHERE access_key_id = @accessKeyId", new { accessKeyId, status = status.ToString() });

    public void DeleteAccessKey(string accessKeyId) =>
        Execute("DELETE FROM access_keys WHERE access_key_id = @accessKeyId", new { accessKeyId });

    // Nonces are bookkeeping of the gateway, not a change of the control plane: no revision.
    public bool TryUseNonce(string accessKeyId, string nonce, DateTimeOffset expiresAt) =>
        connection.Execute("INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (@accessKeyId, @nonce, @at) ON CONFLICT DO NOTHING",
            new { accessKeyId, nonce, at = Time.Format(expiresAt) }, transaction) == 1;

    public void PurgeNonces(DateTimeOffset now) =>
        connection.Execute("DELETE FROM nonces WHERE expires_at < @now", new { now = Time.Format(now) }, transaction);

    public ClientTokenRecord? FindClientToken(long accountId, string token) =>
        One<ClientTokenRow>("SELECT * FROM client_tokens WHERE account_id = @accountId AND token = @token", new { accountId, token })?.ToRecord();

    public void SaveClientToken(ClientTokenRecord r)
    {
        // A ClientToken guards retries of one request; a day later nobody retries it, and the answers it keeps must not pile up.
        connection.Execute("DELETE FROM client_tokens WHERE created_at < @before", new { before = Time.Format(r.CreatedAt.AddDays(-1)) }, transaction);
        Execute("""
            INSERT INTO client_tokens (account_id, token, action, request_hash, response_json, created_at)
            VALUES (@AccountId, @Token, @Action, @RequestHash, @ResponseJson, @at)
            """, new { r.AccountId, r.Token, r.Action, r.RequestHash, r.ResponseJson, at = Time.Format(r.CreatedAt) });
    }

    public long CurrentRevision() => Scalar("SELECT COALESCE(MAX(revision), 0) FROM revisions");

    // The action trail. Its rows are bookkeeping of the write, not a change: they never set Changed.

    private readonly List<ActionTrailEntry> _trail = [];

    public void AddTrail(ActionTrailEntry entry) => _trail.Add(entry);

    /// <summary>Writes the events the transaction gathered, with the revision it commits as (null when it changed nothing).</summary>
    internal void WriteTrail(long? revision)
    {
        if (_trail.Count == 0)
            return;
        if (_trail.Count == 1)
        {
            InsertTrail(connection, transaction, _trail[0], revision);
            return;
        }
        if (dialect == Dialect.Postgres && !TrailAsValues)
        {
            InsertTrailAsArrays(_trail, revision);
            return;
        }
        InsertTrailRows(_trail, revision);
    }

    /// <summary>The events of a transaction in multi-row <c>VALUES</c> (SQLite's way; tests ask it of PostgreSQL too: the slow twin of <see cref="InsertTrailAsArrays"/>).</summary>
    internal bool TrailAsValues { get; set; }

    /// <summary>
    /// The events in one <c>INSERT … SELECT FROM unnest(…)</c> of nine array parameters (PostgreSQL; issue 17,
    /// twenty-third session): a node's batch of status reports trails one event a report, and the multi-row
    /// <c>VALUES</c> of <see cref="InsertTrailRows"/> (its slow twin) bound nine named parameters an event —
    /// Dapper's and the driver's objects for 900 a batch, and a statement's text of its own for each batch's
    /// size. The same rows in the same order (the events' IDs follow it).
    /// </summary>
    private void InsertTrailAsArrays(IReadOnlyList<ActionTrailEntry> events, long? revision)
    {
        var n = events.Count;
        var (times, accounts, keys, actions, versions, requests, parameters, statuses, results) =
            (new string[n], new long[n], new string[n], new string[n], new string[n], new string[n], new string[n], new long[n], new string[n]);
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            (times[i], accounts[i], keys[i], actions[i], versions[i], requests[i], parameters[i], statuses[i], results[i]) =
                (Time.Format(e.EventTime), e.AccountId, e.AccessKeyId, e.Action, e.ApiVersion, e.RequestId, e.Parameters, e.HttpStatus, e.ResultCode);
        }
        connection.Execute("""
            INSERT INTO action_trail (event_time, account_id, access_key_id, action, api_version, request_id, parameters, http_status, result_code, revision)
            SELECT t.*, @revision FROM unnest(@times, @accounts, @keys, @actions, @versions, @requests, @parameters, @statuses, @results) AS t
            """, new { times, accounts, keys, actions, versions, requests, parameters, statuses, results, revision }, transaction);
    }

    private void InsertTrailRows(IReadOnlyList<ActionTrailEntry> events, long? revision)
    {
        // A node's batch of status reports trails one event a report (issue 17, sixteenth session): their
        // rows in multi-row inserts, in their order (the events' IDs follow it), not a statement each.
        foreach (var chunk in events.Chunk(TrailRowsPerStatement))
        {
            var sql = new System.Text.StringBuilder("INSERT INTO action_trail (event_time, account_id, access_key_id, action, api_version, request_id, parameters, http_status, result_code, revision) VALUES ");
            var args = new DynamicParameters();
            args.Add("revision", revision, System.Data.DbType.Int64);
            for (var i = 0; i < chunk.Length; i++)
            {
                var e = chunk[i];
                sql.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@t{i}, @a{i}, @k{i}, @n{i}, @v{i}, @q{i}, @p{i}, @s{i}, @c{i}, @revision)");
                args.Add($"t{i}", Time.Format(e.EventTime));
                args.Add($"a{i}", e.AccountId);
                args.Add($"k{i}", e.AccessKeyId);
                args.Add($"n{i}", e.Action);
                args.Add($"v{i}", e.ApiVersion);
                args.Add($"q{i}", e.RequestId);
                args.Add($"p{i}", e.Parameters);
                args.Add($"s{i}", e.HttpStatus);
                args.Add($"c{i}", e.ResultCode);
            }
            connection.Execute(sql.ToString(), args, transaction);
        }
    }

    /// <summary>Events of one trail <c>INSERT</c>: nine parameters each.</summary>
    internal const int TrailRowsPerStatement = 100;

    internal static void InsertTrail(DbConnection connection, DbTransaction? transaction, ActionTrailEntry e, long? revision) =>
        connection.Execute("""
            INSERT INTO action_trail (event_time, account_id, access_key_id, action, api_version, request_id, parameters, http_status, result_code, revision)
            VALUES (@at, @AccountId, @AccessKeyId, @Action, @ApiVersion, @RequestId, @Parameters, @HttpStatus, @ResultCode, @revision)
            """, new { at = Time.Format(e.EventTime), e.AccountId, e.AccessKeyId, e.Action, e.ApiVersion, e.RequestId, e.Parameters, e.HttpStatus, e.ResultCode, revision }, transaction);

    public IReadOnlyList<ActionTrailRecord> ListTrail(ActionTrailQuery q)
    {
        var sql = new System.Text.StringBuilder("SELECT * FROM action_trail WHERE account_id = @AccountId");
        if (q.From is not null)
            sql.Append(" AND event_time >= @from");
        if (q.To is not null)
            sql.Append(" AND event_time <= @to");
        if (q.Action is not null)
            sql.Append(" AND action = @Action");
        if (q.BeforeEventId is not null)
            sql.Append(" AND event_id < @BeforeEventId");
        sql.Append(" ORDER BY event_id DESC LIMIT @Max");
        return [.. Query<ActionTrailRow>(sql.ToString(), new
        {
            q.AccountId, from = q.From is { } f ? Time.Format(f) : null, to = q.To is { } t ? Time.Format(t) : null, q.Action, q.BeforeEventId, q.Max,
        }).Select(r => r.ToRecord())];
    }

    public IReadOnlyList<RevisionRecord> ListRevisions(long? accountId, long after, int max) =>
        [.. Query<(long Revision, long? AccountId, string Action, string At)>(
            accountId is null
                ? "SELECT revision, account_id, action, committed_at FROM revisions WHERE revision > @after ORDER BY revision LIMIT @max"
                : "SELECT account_revision, account_id, action, committed_at FROM revisions WHERE account_id = @accountId AND account_revision > @after ORDER BY account_revision LIMIT @max",
            new { accountId, after, max }).Select(r => new RevisionRecord(r.Revision, r.AccountId, r.Action, Time.Parse(r.At)))];

    /// <summary>
    /// The commits after global revision <paramref name="after"/>, oldest first, with the scopes each
    /// touched (for the commit watcher): its account, and the hosts whose enforced policy it may
    /// alter (<c>revision_hosts</c>, of any account: a host carries NICs of many).
    /// </summary>
    internal IReadOnlyList<CommittedRevision> CommittedAfter(long after, int max)
    {
        var revisions = Query<(long Revision, long? AccountId, long? AccountRevision, string Action, string At)>("SELECT revision, account_id, account_revision, action, committed_at FROM revisions WHERE revision > @after ORDER BY revision LIMIT @max", new { after, max }).ToList();
        if (revisions.Count == 0)
            return [];
        var hosts = Query<(long Revision, string Host)>("SELECT revision, host_name FROM revision_hosts WHERE revision > @after AND revision <= @last",
            new { after, last = revisions[^1].Revision }).ToLookup(h => h.Revision, h => h.Host == EveryHost ? CommitScope.EveryHost : CommitScope.Host(h.Host));
        return [.. revisions.Select(r => new CommittedRevision(r.Revision,
            [.. (r.AccountId is { } a ? [CommitScope.Account(a)] : Array.Empty<CommitScope>()), .. hosts[r.Revision]], r.AccountId, r.AccountRevision)
        {
            // What the host feed answers of it (ListHostRevisions), so a woken host poll can answer from the ledger.
            Action = r.Action,
            CommittedAt = Time.Parse(r.At),
        })];
    }

    /// <summary>Numbers the account revisions a restored backup of an older format lacks, as migration 004 does.</summary>
    public void NumberAccountRevisions()
    {
        if (Scalar("SELECT COUNT(*) FROM revisions WHERE account_id IS NOT NULL AND account_revision IS NULL") == 0)
            return;
        Execute("""
            UPDATE revisions SET account_revision = numbered.n
            FROM (SELECT revision, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY revision) AS n FROM revisions WHERE account_id IS NOT NULL) AS numbered
            WHERE revisions.revision = numbered.revision
            """);
        Execute("UPDATE action_trail SET revision = r.account_revision FROM revisions r WHERE action_trail.revision = r.revision");
    }

    public void AddMissingPrimaryNetworkInterfaces()
    {
        AddMissingPrimaryInterfaceRows();
        // Bindings of a backup made before they were per ENI: each is its instance's primary ENI's, as migration 011 does.
        Execute("""
            UPDATE host_bindings SET network_interface_id =
                (SELECT e.network_interface_id FROM network_interfaces e WHERE e.instance_id = host_bindings.instance_id AND e.interface_type = 'Primary')
            WHERE network_interface_id IS NULL
            """);
        // Flows of a backup made before they were per ENI: each is its instance's primary ENI's, as migration 014 does ('' stays for a classic NIC).
        Execute("""
            UPDATE observed_flows SET network_interface_id = COALESCE(
                (SELECT e.network_interface_id FROM network_interfaces e WHERE e.instance_id = observed_flows.instance_id AND e.interface_type = 'Primary'), '')
            WHERE network_interface_id = ''
            """);
    }

    private void AddMissingPrimaryInterfaceRows()
    {
        if (Scalar("SELECT COUNT(*) FROM instances i WHERE i.vpc_id IS NOT NULL AND i.vswitch_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM network_interfaces e WHERE e.instance_id = i.instance_id AND e.interface_type = 'Primary')") == 0)
            return;
        TouchEverything();
        Execute("""
            INSERT INTO network_interfaces (network_interface_id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, interface_type, name, description, created_at, resource_group_id)
            SELECT 'eni-' || substr(i.instance_id, 3), i.account_id, i.region_id, i.zone_id, i.vpc_id, i.vswitch_id, i.instance_id, 'Primary', '', '', i.created_at, ''
            FROM instances i
            WHERE i.vpc_id IS NOT NULL AND i.vswitch_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM network_interfaces e WHERE e.instance_id = i.instance_id AND e.interface_type = 'Primary')
            """);
    }

    public void DeclareHostsOfOldBindings() =>
        Execute("""
            INSERT INTO hosts (host_name, interface_patterns, address_space, created_at)
            SELECT DISTINCT b.host_name, '*', '0.0.0.0/0 ::/0', '2026-12-03T00:00:00Z' FROM host_bindings b
            WHERE NOT EXISTS (SELECT 1 FROM hosts h WHERE h.host_name = b.host_name)
            """);

    public IEnumerable<IReadOnlyDictionary<string, object?>> DumpTable(string table, IReadOnlyList<string> columns, string orderBy)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {string.Join(", ", columns)} FROM {table} ORDER BY {orderBy}";
        using var reader = command.ExecuteReader();
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < columns.Count; i++)
                row[columns[i]] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public void LoadRow(string table, IReadOnlyDictionary<string, object?> row)
    {
        var names = row.Keys.ToList();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", names)}) VALUES ({string.Join(", ", names.Select((_, i) => $"@p{i}"))})";
        for (var i = 0; i < names.Count; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = $"@p{i}";
            parameter.Value = row[names[i]] ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        Changed = true;
        TouchEverything();
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The commit's global revision (the server's own) and, for an account's change, the account's
    /// next revision (what the tenant sees). Both are taken under the write lock: gap-free.
    /// </summary>
    internal (long Revision, long? AccountRevision) AddRevision(long? accountId, string action, DateTimeOffset now)
    {
        var revision = CurrentRevision() + 1;
        long? accountRevision = accountId is { } id ? LatestRevision(id) + 1 : null;
        connection.Execute("INSERT INTO revisions (revision, account_id, action, committed_at, account_revision) VALUES (@revision, @accountId, @action, @at, @accountRevision)",
            new { revision, accountId, action, at = Time.Format(now), accountRevision }, transaction);
        RecordAffectedHosts(revision);
        return (revision, accountRevision);
    }

    // VPCs and vSwitches (Vpcs, VSwitches: SqlSession.Tables.cs)

    public IReadOnlyList<VSwitchRecord> ListVSwitchesOfVpc(VpcId vpcId) =>
        [.. Query<VSwitchRow>("SELECT * FROM vswitches WHERE vpc_id = @id ORDER BY created_at, vswitch_id", new { id = vpcId.Value }).Select(r => r.ToRecord())];

    // Security groups

    public GroupRecord? FindGroupAnyAccount(SecurityGroupId id) =>
        One<GroupRow>("SELECT * FROM security_groups WHERE security_group_id = @id", new { id = id.Value })?.ToRecord();

    public int CountGroupsInVpc(VpcId vpcId) =>
        (int)Scalar("SELECT COUNT(*) FROM security_groups WHERE vpc_id = @id", new { id = vpcId.Value });

    public void UpdateGroup(GroupRecord g)
    {
        TouchGroup(g.Id);
        UpdateRow(Tables.Groups, g.Id.Value, new { name = g.Name, description = g.Description, inner_access_policy = g.InnerAccessPolicy.ToWire(), resource_group_id = g.ResourceGroupId });
    }

    public IReadOnlyList<(SecurityGroupId Group, long AccountId)> GroupsReferencing(SecurityGroupId id) =>
        [.. Query<(string, long)>("""
            SELECT DISTINCT g.security_group_id, g.account_id FROM security_group_rules r
            JOIN security_groups g ON g.security_group_id = r.security_group_id
            WHERE r.peer_kind = @kind AND r.peer_value = @id AND r.security_group_id <> @id
            ORDER BY g.security_group_id
            """, new { id = id.Value, kind = RuleCodec.PeerGroup }).Select(t => (SecurityGroupId.Parse(t.Item1), t.Item2))];

    // Rules

    public IReadOnlyList<SecurityGroupRule> ListRules(SecurityGroupId groupId) =>
        [.. Query<RuleRow>("SELECT * FROM security_group_rules WHERE security_group_id = @id ORDER BY position", new { id = groupId.Value }).Select(RuleCodec.FromRow)];

    public IReadOnlyList<(SecurityGroupId Group, SecurityGroupRule Rule)> ListRulesInRegion(long accountId, string regionId) =>
        [.. Query<RuleRow>("""
            SELECT r.* FROM security_group_rules r
            JOIN security_groups g ON g.security_group_id = r.security_group_id
            WHERE g.account_id = @accountId AND g.region_id = @regionId
            ORDER BY r.security_group_id, r.position
            """, new { accountId, regionId }).Select(r => (SecurityGroupId.Parse(r.security_group_id), RuleCodec.FromRow(r)))];

    public int CountRules(SecurityGroupId groupId) =>
        (int)Scalar("SELECT COUNT(*) FROM security_group_rules WHERE security_group_id = @id", new { id = groupId.Value });

    public int CountGroupReferenceRules(SecurityGroupId groupId) =>
        (int)Scalar("SELECT COUNT(*) FROM security_group_rules WHERE security_group_id = @id AND peer_kind = @kind", new { id = groupId.Value, kind = RuleCodec.PeerGroup });

    /// <summary>A rule naming a prefix list counts as the list's MaxEntries, one naming a port-range list as that list's (both: their product).</summary>
    public int RuleQuotaUsed(SecurityGroupId groupId) =>
        (int)Scalar("""
            SELECT COALESCE(SUM(COALESCE(pl.max_entries, 1) * COALESCE(prl.max_entries, 1)), 0)
            FROM security_group_rules r
            LEFT JOIN prefix_lists pl ON r.peer_kind = @kind AND pl.prefix_list_id = r.peer_value
            LEFT JOIN port_range_lists prl ON prl.port_range_list_id = r.port_range_list_id
            WHERE r.security_group_id = @id
            """, new { id = groupId.Value, kind = RuleCodec.PeerPrefixList });

    public bool InsertRule(SecurityGroupId groupId, SecurityGroupRule rule)
    {
        TouchGroup(groupId);
        var position = Scalar("SELECT next_rule_position FROM security_groups WHERE security_group_id = @id", new { id = groupId.Value });
        var row = RuleCodec.ToRow(groupId, rule, position);
        var inserted = connection.Execute("""
            INSERT INTO security_group_rules (rule_id, security_group_id, position, direction, ip_protocol, port_range, source_port_range, policy,
                priority, nic_type, peer_kind, peer_value, peer_owner_account, peer_owner_id, local_cidr, port_range_list_id, description, created_at, identity)
            VALUES (@rule_id, @security_group_id, @position, @direction, @ip_protocol, @port_range, @source_port_range, @policy,
                @priority, @nic_type, @peer_kind, @peer_value, @peer_owner_account, @peer_owner_id, @local_cidr, @port_range_list_id, @description, @created_at, @identity)
            ON CONFLICT (security_group_id, identity) DO NOTHING
            """, row, transaction);
        if (inserted == 0)
            return false;
        Execute("UPDATE security_groups SET next_rule_position = next_rule_position + 1 WHERE security_group_id = @id", new { id = groupId.Value });
        return true;
    }

    public void DeleteRule(SecurityGroupId groupId, SecurityGroupRuleId ruleId)
    {
        TouchGroup(groupId);
        Execute("DELETE FROM security_group_rules WHERE security_group_id = @g AND rule_id = @r", new { g = groupId.Value, r = ruleId.Value });
    }

    public bool UpdateRule(SecurityGroupId groupId, SecurityGroupRule rule)
    {
        TouchGroup(groupId);
        var row = RuleCodec.ToRow(groupId, rule, 0);
        var clash = Scalar("SELECT COUNT(*) FROM security_group_rules WHERE security_group_id = @security_group_id AND identity = @identity AND rule_id <> @rule_id", row);
        if (clash > 0)
            return false;
        Execute("""
            UPDATE security_group_rules SET ip_protocol = @ip_protocol, port_range = @port_range, source_port_range = @source_port_range,
                policy = @policy, priority = @priority, peer_kind = @peer_kind, peer_value = @peer_value, peer_owner_account = @peer_owner_account,
                peer_owner_id = @peer_owner_id, local_cidr = @local_cidr, port_range_list_id = @port_range_list_id, description = @description, identity = @identity
            WHERE security_group_id = @security_group_id AND rule_id = @rule_id
            """, row);
        return true;
    }

    // Instances

    /// <summary>What an instance's row does not hold: its addresses and its groups.</summary>
    private void InsertInstanceParts(InstanceRecord i)
    {
        var scope = AddressScope(i.AccountId, i.VpcId);
        InsertAddresses(i.Id, "private", i.PrivateAddresses, scope);
        // Public addresses are unique across the whole service, like the real internet's.
        InsertAddresses(i.Id, "public", i.PublicAddresses, "internet");
        SetMemberships(i.Id, i.SecurityGroupIds);
    }

    private void InsertAddresses(InstanceId id, string kind, IReadOnlyList<IpAddress> addresses, string scope)
    {
        for (var n = 0; n < addresses.Count; n++)
        {
            Execute("INSERT INTO instance_addresses (instance_id, kind, address, position, scope) VALUES (@id, @kind, @address, @n, @scope)",
                new { id = id.Value, kind, address = addresses[n].ToString(), n, scope });
        }
    }

    private static string AddressScope(long accountId, VpcId? vpcId) => vpcId is { } v ? v.Value : $"classic:{accountId}";

    /// <summary>
    /// "instance_id is one of these instances'": when the caller lists a whole region of an account
    /// (<paramref name="wholeRegion"/>), every instance of that region by a subquery, else the list of IDs.
    /// Dapper expands a list into one parameter per ID, and the statement's text changes with the count:
    /// at 100 instances that was most of what loading a region's state allocated (issue 19). Only a whole
    /// region's list takes the subquery: a Find, or an instance's few ENIs, would read the whole region's
    /// parts to keep a handful. The list of IDs is the slow twin StoredStateTests compares it with.
    /// </summary>
    private (string Condition, object Args) InstancesAmong(string[] ids, (long Account, string Region)? wholeRegion) =>
        wholeRegion is { } one
            ? ("instance_id IN (SELECT instance_id FROM instances WHERE account_id = @accountId AND region_id = @regionId)", new { accountId = one.Account, regionId = one.Region })
            : (InList("instance_id", "ids"), new { ids });

    /// <summary>The instances with their addresses and groups; <paramref name="wholeRegion"/> when the rows are all of that account's region.</summary>
    private List<InstanceRecord> Complete(List<InstanceRow> rows, (long Account, string Region)? wholeRegion)
    {
        if (rows.Count == 0)
            return [];
        var (among, args) = InstancesAmong(rows.Select(r => r.instance_id).ToArray(), wholeRegion);
        var addresses = Query<(string Id, string Kind, string Address)>(
                $"SELECT instance_id, kind, address FROM instance_addresses WHERE {among} ORDER BY instance_id, kind, position", args)
            .ToLookup(a => a.Id);
        var groups = Query<(string Id, string Group)>(
                $"SELECT instance_id, security_group_id FROM memberships WHERE {among} ORDER BY instance_id, position", args)
            .ToLookup(g => g.Id);
        return [.. rows.Select(r => r.ToRecord(
            [.. addresses[r.instance_id].Where(a => a.Kind == "private").Select(a => IpAddress.Parse(a.Address))],
            [.. addresses[r.instance_id].Where(a => a.Kind == "public").Select(a => IpAddress.Parse(a.Address))],
            [.. groups[r.instance_id].Select(g => SecurityGroupId.Parse(g.Group))]))];
    }

    public IReadOnlyList<InstanceId> MembersOf(SecurityGroupId groupId) =>
        [.. Query<string>("SELECT instance_id FROM memberships WHERE security_group_id = @id ORDER BY instance_id", new { id = groupId.Value }).Select(InstanceId.Parse)];

    public IReadOnlyList<(InstanceId Instance, IReadOnlyList<SecurityGroupId> Groups)> GroupsOfMembers(long accountId, SecurityGroupId groupId) =>
        [.. Query<(string Instance, string Group)>("""
            SELECT m.instance_id, o.security_group_id FROM memberships m
            JOIN instances i ON i.instance_id = m.instance_id AND i.account_id = @accountId
            JOIN memberships o ON o.instance_id = m.instance_id
            WHERE m.security_group_id = @id
            ORDER BY m.instance_id, o.position
            """, new { accountId, id = groupId.Value })
            .GroupBy(r => r.Instance, StringComparer.Ordinal)
            .Select(g => (InstanceId.Parse(g.Key), (IReadOnlyList<SecurityGroupId>)[.. g.Select(r => SecurityGroupId.Parse(r.Group))]))];

    public int CountMembers(SecurityGroupId groupId) =>
        (int)Scalar("SELECT (SELECT COUNT(*) FROM memberships WHERE security_group_id = @id) + (SELECT COUNT(*) FROM network_interface_groups WHERE security_group_id = @id)",
            new { id = groupId.Value });

    public int CountInstancesInVSwitch(VSwitchId id) =>
        (int)Scalar("SELECT (SELECT COUNT(*) FROM instances WHERE vswitch_id = @id) + (SELECT COUNT(*) FROM network_interfaces WHERE vswitch_id = @id AND interface_type = 'Secondary')",
            new { id = id.Value });

    public void SetInstanceStatus(InstanceId id, string status)
    {
        TouchInstance(id);
        Execute("UPDATE instances SET status = @status WHERE instance_id = @id", new { id = id.Value, status });
    }

    public void SetInstanceAttributes(InstanceId id, string name, string description) =>
        Execute("UPDATE instances SET name = @name, description = @description WHERE instance_id = @id", new { id = id.Value, name, description });

    public void SetInstanceResourceGroup(InstanceId id, string resourceGroupId) =>
        Execute("UPDATE instances SET resource_group_id = @resourceGroupId WHERE instance_id = @id", new { id = id.Value, resourceGroupId });

    public void SetMemberships(InstanceId id, IReadOnlyList<SecurityGroupId> groups)
    {
        TouchInstance(id);
        Execute("DELETE FROM memberships WHERE instance_id = @id", new { id = id.Value });
        for (var n = 0; n < groups.Count; n++)
            Execute("INSERT INTO memberships (instance_id, security_group_id, position) VALUES (@id, @g, @n)", new { id = id.Value, g = groups[n].Value, n });
    }

    /// <summary>Before an instance's row and parts go: its primary ENI with it; its secondary ENIs and its EIP stay, detached (ECS: "Available").</summary>
    private void DetachFromInstance(InstanceId id)
    {
        TouchInstance(id);
        foreach (var primary in Query<string>("SELECT network_interface_id FROM network_interfaces WHERE instance_id = @id AND interface_type = 'Primary'", new { id = id.Value }))
            NetworkInterfaces.Delete(NetworkInterfaceId.Parse(primary));
        Execute("UPDATE network_interfaces SET instance_id = NULL WHERE instance_id = @id", new { id = id.Value });
        Execute("UPDATE eip_addresses SET instance_type = NULL, instance_id = NULL WHERE instance_id = @id", new { id = id.Value });
    }

    public HashSet<IpAddress> AddressesInUse(long accountId, VpcId? vpcId)
    {
        var addresses = Query<string>("""
            SELECT address FROM instance_addresses WHERE scope = @scope AND kind = 'private'
            UNION ALL SELECT address FROM network_interface_addresses WHERE scope = @scope
            """, new { scope = AddressScope(accountId, vpcId) });
        // Sized at once: a set grown from a query's items left each smaller table behind.
        var set = new HashSet<IpAddress>(addresses.TryGetNonEnumeratedCount(out var count) ? count : 0);
        foreach (var address in addresses)
            set.Add(IpAddress.Parse(address));
        return set;
    }

    // Network interfaces

    /// <summary>A primary ENI's addresses and groups were written with its instance; a secondary's are its own.</summary>
    private void InsertInterfaceParts(NetworkInterfaceRecord e)
    {
        if (e.Type == NetworkInterfaceType.Secondary)
        {
            SetNetworkInterfaceAddresses(e, e.PrivateAddresses);
            SetNetworkInterfaceGroups(e, e.SecurityGroupIds);
        }
    }

    public IReadOnlyList<NetworkInterfaceRecord> NetworkInterfacesOf(InstanceId id) =>
        CompleteInterfaces([.. Query<NetworkInterfaceRow>("SELECT * FROM network_interfaces WHERE instance_id = @id ORDER BY interface_type, created_at, network_interface_id",
            new { id = id.Value })], wholeRegion: null);

    /// <summary>
    /// The ENIs with their addresses and groups: a primary ENI's from its instance, a secondary's from its
    /// own tables; <paramref name="wholeRegion"/> when the rows are all of that account's region (see InstancesAmong).
    /// </summary>
    private List<NetworkInterfaceRecord> CompleteInterfaces(List<NetworkInterfaceRow> rows, (long Account, string Region)? wholeRegion)
    {
        if (rows.Count == 0)
            return [];
        var (among, args) = wholeRegion is { } one
            ? ("network_interface_id IN (SELECT network_interface_id FROM network_interfaces WHERE account_id = @accountId AND region_id = @regionId)", (object)new { accountId = one.Account, regionId = one.Region })
            : (InList("network_interface_id", "ids"), new { ids = rows.Select(r => r.network_interface_id).ToArray() });
        var instanceIds = rows.Where(r => r.instance_id is not null && r.interface_type == nameof(NetworkInterfaceType.Primary)).Select(r => r.instance_id!).ToArray();
        var addresses = Query<(string Id, string Address)>(
                $"SELECT network_interface_id, address FROM network_interface_addresses WHERE {among} ORDER BY network_interface_id, position", args)
            .ToLookup(a => a.Id, a => IpAddress.Parse(a.Address));
        var groups = Query<(string Id, string Group)>(
                $"SELECT network_interface_id, security_group_id FROM network_interface_groups WHERE {among} ORDER BY network_interface_id, position", args)
            .ToLookup(g => g.Id, g => SecurityGroupId.Parse(g.Group));
        // A primary ENI's addresses and groups are its instance's, and the instance is in the ENI's account and region.
        var (ofInstances, instanceArgs) = InstancesAmong(instanceIds, wholeRegion);
        var instanceAddresses = instanceIds.Length == 0 ? null : Query<(string Id, string Address)>(
                $"SELECT instance_id, address FROM instance_addresses WHERE kind = 'private' AND {ofInstances} ORDER BY instance_id, position", instanceArgs)
            .ToLookup(a => a.Id, a => IpAddress.Parse(a.Address));
        var instanceGroups = instanceIds.Length == 0 ? null : Query<(string Id, string Group)>(
                $"SELECT instance_id, security_group_id FROM memberships WHERE {ofInstances} ORDER BY instance_id, position", instanceArgs)
            .ToLookup(g => g.Id, g => SecurityGroupId.Parse(g.Group));
        return [.. rows.Select(r => r.interface_type == nameof(NetworkInterfaceType.Primary) && r.instance_id is { } owner
            ? r.ToRecord([.. instanceAddresses![owner]], [.. instanceGroups![owner]])
            : r.ToRecord([.. addresses[r.network_interface_id]], [.. groups[r.network_interface_id]]))];
    }

    public void SetNetworkInterfaceAttributes(NetworkInterfaceId id, string name, string description) =>
        Execute("UPDATE network_interfaces SET name = @name, description = @description WHERE network_interface_id = @id", new { id = id.Value, name, description });

    public void SetNetworkInterfaceInstance(NetworkInterfaceId id, InstanceId? instanceId)
    {
        // An ENI detached (or moved) while bound leaves its host, as an instance deleted while bound does:
        // the binding named a port of that instance, which the ENI no longer is.
        TouchNetworkInterface(id);
        UnbindNetworkInterface(id);
        Execute("UPDATE network_interfaces SET instance_id = @instance WHERE network_interface_id = @id", new { id = id.Value, instance = instanceId?.Value });
    }

    private void UnbindNetworkInterface(NetworkInterfaceId id)
    {
        if (FindHostBinding(id) is { } bound)
            DeleteHostBinding(bound);
    }

    public void SetNetworkInterfaceGroups(NetworkInterfaceRecord eni, IReadOnlyList<SecurityGroupId> groups)
    {
        TouchNetworkInterface(eni.Id);
        if (eni.Type == NetworkInterfaceType.Primary)
        {
            SetMemberships(eni.InstanceId!.Value, groups);
            return;
        }
        Execute("DELETE FROM network_interface_groups WHERE network_interface_id = @id", new { id = eni.Id.Value });
        for (var n = 0; n < groups.Count; n++)
            Execute("INSERT INTO network_interface_groups (network_interface_id, security_group_id, position) VALUES (@id, @g, @n)", new { id = eni.Id.Value, g = groups[n].Value, n });
    }

    public void SetNetworkInterfaceAddresses(NetworkInterfaceRecord eni, IReadOnlyList<IpAddress> addresses)
    {
        TouchNetworkInterface(eni.Id);
        if (eni.InstanceId is { } owner)
            TouchInstance(owner);
        var scope = AddressScope(eni.AccountId, eni.VpcId);
        if (eni.Type == NetworkInterfaceType.Primary)
        {
            var instance = eni.InstanceId!.Value;
            Execute("DELETE FROM instance_addresses WHERE instance_id = @id AND kind = 'private'", new { id = instance.Value });
            InsertAddresses(instance, "private", addresses, scope);
            return;
        }
        Execute("DELETE FROM network_interface_addresses WHERE network_interface_id = @id", new { id = eni.Id.Value });
        for (var n = 0; n < addresses.Count; n++)
        {
            Execute("INSERT INTO network_interface_addresses (network_interface_id, address, position, scope) VALUES (@id, @address, @n, @scope)",
                new { id = eni.Id.Value, address = addresses[n].ToString(), n, scope });
        }
    }

    /// <summary>Before an ENI's row and parts go: it leaves its host, and its EIP stays the account's, Available again (ECS disassociates it).</summary>
    private void DetachInterface(NetworkInterfaceId id)
    {
        TouchNetworkInterface(id);
        foreach (var (type, target) in Query<(string? Type, string? Target)>("SELECT instance_type, instance_id FROM eip_addresses WHERE instance_id = @id", new { id = id.Value }))
            TouchTarget(type, target);
        UnbindNetworkInterface(id);
        Execute("UPDATE eip_addresses SET instance_type = NULL, instance_id = NULL WHERE instance_id = @id", new { id = id.Value });
    }

    public bool PublicAddressInUse(IpAddress address) =>
        Scalar("SELECT (SELECT COUNT(*) FROM instance_addresses WHERE kind = 'public' AND address = @address) + (SELECT COUNT(*) FROM eip_addresses WHERE ip_address = @address)",
            new { address = address.ToString() }) > 0;

    public IReadOnlySet<IpAddress> PublicAddressesIn(Cidr block) =>
        Query<string>("SELECT address FROM instance_addresses WHERE kind = 'public' UNION ALL SELECT ip_address FROM eip_addresses")
            .Select(IpAddress.Parse).Where(block.Contains).ToHashSet();

    public void AddPublicAddress(InstanceId id, IpAddress address)
    {
        TouchInstance(id);
        var position = Scalar("SELECT COUNT(*) FROM instance_addresses WHERE instance_id = @id AND kind = 'public'", new { id = id.Value });
        Execute("INSERT INTO instance_addresses (instance_id, kind, address, position, scope) VALUES (@id, 'public', @address, @position, 'internet')",
            new { id = id.Value, address = address.ToString(), position });
    }

    // Elastic IP addresses (Eips: SqlSession.Tables.cs)

    public EipRecord? EipOf(string targetId) =>
        Query<EipRow>("SELECT * FROM eip_addresses WHERE instance_id = @targetId", new { targetId }).Select(r => r.ToRecord()).FirstOrDefault();

    public void SetEipTarget(string allocationId, EipTargetType? type, string? targetId)
    {
        TouchEipTarget(allocationId);
        TouchTarget(type?.ToString(), targetId);
        Execute("UPDATE eip_addresses SET instance_type = @type, instance_id = @targetId WHERE allocation_id = @allocationId", new { allocationId, type = type?.ToString(), targetId });
    }

    // Tags

    public IReadOnlyList<Tag> ListTags(string resourceType, string resourceId) =>
        [.. Query<(string Key, string Value)>("SELECT tag_key, tag_value FROM tags WHERE resource_type = @resourceType AND resource_id = @resourceId ORDER BY position, tag_key",
            new { resourceType, resourceId }).Select(t => new Tag(t.Key, t.Value))];

    public void SetTag(long accountId, string resourceType, string resourceId, Tag tag)
    {
        var updated = Execute("UPDATE tags SET tag_value = @Value WHERE resource_type = @resourceType AND resource_id = @resourceId AND tag_key = @Key",
            new { resourceType, resourceId, tag.Key, tag.Value });
        if (updated == 0)
        {
            var position = Scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM tags WHERE resource_type = @resourceType AND resource_id = @resourceId", new { resourceType, resourceId });
            Execute("INSERT INTO tags (account_id, resource_type, resource_id, tag_key, tag_value, position) VALUES (@accountId, @resourceType, @resourceId, @Key, @Value, @position)",
                new { accountId, resourceType, resourceId, tag.Key, tag.Value, position });
        }
    }

    public void RemoveTag(string resourceType, string resourceId, string key) =>
        Execute("DELETE FROM tags WHERE resource_type = @resourceType AND resource_id = @resourceId AND tag_key = @key", new { resourceType, resourceId, key });

    public void RemoveAllTags(string resourceType, string resourceId) =>
        Execute("DELETE FROM tags WHERE resource_type = @resourceType AND resource_id = @resourceId", new { resourceType, resourceId });

    public IReadOnlyList<(string ResourceId, Tag Tag)> ListTagsOfType(long accountId, string resourceType) =>
        [.. Query<(string Id, string Key, string Value)>("SELECT resource_id, tag_key, tag_value FROM tags WHERE account_id = @accountId AND resource_type = @resourceType ORDER BY resource_id, position",
            new { accountId, resourceType }).Select(t => (t.Id, new Tag(t.Key, t.Value)))];

    // Enforcement

    public long LatestRevision(long accountId) =>
        Scalar("SELECT COALESCE(MAX(account_revision), 0) FROM revisions WHERE account_id = @accountId", new { accountId });

    /// <summary>The SQL condition and arguments that pick one NIC's binding: its ENI, or a classic instance's NIC.</summary>
    private static (string Where, object Args) BindingKey(HostBindingRecord b) =>
        b.NetworkInterfaceId is { } eni
            ? ("network_interface_id = @eni", new { eni = eni.Value })
            : ("instance_id = @id AND network_interface_id IS NULL", new { id = b.InstanceId.Value });

    public void SaveHostBinding(HostBindingRecord b)
    {
        // The host it leaves (a rebinding) and the host it joins; no other host's policy names a binding.
        Touch(Touched.Binding, b.InstanceId.Value);
        Touch(Touched.Host, b.HostName);
        var (where, args) = BindingKey(b);
        Execute($"DELETE FROM host_bindings WHERE {where}", args);
        Execute("""
            INSERT INTO host_bindings (network_interface_id, instance_id, account_id, host_name, interface_name, bound_at)
            VALUES (@eni, @id, @AccountId, @HostName, @InterfaceName, @at)
            """, new { eni = b.NetworkInterfaceId?.Value, id = b.InstanceId.Value, b.AccountId, b.HostName, b.InterfaceName, at = Time.Format(b.BoundAt) });
    }

    public HostBindingRecord? FindHostBinding(InstanceId id) =>
        Query<HostBindingRow>("""
            SELECT b.* FROM host_bindings b
            WHERE b.instance_id = @id
              AND (b.network_interface_id IS NULL
                   OR b.network_interface_id IN (SELECT e.network_interface_id FROM network_interfaces e WHERE e.instance_id = @id AND e.interface_type = 'Primary'))
            """, new { id = id.Value }).Select(r => r.ToRecord()).FirstOrDefault();

    public HostBindingRecord? FindHostBinding(NetworkInterfaceId id) =>
        Query<HostBindingRow>("SELECT * FROM host_bindings WHERE network_interface_id = @id", new { id = id.Value }).Select(r => r.ToRecord()).FirstOrDefault();

    public HostBindingRecord? FindHostBindingByInterface(string hostName, string interfaceName) =>
        Query<HostBindingRow>("SELECT * FROM host_bindings WHERE host_name = @hostName AND interface_name = @interfaceName", new { hostName, interfaceName })
            .Select(r => r.ToRecord()).FirstOrDefault();

    public IReadOnlyList<HostBindingRecord> ListHostBindings(long accountId, string? hostName) =>
        [.. Query<HostBindingRow>(hostName is null
                ? "SELECT * FROM host_bindings WHERE account_id = @accountId ORDER BY host_name, interface_name"
                : "SELECT * FROM host_bindings WHERE account_id = @accountId AND host_name = @hostName ORDER BY host_name, interface_name",
            new { accountId, hostName }).Select(r => r.ToRecord())];

    public void DeleteHostBinding(HostBindingRecord b)
    {
        Touch(Touched.Binding, b.InstanceId.Value);
        var (where, args) = BindingKey(b);
        Execute($"DELETE FROM host_bindings WHERE {where}", args);
    }

    // Hosts

    public void SaveHost(HostRecord h)
    {
        var args = new { h.HostName, patterns = string.Join(' ', h.Declaration.InterfacePatterns), space = string.Join(' ', h.Declaration.AddressSpace), at = Time.Format(h.CreatedAt) };
        if (Execute("UPDATE hosts SET interface_patterns = @patterns, address_space = @space WHERE host_name = @HostName", args) == 0)
            Execute("INSERT INTO hosts (host_name, interface_patterns, address_space, created_at) VALUES (@HostName, @patterns, @space, @at)", args);
    }

    public HostRecord? FindHost(string hostName) =>
        One<HostRow>("SELECT * FROM hosts WHERE host_name = @hostName", new { hostName })?.ToRecord();

    public IReadOnlyList<HostRecord> ListHosts() =>
        [.. Query<HostRow>("SELECT * FROM hosts ORDER BY host_name").Select(r => r.ToRecord())];

    public void InsertHostCredential(HostCredentialRecord c) =>
        Execute("""
            INSERT INTO host_credentials (access_key_id, host_name, secret_ciphertext, status, created_at)
            VALUES (@AccessKeyId, @HostName, @SecretCiphertext, @status, @at)
            """, new { c.AccessKeyId, c.HostName, c.SecretCiphertext, status = c.Status.ToString(), at = Time.Format(c.CreatedAt) });

    public HostCredentialRecord? FindHostCredential(string accessKeyId) =>
        One<HostCredentialRow>("SELECT * FROM host_credentials WHERE access_key_id = @accessKeyId", new { accessKeyId })?.ToRecord();

    public IReadOnlyList<HostCredentialRecord> FindHostCredentials(IReadOnlyCollection<string> accessKeyIds) =>
        [.. accessKeyIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Chunk(CredentialUsesPerStatement)
            .SelectMany(ids => Query<HostCredentialRow>($"SELECT * FROM host_credentials WHERE {InList("access_key_id", "ids")}", new { ids }))
            .Select(r => r.ToRecord())];

    public IReadOnlyList<HostCredentialRecord> ListHostCredentials(string? hostName) =>
        [.. Query<HostCredentialRow>(hostName is null
                ? "SELECT * FROM host_credentials ORDER BY host_name, created_at, access_key_id"
                : "SELECT * FROM host_credentials WHERE host_name = @hostName ORDER BY created_at, access_key_id",
            new { hostName }).Select(r => r.ToRecord())];

    public void DeleteHostCredential(HostCredentialRecord credential)
    {
        // The host's agent is parked on its feed: the revocation wakes it, and it finds its key gone.
        Touch(Touched.Host, credential.HostName);
        Execute("DELETE FROM host_credentials WHERE access_key_id = @AccessKeyId", new { credential.AccessKeyId });
    }

    // Bookkeeping, not a change of the control plane: no revision (connection.Execute, not Execute).
    public void MarkHostCredentialUsed(string accessKeyId, DateTimeOffset at) =>
        connection.Execute("UPDATE host_credentials SET last_used_at = @at WHERE access_key_id = @accessKeyId",
            new { accessKeyId, at = Time.Format(at) }, transaction);

    /// <summary>Credentials a statement names at most (SQLite takes each as a parameter).</summary>
    internal const int CredentialUsesPerStatement = 500;

    // A node's batch of uses (issue 17): at 10,000 agents every renewal's use was an UPDATE of its own in the
    // minute's batch — a round trip per renewal. Uses are shown to the second, and a batch's fall in the
    // seconds of one or two minutes: a statement per second (and per 500 credentials). The rows are
    // taken in key order, as the loop did; the batch is serialised on its own resource anyway.
    public void MarkHostCredentialsUsed(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> uses)
    {
        foreach (var second in uses.GroupBy(u => Time.Format(u.Value)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            foreach (var ids in second.Select(u => u.Key).Order(StringComparer.Ordinal).Chunk(CredentialUsesPerStatement))
                connection.Execute($"UPDATE host_credentials SET last_used_at = @at WHERE {InList("access_key_id", "ids")}", new { ids, at = second.Key }, transaction);
        }
    }

    public long? FindInstanceOwner(InstanceId id) =>
        Query<long>("SELECT account_id FROM instances WHERE instance_id = @id", new { id = id.Value }).Select(a => (long?)a).FirstOrDefault();

    public long? FindNetworkInterfaceOwner(NetworkInterfaceId id) =>
        Query<long>("SELECT account_id FROM network_interfaces WHERE network_interface_id = @id", new { id = id.Value }).Select(a => (long?)a).FirstOrDefault();

    public IReadOnlyList<HostBindingRecord> ListBindingsOnHost(string hostName) =>
        [.. Query<HostBindingRow>("SELECT * FROM host_bindings WHERE host_name = @hostName ORDER BY interface_name", new { hostName }).Select(r => r.ToRecord())];

    public IReadOnlyDictionary<string, IReadOnlyList<HostBindingRecord>> ListBindingsOnHosts(IReadOnlyCollection<string> hostNames)
    {
        // Ordered by interface alone, as each host's own statement orders them (the store's collation, not
        // ordinal comparison), and grouped in that order.
        var byHost = new Dictionary<string, IReadOnlyList<HostBindingRecord>>(StringComparer.Ordinal);
        foreach (var hosts in hostNames.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Chunk(ReportHostsPerStatement))
        {
            foreach (var host in Query<HostBindingRow>($"SELECT * FROM host_bindings WHERE {InList("host_name", "hosts")} ORDER BY interface_name", new { hosts })
                .Select(r => r.ToRecord()).GroupBy(b => b.HostName, StringComparer.Ordinal))
                byHost[host.Key] = [.. host];
        }
        return byHost;
    }

    public long AccountRevisionAt(long accountId, long globalRevision) =>
        Scalar("SELECT COALESCE(MAX(account_revision), 0) FROM revisions WHERE account_id = @accountId AND revision <= @globalRevision", new { accountId, globalRevision });

    /// <summary>
    /// The host's feed: the commits after global revision <paramref name="after"/> whose affected
    /// hosts (<c>revision_hosts</c>, decided at commit) name it or every host, of any account.
    /// </summary>
    public IReadOnlyList<RevisionRecord> ListHostRevisions(string hostName, long after, int max) =>
        [.. Query<(long Revision, long? AccountId, string Action, string At)>("""
            SELECT r.revision, r.account_id, r.action, r.committed_at FROM revisions r
            WHERE r.revision > @after
              AND EXISTS (SELECT 1 FROM revision_hosts h WHERE h.revision = r.revision AND h.host_name IN (@hostName, @every))
            ORDER BY r.revision LIMIT @max
            """, new { hostName, every = EveryHost, after, max }).Select(r => new RevisionRecord(r.Revision, r.AccountId, r.Action, Time.Parse(r.At)))];

    // Rule usage: like agent reports, bookkeeping without a revision (connection.Execute, not Execute).
    public void AddRuleUsage(long accountId, string hostName, DateTimeOffset bucketStart, IReadOnlyList<RuleUsageDelta> deltas, DateTimeOffset now)
    {
        foreach (var d in deltas)
        {
            connection.Execute("""
                INSERT INTO rule_usage (account_id, security_group_rule_id, host_name, bucket_start, packets, bytes, last_hit_at)
                VALUES (@accountId, @rule, @hostName, @bucket, @packets, @bytes, @now)
                ON CONFLICT (account_id, security_group_rule_id, host_name, bucket_start) DO UPDATE SET
                    packets = rule_usage.packets + excluded.packets,
                    bytes = rule_usage.bytes + excluded.bytes,
                    last_hit_at = CASE WHEN excluded.last_hit_at > rule_usage.last_hit_at THEN excluded.last_hit_at ELSE rule_usage.last_hit_at END
                """, new { accountId, rule = d.RuleId, hostName, bucket = Time.Format(bucketStart), packets = d.Packets, bytes = d.Bytes, now = Time.Format(now) }, transaction);
        }
    }

    public void MarkUsageHost(long accountId, string hostName, DateTimeOffset now, TimeSpan maxGap)
    {
        var known = connection.QueryFirstOrDefault<UsageHostRow>("SELECT * FROM usage_hosts WHERE account_id = @accountId AND host_name = @hostName",
            new { accountId, hostName }, transaction)?.ToRecord();
        var since = known is not null && now - known.LastReportAt <= maxGap ? known.CountingSince : now;
        connection.Execute("""
            INSERT INTO usage_hosts (account_id, host_name, counting_since, last_report_at) VALUES (@accountId, @hostName, @since, @now)
            ON CONFLICT (account_id, host_name) DO UPDATE SET counting_since = excluded.counting_since, last_report_at = excluded.last_report_at
            """, new { accountId, hostName, since = Time.Format(since), now = Time.Format(now) }, transaction);
    }

    public IReadOnlyList<RuleUsageRecord> ListRuleUsage(long accountId, IReadOnlyCollection<string> ruleIds, DateTimeOffset since) =>
        ruleIds.Count == 0 ? [] : [.. Query<RuleUsageRow>($"""
            SELECT * FROM rule_usage WHERE account_id = @accountId AND bucket_start >= @since AND {InList("security_group_rule_id", "rules")}
            ORDER BY security_group_rule_id, bucket_start, host_name
            """, new { accountId, since = Time.Format(since), rules = ruleIds.ToArray() }).Select(r => r.ToRecord())];

    public IReadOnlyList<UsageHostRecord> ListUsageHosts(long accountId) =>
        [.. Query<UsageHostRow>("SELECT * FROM usage_hosts WHERE account_id = @accountId ORDER BY host_name", new { accountId }).Select(r => r.ToRecord())];

    /// <summary>
    /// <see cref="MarkUsageHost"/> for many hosts' reports in order (a node's batch, issue 17, sixteenth
    /// session): the rows known before are read in one statement, each report's mark is folded over
    /// them in memory exactly as its own statement pair would (what is stored is whole seconds, so
    /// each step compares with the truncated time it would have read back), and the final rows are
    /// written in one upsert, instead of a read and an upsert per report.
    /// </summary>
    public void MarkUsageHosts(IReadOnlyList<(long AccountId, string HostName, DateTimeOffset Now)> marks, TimeSpan maxGap)
    {
        if (marks.Count == 0)
            return;
        var hosts = marks.Select(m => m.HostName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var state = new Dictionary<(long, string), (DateTimeOffset Since, DateTimeOffset Last)>();
        foreach (var chunk in hosts.Chunk(ReportHostsPerStatement))
        {
            foreach (var row in connection.Query<UsageHostRow>($"SELECT * FROM usage_hosts WHERE {InList("host_name", "chunk")}", new { chunk }, transaction))
            {
                var known = row.ToRecord();
                state[(known.AccountId, known.HostName)] = (known.CountingSince, known.LastReportAt);
            }
        }
        var order = new List<(long, string)>();
        var marked = new HashSet<(long, string)>();
        foreach (var (accountId, hostName, now) in marks)
        {
            var key = (accountId, hostName);
            var since = state.TryGetValue(key, out var known) && now - known.Last <= maxGap ? known.Since : now;
            if (marked.Add(key))
                order.Add(key);
            state[key] = (Time.Truncate(since), Time.Truncate(now));
        }
        foreach (var chunk in order.Chunk(BatchReportRowsPerStatement))
        {
            var sql = new System.Text.StringBuilder("INSERT INTO usage_hosts (account_id, host_name, counting_since, last_report_at) VALUES ");
            var args = new DynamicParameters();
            for (var i = 0; i < chunk.Length; i++)
            {
                var (since, last) = state[chunk[i]];
                sql.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@a{i}, @h{i}, @s{i}, @l{i})");
                args.Add($"a{i}", chunk[i].Item1);
                args.Add($"h{i}", chunk[i].Item2);
                args.Add($"s{i}", Time.Format(since));
                args.Add($"l{i}", Time.Format(last));
            }
            sql.Append(" ON CONFLICT (account_id, host_name) DO UPDATE SET counting_since = excluded.counting_since, last_report_at = excluded.last_report_at");
            connection.Execute(sql.ToString(), args, transaction);
        }
    }

    public int PurgeRuleUsage(long accountId, DateTimeOffset before) =>
        connection.Execute("DELETE FROM rule_usage WHERE account_id = @accountId AND bucket_start < @before", new { accountId, before = Time.Format(before) }, transaction);
}
