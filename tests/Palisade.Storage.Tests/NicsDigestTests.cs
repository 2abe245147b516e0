using CsCheck;
using Palisade.Domain.Identifiers;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;

namespace Palisade.Storage.Tests;

/// <summary>
/// A host's NIC-set digest (<c>host_reports.nics_digest</c>, migration 016) made from keys written in one buffer
/// (twenty-fourth session) against its slow twin, a string a key: the same value for every set, so a digest stored
/// by a node before the change still says "the same set" after it (no NIC rows rewritten on upgrade).
/// </summary>
public sealed class NicsDigestTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 7, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Random NIC sets whose keys' texts order differently from their parts: accounts of 1 to 19 digits and negative
    /// (<c>"9 …"</c> after <c>"10 …"</c>), IDs that are prefixes of one another, upper and lower case, <c>_</c>, classic NICs.
    /// </summary>
    private static readonly Gen<(long Account, string Instance, string? Eni)[]> Sets =
        Gen.Select(
                Gen.OneOf(Gen.Long[-12, 12], Gen.Long[1, 200], Gen.Long, Gen.Const(long.MinValue), Gen.Const(long.MaxValue)),
                Gen.String[Gen.Char["ab9A_"], 1, 4],
                Gen.String[Gen.Char["ab9A_"], 1, 4].Null())
            .Array[0, 40]
            .Select(keys => keys.Select(k => (k.Item1, "i-" + k.Item2, k.Item3 is null ? null : "eni-" + k.Item3)).Distinct().ToArray());

    private static AgentReportRecord Row((long Account, string Instance, string? Eni) key) =>
        new(key.Account, "host-1", InstanceId.Parse(key.Instance), 7, At) { NetworkInterfaceId = key.Eni is null ? null : NetworkInterfaceId.Parse(key.Eni) };

    [Fact]
    public void TheDigest_IsTheJoinedKeysDigest_ForEverySetAndOrder() =>
        Gen.Select(Sets, Gen.Int).Sample((keys, seed) =>
        {
            var rows = keys.Select(Row).ToList();
            var shuffled = rows.ToArray();
            new Random(seed).Shuffle(shuffled);
            var digest = SqlSession.NicsDigest(rows);
            Assert.Equal(SqlSession.NicsDigestJoined(rows), digest);
            Assert.Equal(digest, SqlSession.NicsDigest(shuffled));
        }, iter: 3_000);

    [Fact]
    public void SetsThatDifferByOneNic_HaveDifferentDigests() =>
        Gen.Select(Sets.Where(k => k.Length > 0), Gen.Int).Sample((keys, seed) =>
        {
            var rows = keys.Select(Row).ToList();
            var less = rows.Where((_, i) => i != (int)((uint)seed % rows.Count)).ToList();
            Assert.NotEqual(SqlSession.NicsDigest(rows), SqlSession.NicsDigest(less));
        }, iter: 1_000);

    [Fact]
    public void NoNics_IsTheDigestOfNothing() =>
        Assert.Equal("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", SqlSession.NicsDigest([]));
}
