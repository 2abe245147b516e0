using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

/// <summary>
/// What agents report (issue 17): bookkeeping without a revision (connection.Execute, not Execute). A
/// host's report is its NICs (<c>agent_report_nics</c>) and, for each account on it, the account's revision
/// the agent applied and when it said so (<c>agent_report_accounts</c>): every NIC of one account on one
/// host is reported with the same two (<c>ReportAgentStatus</c>), and after a change a fleet reports new
/// revisions over the NICs it reported before. So a report upserts one row a (host, account) and rewrites
/// its host's NIC rows only when their set differs from the one stored, as its digest, kept with the
/// host's report mark, says (migration 016, twenty-third session): a 1,000-host join wrote 10,000 rows and
/// deleted 10,000, 515 of PostgreSQL's 870 ms, where it now upserts 1,000.
/// </summary>
internal sealed partial class SqlSession
{
    /// <summary>How a write of reports is made: the shipped way, or one of its slow twins.</summary>
    private enum ReportWrite
    {
        /// <summary>NIC rows rewritten only when the set changed; arrays on PostgreSQL, multi-row <c>VALUES</c> on SQLite.</summary>
        Shipped,

        /// <summary>Every host's NIC rows deleted and written again, multi-row <c>VALUES</c> (the write before migration 016).</summary>
        RewritingAll,

        /// <summary>As <see cref="RewritingAll"/>, one <c>INSERT</c> a row.</summary>
        RowByRow,
    }

    /// <summary>
    /// Replaces the host's report. <see cref="SaveHostReportsOneByOne"/> is its slow twin.
    /// </summary>
    public bool SaveHostReports(HostReportMark report, IReadOnlyList<AgentReportRecord> reports) =>
        WriteHostReports([report], reports, ReportWrite.Shipped).Count == 1;

    /// <summary>The slow twin of <see cref="SaveHostReports"/>: the NIC rows rewritten every time, one <c>INSERT</c> a row.</summary>
    internal void SaveHostReportsOneByOne(HostReportMark report, IReadOnlyList<AgentReportRecord> reports) =>
        WriteHostReports([report], reports, ReportWrite.RowByRow);

    /// <summary>
    /// Replaces the reports of every host in <paramref name="reports"/> with <paramref name="rows"/> (a node's
    /// batch of status reports, issue 17, sixteenth session), only for the hosts whose report is at least as new
    /// as the one their rows are of (<see cref="NewestReports"/>): one upsert of the marks, one of the accounts'
    /// revisions, and a delete and an insert of the NIC rows of the hosts whose NIC set changed.
    /// <see cref="ReplaceHostReportsRewritingAll"/> and <see cref="SaveHostReports"/> once a host are its twins.
    /// </summary>
    public IReadOnlySet<string> ReplaceHostReports(IReadOnlyList<HostReportMark> reports, IReadOnlyList<AgentReportRecord> rows) =>
        WriteHostReports(reports, rows, ReportWrite.Shipped);

    /// <summary>The slow twin of <see cref="ReplaceHostReports"/>: every newest host's NIC rows deleted and inserted again.</summary>
    internal IReadOnlySet<string> ReplaceHostReportsRewritingAll(IReadOnlyList<HostReportMark> reports, IReadOnlyList<AgentReportRecord> rows) =>
        WriteHostReports(reports, rows, ReportWrite.RewritingAll);

