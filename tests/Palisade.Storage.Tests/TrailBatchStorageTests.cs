using CsCheck;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// A transaction's trail events in one <c>INSERT … SELECT FROM unnest(…)</c> of array parameters (PostgreSQL;
/// issue 17, twenty-third session: a node's batch of status reports trails one event a report) against the
/// slow twin, the multi-row <c>VALUES</c> of nine named parameters an event (SQLite's way, asked of PostgreSQL
/// here): on random batches of events — texts with quotes, escapes and characters beyond ASCII, empty ones,
/// one event or many, with a revision or none — the stored events are the same, in the same order. On
/// SQLite both writes are the twin's; on PostgreSQL when the run asks for it.
/// </summary>
public sealed class TrailBatchStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-trail-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public TrailBatchStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private static readonly DateTimeOffset Start = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    private static readonly string[] Texts = ["", "{}", "{\"InstanceId.1\":\"i-1\"}", "a'b", "c\"d", "back\\slash", "{\"x\":\"é→😀\"}", "line\nbreak", "NULL", "{\"", "ReportAgentStatus"];

    [Fact]
    public void EventsOfATransaction_WrittenAsArrays_AreTheEventsWrittenAsRows()
    {
        var round = 0;
        var text = Gen.Int[0, Texts.Length - 1].Select(i => Texts[i]);
        var @event = Gen.Select(Gen.Int[0, 100_000], text, text, text, Gen.Int[100, 599], text);
        Gen.Select(@event.Array[1, 12], Gen.Bool).Sample((events, changes) =>
        {
            var r = Interlocked.Increment(ref round);
            var (fast, slow) = _store.Write("test", null, s => (s.CreateAccount($"trailfast{r}", Start).AccountId, s.CreateAccount($"trailslow{r}", Start).AccountId));
            List<ActionTrailEntry> Entries(long account) =>
                [.. events.Select((e, i) => new ActionTrailEntry(Time.Truncate(Start.AddMilliseconds(e.Item1)), account, "key" + e.Item2, e.Item3, "2014-05-26", $"req-{r}-{i}", e.Item4, e.Item5, e.Item6))];
            void Write(long account, bool asValues)
            {
                void Add(IStoreSession s)
                {
                    ((SqlSession)s).TrailAsValues = asValues;
                    foreach (var entry in Entries(account))
                        s.AddTrail(entry);
                }
                if (changes)
                    // A write of the account's (its events carry its revision, if it changed something).
                    _store.Write("test", account, s => { s.CreateAccount($"trail{(asValues ? "slow" : "fast")}{r}x", Start); Add(s); return 0; });
                else
                    _store.WriteOn("ReportAgentStatus", $"host:trail{(asValues ? "slow" : "fast")}{r}", s => { Add(s); return 0; });
            }
            Write(fast, asValues: false);
            Write(slow, asValues: true);
            List<(ActionTrailEntry Entry, bool Revised)> Listed(long account) =>
                [.. _store.Read(s => s.ListTrail(new ActionTrailQuery(account, Max: 100))).Reverse().Select(e => (e.Entry with { AccountId = 0 }, e.Revision is not null))];
            var (written, twin) = (Listed(fast), Listed(slow));
            Assert.Equal(twin, written);
            Assert.Equal(Entries(0), written.Select(e => e.Entry));
        }, iter: 60, threads: 1);
    }
}
