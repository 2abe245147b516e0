using CsCheck;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// Nonces recorded in batches (issue 17, fifteenth session: <c>IStore.TryUseNonces</c>, one statement
/// for the nonces a node's requests brought within one round trip) against the slow twin, one insert
/// per nonce in the batch's order: on random batches in a row over a few keys and few nonces (so that
/// a nonce comes back within a batch, in a later batch, and under another key), every use is accepted
/// or refused alike; on SQLite, and on PostgreSQL when the run asks for it.
/// </summary>
public sealed class NonceBatchStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-nonces-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public NonceBatchStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 5, 4, 0, 0, TimeSpan.Zero);

    [Fact]
    public void NoncesInBatches_AreAcceptedAndRefused_AsOneInsertEachIs()
    {
        var round = 0;
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 9]).Array[0, 40].Array[1, 4].Sample(batches =>
        {
            // Samples run on several threads: each its own round, each side its own keys.
            var r = Interlocked.Increment(ref round);
            NonceUse Use(string side, (int Key, int Nonce) u) => new($"LTAI{side}{r}k{u.Key}", $"nonce-{u.Nonce}", Now.AddMinutes(15));
            var fast = batches.SelectMany(b => _store.TryUseNonces([.. b.Select(u => Use("f", u))], Now)).ToList();
            var slow = batches.SelectMany(b => b.Select(u => Use("s", u))).Select(u => _store.TryUseNonce(u.AccessKeyId, u.Nonce, u.ExpiresAt, Now)).ToList();
            Assert.Equal(slow, fast);
        }, iter: 300);
    }
}
