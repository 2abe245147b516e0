using CsCheck;
using Palisade.Storage.Records;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// A node's batch of host credentials' uses written as one statement per second of use (issue 17,
/// thirteenth session) against its slow twin, one <c>UPDATE</c> a credential: on random batches (none
/// to more than one statement's credentials, uses spread over up to three minutes, to the
/// sub-second, some credentials never used, several batches in a row), every credential's last use
/// read back is the same; on SQLite, and on PostgreSQL when the run asks for it.
/// </summary>
public sealed class HostCredentialUseStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-uses-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public HostCredentialUseStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private static readonly DateTimeOffset Epoch = new(2026, 12, 4, 22, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Batches of (credential, milliseconds after the epoch), each credential at most once a batch; a
    /// batch's uses spread over up to three minutes, or all within one second (more than a statement's
    /// credentials then share a second).
    /// </summary>
    private static readonly Gen<(int Credential, int Millis)[][]> Batches =
        Gen.OneOf(Gen.Int[1, 1_000], Gen.Int[1, 180_000])
            .SelectMany(spread => Gen.Select(Gen.Int[0, 2 * Sql.SqlSession.CredentialUsesPerStatement + 20], Gen.Int[0, spread - 1])
                .Array[0, 2 * Sql.SqlSession.CredentialUsesPerStatement + 20])
            .Select(uses => uses.DistinctBy(u => u.Item1).ToArray())
            .Array[1, 3];

    [Fact]
    public void UsesWrittenASecondAStatement_LeaveEveryCredentialAsAnUpdateEach()
    {
        const int Credentials = 2 * Sql.SqlSession.CredentialUsesPerStatement + 21;
        var round = 0;
        Batches.Sample(batches =>
        {
            // Samples run on several threads: each its own round.
            var r = Interlocked.Increment(ref round);
            string Id(string side, int credential) => $"LTAI{side}{r}x{credential}";
            _store.Write("DeclareHost", null, s =>
            {
                s.SaveHost(new HostRecord($"node-{r}", Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0"), Epoch));
                foreach (var side in new[] { "f", "s" })
                {
                    for (var c = 0; c < Credentials; c++)
                        s.InsertHostCredential(new HostCredentialRecord(Id(side, c), $"node-{r}", [1], AccessKeyStatus.Active, Epoch));
                }
                return 0;
            });
            foreach (var batch in batches)
            {
                _store.WriteOn("UseHostCredential", "host-credential-uses", s =>
                {
                    s.MarkHostCredentialsUsed([.. batch.Select(u => KeyValuePair.Create(Id("f", u.Credential), Epoch.AddMilliseconds(u.Millis)))]);
                    return 0;
                });
                _store.WriteOn("UseHostCredential", "host-credential-uses", s =>
                {
                    foreach (var (credential, millis) in batch.OrderBy(u => Id("s", u.Credential), StringComparer.Ordinal))
                        s.MarkHostCredentialUsed(Id("s", credential), Time.Truncate(Epoch.AddMilliseconds(millis)));
                    return 0;
                });
            }
            var listed = _store.Read(s => s.ListHostCredentials($"node-{r}")).ToDictionary(c => c.AccessKeyId, c => c.LastUsedAt);
            var fast = Enumerable.Range(0, Credentials).Select(c => listed[Id("f", c)]).ToList();
            var slow = Enumerable.Range(0, Credentials).Select(c => listed[Id("s", c)]).ToList();
            Assert.Equal(slow, fast);
            Assert.Equal(batches.SelectMany(b => b).Select(u => u.Credential).Distinct().Count(), fast.Count(u => u is not null));
        }, iter: 25);
    }
}
