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

    /// <summary>
    /// A report's rows: distinct (account, instance, ENI or none) keys, any revision and time an account (every
    /// NIC of one account on a host is reported with the account's revision and the report's time).
    /// </summary>
    private static readonly Gen<(int Account, int Instance, int? Eni, long Revision, int Second)[]> Reports =
        Gen.Select(Gen.Select(Gen.Int[0, Accounts - 1], Gen.Int[0, 60], Gen.Int[-1, 3].Select(e => e < 0 ? (int?)null : e)).Array[0, 210],
                Gen.Long[0, long.MaxValue / 2].Array[Accounts], Gen.Int[0, 100_000].Array[Accounts])
            .Select((nics, revisions, seconds) => nics.Distinct().Select(n => (n.Item1, n.Item2, n.Item3, revisions[n.Item1], seconds[n.Item1])).ToArray());

    [Fact]
    public void AReportInOneStatement_LeavesTheRowsOfOneStatementARow()
    {
        var round = 0;
        Gen.Select(Reports, Reports).Sample((before, after) =>
        {
            // Samples run on several threads: each its own hosts.
            var r = Interlocked.Increment(ref round);
            var fastHost = $"f{r}-host";
            var slowHost = $"s{r}-host";
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

    /// <summary>
    /// Reports kept once a (host, account) with the NIC rows rewritten only when the set changed (migration 016,
    /// twenty-third session) against the model and the twins that rewrite every NIC row: random rounds of
    /// reports of four hosts — NIC sets of two accounts drawn from a few so that a set comes back with newer
    /// revisions, changes, or is empty (a host unbound entirely), revisions and arrivals with ties so that an
    /// older report is written after a newer — each round in batches (<c>ReplaceHostReports</c>) or alone
    /// (<c>SaveHostReports</c>) on one set of hosts, and the same through the twins (<c>ReplaceHostReportsRewritingAll</c>,
    /// <c>SaveHostReportsOneByOne</c>) on another: every account's reads of every host are the newest report's
    /// rows, on both; on SQLite, and on PostgreSQL when the run asks for it.
    /// </summary>
    [Fact]
    public void ReportsKeptOnceAnAccount_ReadAsTheNewestReportsRows_AsTheTwinsRewritingEveryNic()
    {
        var round = 0;
        var epoch = new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
        // A NIC: account (1 or 2), instance, ENI or none.
        var nicSet = Gen.Select(Gen.Int[1, 2], Gen.Int[0, 4], Gen.Int[-1, 1]).Array[1, 6].Select(n => n.Distinct().ToArray());
        // A report: host, which of the round's sets (or none: the host unbound entirely), revision, arrival (µs), seconds.
        var report = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 4], Gen.Long[0, 3], Gen.Int[0, 3], Gen.Int[0, 5]);
        // Batches of reports of distinct hosts, as a node's batch gives them (one report a host).
        var batches = report.Array[1, 4].Select(b => b.DistinctBy(r => r.Item1).ToArray()).Array[1, 8];
        // The round's sets: one, the same with one NIC's ENI changed, with one NIC's account changed, another.
        var roundSets = Gen.Select(nicSet, nicSet, Gen.Int[0, 5]).Select((first, other, k) =>
        {
            var (account, instance, eni) = first[k % first.Length];
            var otherEni = first.Select((n, i) => i == k % first.Length ? (account, instance, eni == 1 ? -1 : eni + 1) : n).Distinct().ToArray();
            var otherAccount = first.Select((n, i) => i == k % first.Length ? (3 - account, instance, eni) : n).Distinct().ToArray();
            return new[] { first, otherEni, otherAccount, other };
        });
        Gen.Select(roundSets, batches).Sample((sets, written) =>
        {
            var r = Interlocked.Increment(ref round);
            List<AgentReportRecord> Rows(string host, int set, long revision, int second) =>
                set == sets.Length ? [] : [.. sets[set].Select(n => new AgentReportRecord(n.Item1, host, InstanceId.Parse($"i-k{r}x{n.Item2}"),
                    revision * 10 + n.Item1, epoch.AddSeconds(second * 10 + n.Item1))
                {
                    NetworkInterfaceId = n.Item3 < 0 ? null : NetworkInterfaceId.Parse($"eni-k{r}x{n.Item2}y{n.Item3}"),
                })];
            var model = new Dictionary<int, (HostReportMark Mark, List<AgentReportRecord> Rows)>();
            foreach (var batch in written)
            {
                foreach (var (prefix, twin) in new[] { ("f", false), ("t", true) })
                {
                    var reports = batch.Select(b => (Mark: new HostReportMark($"{prefix}{r}-h{b.Item1}", b.Item3, epoch.AddTicks(b.Item4 * 10)),
                        Rows: Rows($"{prefix}{r}-h{b.Item1}", b.Item2, b.Item3, b.Item5))).ToList();
                    _store.WriteOn("ReportAgentStatus", "host:" + prefix + r, s =>
                    {
                        var session = (SqlSession)s;
                        if (reports.Count == 1)
                        {
                            if (twin)
                                session.SaveHostReportsOneByOne(reports[0].Mark, reports[0].Rows);
                            else
                                session.SaveHostReports(reports[0].Mark, reports[0].Rows);
                        }
                        else if (twin)
                            session.ReplaceHostReportsRewritingAll([.. reports.Select(x => x.Mark)], [.. reports.SelectMany(x => x.Rows)]);
                        else
                            session.ReplaceHostReports([.. reports.Select(x => x.Mark)], [.. reports.SelectMany(x => x.Rows)]);
                        return 0;
                    });
                }
                foreach (var b in batch)
                {
                    var mark = new HostReportMark($"h{b.Item1}", b.Item3, epoch.AddTicks(b.Item4 * 10));
                    if (!model.TryGetValue(b.Item1, out var known) || mark.NotOlderThan(known.Mark))
                        model[b.Item1] = (mark, Rows("", b.Item2, b.Item3, b.Item5));
                }
            }
            for (var host = 0; host < 4; host++)
            {
                for (var account = 1; account <= 2; account++)
                {
                    var expected = model.TryGetValue(host, out var m)
                        ? m.Rows.Where(x => x.AccountId == account).OrderBy(x => x.InstanceId.Value, StringComparer.Ordinal)
                            .ThenBy(x => x.NetworkInterfaceId?.Value ?? "", StringComparer.Ordinal).Select(Shown).ToList()
                        : [];
                    foreach (var prefix in new[] { "f", "t" })
                        Assert.Equal(expected, _store.Read(s => s.ListAgentReports(account, $"{prefix}{r}-h{host}")).Select(Shown).ToList());
                }
            }
        }, iter: 60);
    }

    private static string Shown(AgentReportRecord r) =>
        $"{r.AccountId} {r.InstanceId} {r.NetworkInterfaceId} {r.AppliedRevision} {Time.Format(r.ReportedAt)}";

    /// <summary>
    /// One row a (host, account) holds one revision and time: a report whose NICs of one account differ in
    /// them is refused, and leaves the host's report as it was.
    /// </summary>
    [Fact]
    public void AReportWhoseNicsOfOneAccountDiffer_IsRefused_AndLeavesTheReportBefore()
    {
        var at = new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
        AgentReportRecord Nic(int instance, long revision) => new(1, "d-host", InstanceId.Parse($"i-d{instance}"), revision, at);
        _store.WriteOn("ReportAgentStatus", "host:d-host", s => s.SaveHostReports(new HostReportMark("d-host", 1, at), [Nic(1, 1), Nic(2, 1)]));
        Assert.Throws<ArgumentException>(() =>
            _store.WriteOn("ReportAgentStatus", "host:d-host", s => s.SaveHostReports(new HostReportMark("d-host", 2, at), [Nic(1, 2), Nic(2, 3)])));
        Assert.Equal(["1 i-d1  1 2026-12-06T04:00:00Z", "1 i-d2  1 2026-12-06T04:00:00Z"], _store.Read(s => s.ListAgentReports(1, "d-host")).Select(Shown));
    }
}
