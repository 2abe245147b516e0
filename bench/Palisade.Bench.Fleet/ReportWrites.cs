using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Palisade.Domain.Identifiers;
using Palisade.Storage;
using Palisade.Storage.Records;
using Palisade.TestKit;

/// <summary>
/// The store's share of a fleet's status reports after a change (issue 17, twenty-third session), without
/// the nodes and agents: the reports of N hosts × M NICs of one account written as the nodes' batches
/// write them (<see cref="IStoreSession.ReplaceHostReports"/>, 100 hosts a batch), once with new NICs and
/// then again and again with the next revision over the same NICs — what every 1,000-host join costs the
/// store. Each pass's wall time around the store calls, and PostgreSQL's own statement time for the
/// passes after the first (pg_stat_statements, when the server has it loaded).
/// </summary>
internal static class ReportWrites
{
    private const int HostsPerBatch = 100;

    public static void Run(string postgresServer, int hosts, int nics, int passes)
    {
        using var database = new TestStores.PostgresDatabase(postgresServer);
        var directory = Directory.CreateTempSubdirectory("palisade-report-writes-").FullName;
        try
        {
            using var store = StoreFactory.Open(database.ConnectionString, directory);
            var start = new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
            var account = store.Write("bench", null, s => s.CreateAccount("reports", start).AccountId);
            var names = Enumerable.Range(0, hosts).Select(h => $"host-{h:D5}").ToArray();
            double Pass(long revision)
            {
                var at = start.AddSeconds(revision);
                var clock = Stopwatch.StartNew();
                foreach (var batch in names.Chunk(HostsPerBatch))
                {
                    List<HostReportMark> marks = [.. batch.Select(h => new HostReportMark(h, revision, at))];
                    List<AgentReportRecord> rows = [.. batch.SelectMany(h => Enumerable.Range(0, nics).Select(n =>
                        new AgentReportRecord(account, h, InstanceId.Parse($"i-{h[5..]}{n:D3}aaaaaaa"), revision, at)
                        { NetworkInterfaceId = NetworkInterfaceId.Parse($"eni-{h[5..]}{n:D3}bbbbbbb") }))];
                    store.WriteOn("ReportAgentStatus", "host:" + batch[0], s => s.ReplaceHostReports(marks, rows));
                }
                return clock.Elapsed.TotalMilliseconds;
            }
            var first = Pass(1);
            var statements = StatementTime(postgresServer, database.Name, reset: true);
            var times = Enumerable.Range(2, passes).Select(r => Pass(r)).ToList();
            statements = StatementTime(postgresServer, database.Name, reset: false);
            var rows = store.Read(s => s.ListAgentReports(account, null));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"report writes: {hosts} hosts × {nics} NICs, {hosts / HostsPerBatch} batches a pass; first pass {first:F0} ms; next {passes} passes (next revision, same NICs) wall ms p50 {times.Order().ElementAt(times.Count / 2):F0}, mean {times.Average():F0}, min {times.Min():F0}"));
            if (statements is { } s)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  PostgreSQL statement time a pass: {s.Total / passes:F1} ms; by statement:"));
                foreach (var (query, calls, ms) in s.Top)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {ms / passes,8:F1} ms  {calls / (double)passes,6:F1} calls  {query}"));
            }
            if (rows.Count != hosts * nics || rows.Any(r => r.AppliedRevision != passes + 1))
                throw new InvalidOperationException($"read back {rows.Count} rows, not {hosts * nics} of revision {passes + 1}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The statements' time in the database since the reset, or null without pg_stat_statements.</summary>
    private static (double Total, List<(string Query, long Calls, double Ms)> Top)? StatementTime(string server, string databaseName, bool reset)
    {
        using var c = new NpgsqlConnection(server);
        c.Open();
        try
        {
            using (var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", c))
                create.ExecuteNonQuery();
            if (reset)
            {
                using var command = new NpgsqlCommand("SELECT pg_stat_statements_reset()", c);
                command.ExecuteNonQuery();
                return null;
            }
            using var read = new NpgsqlCommand("""
                SELECT regexp_replace(left(query, 110), '\s+', ' ', 'g'), calls, total_exec_time FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = @db) ORDER BY total_exec_time DESC
                """, c);
            read.Parameters.AddWithValue("db", databaseName);
            using var reader = read.ExecuteReader();
            var top = new List<(string, long, double)>();
            while (reader.Read())
                top.Add((reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2)));
            return (top.Sum(t => t.Item3), [.. top.Take(8)]);
        }
        catch (PostgresException)
        {
            return null;
        }
    }
}
