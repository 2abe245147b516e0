using CsCheck;
using Palisade.Domain.Identifiers;
using Palisade.Storage.Records;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// A node's batch of status reports written once (issue 17, sixteenth session: <c>ReplaceHostReports</c>
/// and <c>MarkUsageHosts</c>, one delete, multi-row inserts and one upsert for the batch) against the slow
/// twin, each report's own statements in the batch's order (<c>SaveHostReports</c>, <c>MarkUsageHost</c>):
/// on random batches in a row over a few hosts and two accounts — a host reporting twice in a batch,
/// reporting no NIC, reports out of time order, silences longer than the gap — the stored report rows
/// and the hosts counting usage (with their times) are the same; on SQLite, and on PostgreSQL when the
/// run asks for it.
/// </summary>
public sealed class HostReportBatchStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-reports-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public HostReportBatchStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private static readonly DateTimeOffset Start = new(2026, 12, 5, 7, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Gap = TimeSpan.FromSeconds(10);

    /// <summary>One report: its host, its time (ms after the start), and its rows (account, instance, ENI or not, revision).</summary>
    private sealed record Report(int Host, int AtMs, (int Account, int Instance, bool Eni, int Revision)[] Rows);

    [Fact]
    public void ReportsOfABatch_WrittenOnce_LeaveWhatEachReportsOwnStatementsLeave()
    {
        var round = 0;
        long written = 0;
        var row = Gen.Select(Gen.Int[0, 1], Gen.Int[0, 3], Gen.Bool, Gen.Int[0, 20]);
        // Times of whole seconds half the time, so that a silence of exactly the gap comes up.
        var at = Gen.Select(Gen.Int[0, 40], Gen.Int[0, 999], Gen.Bool).Select((seconds, ms, whole) => seconds * 1000 + (whole ? 0 : ms));
        var report = Gen.Select(Gen.Int[0, 3], at, row.Array[0, 4]).Select((h, at, rows) => new Report(h, at, rows));
        report.Array[0, 8].Array[1, 4].Sample(batches =>
        {
            // Samples run on several threads: each its own hosts; each side its own accounts and hosts.
            var r = Interlocked.Increment(ref round);
            var (fast, slow) = _store.Write("test", null, s => (
                new[] { s.CreateAccount($"fast{r}a", Start).AccountId, s.CreateAccount($"fast{r}b", Start).AccountId },
                new[] { s.CreateAccount($"slow{r}a", Start).AccountId, s.CreateAccount($"slow{r}b", Start).AccountId }));
            string Host(string side, int h) => $"{side}{r}-host{h}";
            AgentReportRecord Row(long[] accounts, string host, (int Account, int Instance, bool Eni, int Revision) x, DateTimeOffset at) =>
                new(accounts[x.Account], host, InstanceId.Parse($"i-{x.Instance:x8}aaaaaaaaaaaa"), x.Revision, at)
                { NetworkInterfaceId = x.Eni ? NetworkInterfaceId.Parse($"eni-{x.Instance:x8}bbbbbbbbbbbb") : null };
            List<AgentReportRecord> Rows(long[] accounts, string host, Report report)
            {
                var at = Time.Truncate(Start.AddMilliseconds(report.AtMs));
                // A report names each NIC once (the action reads them into a set), and each account's NICs
                // with the account's one revision (its first row's here).
                var revisions = report.Rows.GroupBy(x => x.Account).ToDictionary(g => g.Key, g => g.First().Revision);
                return [.. report.Rows.DistinctBy(x => (x.Account, x.Instance, x.Eni)).Select(x => Row(accounts, host, x with { Revision = revisions[x.Account] }, at))];
            }
            foreach (var batch in batches)
            {
                _store.WriteOn("ReportAgentStatus", $"test-fast-{r}", s =>
                {
                    var hosts = new List<string>();
                    var rows = new Dictionary<string, List<AgentReportRecord>>(StringComparer.Ordinal);
                    foreach (var b in batch)
                    {
                        var host = Host("f", b.Host);
                        if (!rows.ContainsKey(host))
                            hosts.Add(host);
                        rows[host] = Rows(fast, host, b);
                    }
                    // Each host's last report of the batch, newer than every report before it (the guard lets it replace).
                    s.ReplaceHostReports([.. hosts.Select(h => new HostReportMark(h, 0, Start.AddTicks(Interlocked.Increment(ref written))))], [.. hosts.SelectMany(h => rows[h])]);
                    s.MarkUsageHosts([.. batch.SelectMany(b => b.Rows.Select(x => x.Account).Distinct().Select(a => (fast[a], Host("f", b.Host), Start.AddMilliseconds(b.AtMs))))], Gap);
                    return 0;
                });
                _store.WriteOn("ReportAgentStatus", $"test-slow-{r}", s =>
                {
                    foreach (var b in batch)
                    {
                        var host = Host("s", b.Host);
                        s.SaveHostReports(new HostReportMark(host, 0, Start.AddTicks(Interlocked.Increment(ref written))), Rows(slow, host, b));
                        foreach (var a in b.Rows.Select(x => x.Account).Distinct())
                            s.MarkUsageHost(slow[a], host, Start.AddMilliseconds(b.AtMs), Gap);
                    }
                    return 0;
                });
                List<string> Stored(long[] accounts, string side) => _store.Read(s => accounts.SelectMany((account, a) =>
                    s.ListAgentReports(account, null).Select(x => $"report {a} {x.HostName[1..]} {x.InstanceId} {x.NetworkInterfaceId} {x.AppliedRevision} {Time.Format(x.ReportedAt)}")
                        .Concat(s.ListUsageHosts(account).Select(u => $"counting {a} {u.HostName[1..]} since {Time.Format(u.CountingSince)} last {Time.Format(u.LastReportAt)}"))).ToList());
                Assert.Equal(Stored(slow, "s"), Stored(fast, "f"));
            }
        }, iter: 150);
    }
}