    private HashSet<string> WriteHostReports(IReadOnlyList<HostReportMark> marks, IReadOnlyList<AgentReportRecord> rows, ReportWrite how)
    {
        var byHost = rows.GroupBy(r => r.HostName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var host in marks.Select(m => m.HostName))
            digests.TryAdd(host, NicsDigest(byHost.GetValueOrDefault(host) ?? []));
        var arrays = how == ReportWrite.Shipped && dialect == Dialect.Postgres;
        var before = NewestReports(marks, digests, arrays);
        var newest = new HashSet<string>(before.Keys, StringComparer.Ordinal);
        // The NIC rows stay where the stored set is this report's (the digest the mark's row had).
        var rewritten = before.Where(b => how != ReportWrite.Shipped || b.Value != digests[b.Key]).Select(b => b.Key).Order(StringComparer.Ordinal).ToList();
        foreach (var hosts in rewritten.Chunk(ReportHostsPerStatement))
        {
            connection.Execute($"DELETE FROM agent_report_nics WHERE {InList("host_name", "hosts")}", new { hosts }, transaction);
            connection.Execute($"DELETE FROM agent_report_accounts WHERE {InList("host_name", "hosts")}", new { hosts }, transaction);
        }
        List<AgentReportRecord> nics = [.. rewritten.SelectMany(h => byHost.GetValueOrDefault(h) ?? [])];
        // One row an account on each newest host: its NICs' revision and time, the same for them all.
        List<AgentReportRecord> accounts = [.. newest.Order(StringComparer.Ordinal).SelectMany(h => AccountsOf(byHost.GetValueOrDefault(h) ?? []))];
        if (how == ReportWrite.RowByRow)
        {
            foreach (var r in nics)
                InsertReportNics([r]);
            foreach (var a in accounts)
                UpsertReportAccounts([a]);
        }
        else if (arrays)
        {
            InsertReportNicsAsArrays(nics);
            UpsertReportAccountsAsArrays(accounts);
        }
        else
        {
            foreach (var part in nics.Chunk(BatchReportRowsPerStatement))
                InsertReportNics(part);
            foreach (var part in accounts.Chunk(BatchReportRowsPerStatement))
                UpsertReportAccounts(part);
        }
        return newest;
    }

