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
            foreach (var (host, rows) in new[] { (fastHost, before), (fastHost, after) })
                _store.WriteOn("ReportAgentStatus", "host:" + host, s =>
                {
                    ((SqlSession)s).SaveHostReports(host, Records(host, rows));
                    return 0;
                });
            foreach (var (host, rows) in new[] { (slowHost, before), (slowHost, after) })
                _store.WriteOn("ReportAgentStatus", "host:" + host, s =>
                {
                    ((SqlSession)s).SaveHostReportsOneByOne(host, Records(host, rows));
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
}
