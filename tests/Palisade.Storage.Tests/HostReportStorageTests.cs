using CsCheck;
using Palisade.Domain.Identifiers;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// A host's agent report written in one <c>INSERT</c> of many rows (issue 17, twelfth session) against
/// its slow twin, one <c>INSERT</c> a row: on random reports (none to more than one statement's rows,
/// ENIs and classic NICs, several accounts), each replacing a random earlier report of its host, the
/// rows read back are the same; on SQLite, and on PostgreSQL when the run asks for it.
/// </summary>
public sealed class HostReportStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-reports-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public HostReportStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private const int Accounts = 3;

    /// <summary>A report's rows: distinct (account, instance, ENI or none) keys, any revision and time.</summary>
    private static readonly Gen<(int Account, int Instance, int? Eni, long Revision, int Second)[]> Reports =
        Gen.Select(Gen.Int[0, Accounts - 1], Gen.Int[0, 60], Gen.Int[-1, 3].Select(e => e < 0 ? (int?)null : e), Gen.Long[0, long.MaxValue / 2], Gen.Int[0, 100_000])
            .Array[0, 2 * SqlSession.ReportRowsPerStatement + 10]
            .Select(rows => rows.DistinctBy(r => (r.Item1, r.Item2, r.Item3)).ToArray());

    [Fact]
    public void AReportInOneStatement_LeavesTheRowsOfOneStatementARow()
    {
        var round = 0;
        Gen.Select(Reports, Reports).Sample((before, after) =>
        {
            round++;
            var fastHost = $"f{round}-host";
            var slowHost = $"s{round}-host";
            var epoch = new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);
            List<AgentReportRecord> Records(string host, (int Account, int Instance, int? Eni, long Revision, int Second)[] rows) =>
                [.. rows.Select(r => new AgentReportRecord(r.Account + 1, host, InstanceId.Parse($"i-r{r.Instance}"), r.Revision, epoch.AddSeconds(r.Second))
                {
                    NetworkInterfaceId = r.Eni is { } e ? NetworkInterfaceId.Parse($"eni-r{r.Instance}x{e}") : null,
                })];
            // Each report newer than the one before (a later arrival): it replaces it.
            foreach (var (host, rows, at) in new[] { (fastHost, before, 1), (fastHost, after, 2) })
                _store.WriteOn("ReportAgentStatus", "host:" + host, s =>
                {
                    Assert.True(((SqlSession)s).SaveHostReports(new HostReportMark(host, 0, epoch.AddTicks(at)), Records(host, rows)));
                    return 0;
                });
            foreach (var (host, rows, at) in new[] { (slowHost, before, 1), (slowHost, after, 2) })
                _store.WriteOn("ReportAgentStatus", "host:" + host, s =>
                {
                    ((SqlSession)s).SaveHostReportsOneByOne(new HostReportMark(host, 0, epoch.AddTicks(at)), Records(host, rows));
                    return 0;
                });
            for (var account = 1; account <= Accounts; account++)
            {
                var fast = _store.Read(s => s.ListAgentReports(account, fastHost)).Select(r => r with { HostName = "" }).ToList();
                var slow = _store.Read(s => s.ListAgentReports(account, slowHost)).Select(r => r with { HostName = "" }).ToList();
                Assert.Equal(slow, fast);
                Assert.Equal(after.Count(r => r.Account + 1 == account), fast.Count);
            }
        }, iter: 30);
    }

    /// <summary>
    /// The guard of the reports' write (issue 17, twentieth session) against its model: a host's reports —
    /// random applied revisions and arrivals, ties among them — written in a random order, each alone
    /// (<c>SaveHostReports</c>) or in a batch beside another host's (<c>ReplaceHostReports</c>, a host named twice
    /// in it now and then), leave the rows of the newest: the highest revision, then the latest arrival, and of
    /// equal ones the last written. An older report written last (on another node, or in a later batch after a
    /// newer one) leaves the newer's rows; on SQLite, and on PostgreSQL when the run asks for it.
    /// </summary>
    [Fact]
    public void AnOlderReportWrittenLast_LeavesTheNewerReportsRows()
    {
        var round = 0;
        var epoch = new DateTimeOffset(2026, 12, 5, 19, 0, 0, TimeSpan.Zero);
        // Each report: revision, arrival (µs), alone or in a batch, and in the batch named twice (an older copy first).
        var reports = Gen.Select(Gen.Long[0, 3], Gen.Int[0, 3], Gen.Bool, Gen.Bool).Array[1, 8];
        reports.Sample(written =>
        {
            var r = Interlocked.Increment(ref round);
            var (host, other) = ($"g{r}-host", $"g{r}-other");
            // Each report's row names it: its index as the account revision.
            AgentReportRecord Row(string h, int index) => new(1, h, InstanceId.Parse($"i-g{r}"), index, epoch);
            for (var i = 0; i < written.Length; i++)
            {
                var (revision, arrived, batched, twice) = written[i];
                var mark = new HostReportMark(host, revision, epoch.AddTicks(arrived * 10));
                var index = i;
                _store.WriteOn("ReportAgentStatus", "host:" + host, s =>
                {
                    if (!batched)
                        s.SaveHostReports(mark, [Row(host, index)]);
                    else
                    {
                        // Another host beside it, always newer than its last (its rows replaced every time).
                        List<HostReportMark> marks = [new(other, index, epoch), mark];
                        List<AgentReportRecord> rows = [Row(other, index), Row(host, index)];
                        if (twice)
                            marks.Insert(0, mark with { AppliedRevision = revision - 1 });
                        s.ReplaceHostReports(marks, rows);
                    }
                    return 0;
                });
            }
            // The model: the highest (revision, arrival); of equal ones, the last written.
            var newest = written.Select((w, i) => (w.Item1, w.Item2, i)).Max();
            Assert.Equal([newest.i], _store.Read(s => s.ListAgentReports(1, host)).Select(x => (int)x.AppliedRevision));
            if (written.Any(w => w.Item3))
                Assert.Equal([written.Select((w, i) => (w.Item3, i)).Where(x => x.Item1).Max(x => x.i)], _store.Read(s => s.ListAgentReports(1, other)).Select(x => (int)x.AppliedRevision));
        }, iter: 40);
    }
}