    /// <summary>
    /// Which NICs a host reports, as one string: SHA-256 of their (account, instance, ENI) keys — each
    /// <c>"{account} {instance} {ENI}"</c>, in ordinal order, joined by line feeds, in UTF-8. Equal sets give equal
    /// digests, whatever the order of the rows. The keys are written into one pooled buffer and sorted there (a
    /// 1,000-host join made 10,000 strings, their join and its bytes for this): the bytes hashed, so the digests
    /// stored in <c>host_reports</c> (migration 016), are those of <see cref="NicsDigestJoined"/>, its slow twin.
    /// </summary>
    internal static string NicsDigest(IReadOnlyList<AgentReportRecord> rows)
    {
        var room = 0;
        foreach (var r in rows)
            room += KeyDigits + 2 + r.InstanceId.Value.Length + (r.NetworkInterfaceId?.Value.Length ?? 0);
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(room, 1));
        var keys = ArrayPool<(int Start, int Length)>.Shared.Rent(Math.Max(rows.Count, 1));
        byte[]? bytes = null;
        try
        {
            var at = 0;
            for (var i = 0; i < rows.Count; i++)
            {
                var r = rows[i];
                var start = at;
                r.AccountId.TryFormat(chars.AsSpan(at), out var digits, provider: CultureInfo.InvariantCulture);
                at += digits;
                chars[at++] = ' ';
                r.InstanceId.Value.CopyTo(chars.AsSpan(at));
                at += r.InstanceId.Value.Length;
                chars[at++] = ' ';
                if (r.NetworkInterfaceId?.Value is { } eni)
                {
                    eni.CopyTo(chars.AsSpan(at));
                    at += eni.Length;
                }
                keys[i] = (start, at - start);
            }
            var order = keys.AsSpan(0, rows.Count);
            order.Sort(new KeyOrder(chars));
            bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(at + rows.Count));
            var written = 0;
            for (var i = 0; i < order.Length; i++)
            {
                if (i > 0)
                    bytes[written++] = (byte)'\n';
                written += Encoding.UTF8.GetBytes(chars.AsSpan(order[i].Start, order[i].Length), bytes.AsSpan(written));
            }
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes.AsSpan(0, written), hash);
            return Convert.ToHexString(hash);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<(int, int)>.Shared.Return(keys);
            if (bytes is not null)
                ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The most characters a <see cref="long"/> takes in the invariant culture (<c>-9223372036854775808</c>).</summary>
    private const int KeyDigits = 20;

    /// <summary>Two keys written in one buffer, in the ordinal order of their texts.</summary>
    private readonly struct KeyOrder(char[] chars) : IComparer<(int Start, int Length)>
    {
        public int Compare((int Start, int Length) x, (int Start, int Length) y) =>
            chars.AsSpan(x.Start, x.Length).SequenceCompareTo(chars.AsSpan(y.Start, y.Length));
    }

    /// <summary>The slow twin of <see cref="NicsDigest"/>: a string a key, ordered, joined, encoded and hashed (the digest as migration 016 first kept it).</summary>
    internal static string NicsDigestJoined(IReadOnlyCollection<AgentReportRecord> rows)
    {
        var keys = rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.AccountId} {r.InstanceId.Value} {r.NetworkInterfaceId?.Value ?? ""}"))
            .Order(StringComparer.Ordinal);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', keys))));
    }

    /// <summary>A host's report, one record an account (its first row's); refused when its NICs differ in revision or time, which one row cannot hold.</summary>
    private static IEnumerable<AgentReportRecord> AccountsOf(List<AgentReportRecord> rows)
    {
        foreach (var account in rows.GroupBy(r => r.AccountId).OrderBy(g => g.Key))
        {
            var first = account.First();
            if (account.Any(r => r.AppliedRevision != first.AppliedRevision || Time.Format(r.ReportedAt) != Time.Format(first.ReportedAt)))
                throw new ArgumentException($"the NICs of account {first.AccountId} on host {first.HostName} are reported with one revision and time", nameof(rows));
            yield return first;
        }
    }

    /// <summary>
    /// The guard of the reports' write (issue 17, twentieth session): records each host's report in
    /// <c>host_reports</c> where it is at least as new as the one recorded (a higher applied revision, or
    /// the same and a later arrival) and answers those hosts, each with the NIC digest its row had before
    /// (null for a host new there, or one whose digest was never kept); a host whose rows are of a newer
    /// report keeps them. A poll carrying its host's report is answered without waiting for the report's
    /// write, and the agent carries its latest report again until one is said stored, so an older report
    /// may be written after a newer one — in a later batch of this node, or on another node. One upsert for
    /// up to <see cref="ReportHostsPerStatement"/> hosts (all of them in one <c>unnest</c> of arrays on
    /// PostgreSQL, <paramref name="arrays"/>), decided by each store under the row's lock, which the rest of
    /// the host's report is then written under: the digest read is the one the stored NIC rows were written with.
    /// </summary>
    private Dictionary<string, string?> NewestReports(IReadOnlyList<HostReportMark> reports, IReadOnlyDictionary<string, string> digests, bool arrays)
    {
        // One mark a host (an upsert may not touch a row twice): the newest of them.
        var marks = reports.GroupBy(r => r.HostName, StringComparer.Ordinal)
            .Select(g => g.Aggregate((a, b) => b.NotOlderThan(a) ? b : a))
            .OrderBy(m => m.HostName, StringComparer.Ordinal).ToList();
        var before = new Dictionary<string, string?>(StringComparer.Ordinal);
        const string Upsert = """
             ON CONFLICT (host_name) DO UPDATE SET applied_revision = excluded.applied_revision, arrived_us = excluded.arrived_us,
                nics_digest = excluded.nics_digest, nics_digest_before = host_reports.nics_digest
             WHERE host_reports.applied_revision < excluded.applied_revision
                OR (host_reports.applied_revision = excluded.applied_revision AND host_reports.arrived_us <= excluded.arrived_us)
             RETURNING host_name, nics_digest_before
            """;
        if (arrays)
        {
            if (marks.Count == 0)
                return before;
            var (hosts, revisions, arrivals, nics) = (new string[marks.Count], new long[marks.Count], new long[marks.Count], new string[marks.Count]);
            for (var i = 0; i < marks.Count; i++)
                (hosts[i], revisions[i], arrivals[i], nics[i]) = (marks[i].HostName, marks[i].AppliedRevision, marks[i].ArrivedMicroseconds, digests[marks[i].HostName]);
            // A host new to the table has no digest before: its nics_digest_before is the column's NULL.
            foreach (var (host, digest) in connection.Query<(string, string?)>(
                "INSERT INTO host_reports (host_name, applied_revision, arrived_us, nics_digest) SELECT * FROM unnest(@hosts, @revisions, @arrivals, @nics)" + Upsert,
                new { hosts, revisions, arrivals, nics }, transaction))
                before[host] = digest;
            return before;
        }
        foreach (var part in marks.Chunk(ReportHostsPerStatement))
        {
            var (values, args) = Values(part, m => m.HostName, m => m.AppliedRevision, m => m.ArrivedMicroseconds, m => digests[m.HostName]);
            foreach (var (host, digest) in connection.Query<(string, string?)>(
                "INSERT INTO host_reports (host_name, applied_revision, arrived_us, nics_digest) VALUES " + values + Upsert, args, transaction))
                before[host] = digest;
        }
        return before;
    }

    /// <summary>
    /// A multi-row <c>VALUES</c> list of <paramref name="rows"/>, a parameter a column (<c>@c{row}_{column}</c>) —
    /// SQLite's way, and the twins' —, and its parameters.
    /// </summary>
    private static (string Values, DynamicParameters Args) Values<T>(IReadOnlyList<T> rows, params Func<T, object>[] columns)
    {
        var sql = new StringBuilder();
        var args = new DynamicParameters();
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Length; c++)
            {
                sql.Append(CultureInfo.InvariantCulture, $"{(c == 0 ? "" : ", ")}@c{i}_{c}");
                args.Add(string.Create(CultureInfo.InvariantCulture, $"c{i}_{c}"), columns[c](rows[i]));
            }
            sql.Append(')');
        }
        return (sql.ToString(), args);
    }

    /// <summary>Hosts one statement of the reports' write names (SQLite takes each as a parameter).</summary>
    internal const int ReportHostsPerStatement = 500;

    /// <summary>Rows of one batch <c>INSERT</c> on SQLite: 2,000 parameters, under SQLite's 32,766.</summary>
    internal const int BatchReportRowsPerStatement = 500;

    /// <summary>The NIC rows in one multi-row <c>VALUES</c> (SQLite's way; the twin of <see cref="InsertReportNicsAsArrays"/>).</summary>
    private void InsertReportNics(IReadOnlyList<AgentReportRecord> rows)
    {
        if (rows.Count == 0)
            return;
        var (values, args) = Values(rows, r => r.HostName, r => r.AccountId, r => r.InstanceId.Value, r => r.NetworkInterfaceId?.Value ?? "");
        connection.Execute("INSERT INTO agent_report_nics (host_name, account_id, instance_id, network_interface_id) VALUES " + values, args, transaction);
    }

    /// <summary>
    /// The NIC rows in one <c>INSERT … SELECT FROM unnest(…)</c> of array parameters (PostgreSQL; issue 17,
    /// eighteenth session: a multi-row <c>VALUES</c> is each row's parameters named, bound and parsed again by
    /// the driver). The same rows as <see cref="InsertReportNics"/>.
    /// </summary>
    private void InsertReportNicsAsArrays(IReadOnlyList<AgentReportRecord> rows)
    {
        if (rows.Count == 0)
            return;
        var (hosts, accounts, instances, enis) = (new string[rows.Count], new long[rows.Count], new string[rows.Count], new string[rows.Count]);
        for (var i = 0; i < rows.Count; i++)
            (hosts[i], accounts[i], instances[i], enis[i]) = (rows[i].HostName, rows[i].AccountId, rows[i].InstanceId.Value, rows[i].NetworkInterfaceId?.Value ?? "");
        connection.Execute("""
            INSERT INTO agent_report_nics (host_name, account_id, instance_id, network_interface_id)
            SELECT * FROM unnest(@hosts, @accounts, @instances, @enis)
            """, new { hosts, accounts, instances, enis }, transaction);
    }

    private const string ReportAccountsUpsert =
        " ON CONFLICT (host_name, account_id) DO UPDATE SET applied_revision = excluded.applied_revision, reported_at = excluded.reported_at";

    /// <summary>Each (host, account)'s revision and time in one multi-row upsert (SQLite's way; the twin of <see cref="UpsertReportAccountsAsArrays"/>).</summary>
    private void UpsertReportAccounts(IReadOnlyList<AgentReportRecord> accounts)
    {
        if (accounts.Count == 0)
            return;
        var (values, args) = Values(accounts, a => a.HostName, a => a.AccountId, a => a.AppliedRevision, a => Time.Format(a.ReportedAt));
        connection.Execute("INSERT INTO agent_report_accounts (host_name, account_id, applied_revision, reported_at) VALUES " + values + ReportAccountsUpsert, args, transaction);
    }

    /// <summary>The same upsert as <see cref="UpsertReportAccounts"/> from four arrays (PostgreSQL).</summary>
    private void UpsertReportAccountsAsArrays(IReadOnlyList<AgentReportRecord> accounts)
    {
        if (accounts.Count == 0)
            return;
        var (hosts, ids, revisions, times) = (new string[accounts.Count], new long[accounts.Count], new long[accounts.Count], new string[accounts.Count]);
        for (var i = 0; i < accounts.Count; i++)
            (hosts[i], ids[i], revisions[i], times[i]) = (accounts[i].HostName, accounts[i].AccountId, accounts[i].AppliedRevision, Time.Format(accounts[i].ReportedAt));
        connection.Execute("""
            INSERT INTO agent_report_accounts (host_name, account_id, applied_revision, reported_at)
            SELECT * FROM unnest(@hosts, @ids, @revisions, @times)
            """ + ReportAccountsUpsert, new { hosts, ids, revisions, times }, transaction);
    }

    public (long Bound, long InSync) CountNicsInSync() =>
        connection.QuerySingle<(long, long)>("""
            SELECT COUNT(*),
                   COALESCE(SUM(CASE WHEN a.applied_revision >= (SELECT COALESCE(MAX(v.account_revision), 0) FROM revisions v WHERE v.account_id = b.account_id) THEN 1 ELSE 0 END), 0)
            FROM host_bindings b
            LEFT JOIN agent_report_nics n ON n.host_name = b.host_name AND n.account_id = b.account_id AND n.instance_id = b.instance_id
                AND n.network_interface_id = COALESCE(b.network_interface_id, '')
            LEFT JOIN agent_report_accounts a ON a.host_name = n.host_name AND a.account_id = n.account_id
            """, transaction: transaction);

    // Each NIC with its (host, account)'s revision and time, as the one row a NIC was before migration 016.
    public IReadOnlyList<AgentReportRecord> ListAgentReports(long accountId, string? hostName) =>
        [.. Query<AgentReportRow>($"""
            SELECT n.account_id, n.host_name, n.instance_id, n.network_interface_id, a.applied_revision, a.reported_at
            FROM agent_report_nics n JOIN agent_report_accounts a ON a.host_name = n.host_name AND a.account_id = n.account_id
            WHERE n.account_id = @accountId{(hostName is null ? "" : " AND n.host_name = @hostName")}
            ORDER BY n.host_name, n.instance_id, n.network_interface_id
            """, new { accountId, hostName }).Select(r => r.ToRecord())];
}
