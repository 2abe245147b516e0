namespace Palisade.Storage.Tests;

/// <summary>
/// Migration 016 (issue 17, twenty-third session) on a control plane made before it: the reports kept a row
/// a NIC with its revision and time; opening the store keeps them as a row a (host, account) and the NICs,
/// and the reads answer what they answered; the next report of a host rewrites its NICs (no digest yet).
/// </summary>
public sealed class ReportAccountsMigrationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("palisade-migrate-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ReportsMadeBefore016_ReadTheSame_AndTheNextReportReplacesThem()
    {
        HostBindingMigrationTests.StoreMadeBefore(_directory, 16, """
            INSERT INTO agent_reports VALUES (7, 'node-1', 'i-a', 'eni-a', 3, '2026-12-01T00:00:03Z');
            INSERT INTO agent_reports VALUES (7, 'node-1', 'i-b', '', 3, '2026-12-01T00:00:03Z');
            INSERT INTO agent_reports VALUES (8, 'node-1', 'i-c', 'eni-c', 5, '2026-12-01T00:00:04Z');
            INSERT INTO agent_reports VALUES (7, 'node-2', 'i-d', 'eni-d', 2, '2026-12-01T00:00:01Z');
            INSERT INTO host_reports VALUES ('node-1', 9, 100);
            """);

        using var store = StoreFactory.Open(null, _directory);
        string Shown(long account) => string.Join("; ", store.Read(s => s.ListAgentReports(account, null))
            .Select(r => $"{r.HostName} {r.InstanceId} {r.NetworkInterfaceId} {r.AppliedRevision} {Time.Format(r.ReportedAt)}"));
        Assert.Equal("node-1 i-a eni-a 3 2026-12-01T00:00:03Z; node-1 i-b  3 2026-12-01T00:00:03Z; node-2 i-d eni-d 2 2026-12-01T00:00:01Z", Shown(7));
        Assert.Equal("node-1 i-c eni-c 5 2026-12-01T00:00:04Z", Shown(8));
        // node-1's next report, of the same NICs of account 7 and none of 8: its NICs rewritten, though its mark was kept.
        var at = new DateTimeOffset(2026, 12, 1, 0, 0, 9, TimeSpan.Zero);
        store.WriteOn("ReportAgentStatus", "host:node-1", s => s.SaveHostReports(new Records.HostReportMark("node-1", 10, at),
        [
            new(7, "node-1", Domain.Identifiers.InstanceId.Parse("i-a"), 6, at) { NetworkInterfaceId = Domain.Identifiers.NetworkInterfaceId.Parse("eni-a") },
        ]));
        Assert.Equal("node-1 i-a eni-a 6 2026-12-01T00:00:09Z; node-2 i-d eni-d 2 2026-12-01T00:00:01Z", Shown(7));
        Assert.Equal("", Shown(8));
    }
}
