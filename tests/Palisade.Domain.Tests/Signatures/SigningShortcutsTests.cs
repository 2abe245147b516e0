using CsCheck;
using Palisade.Domain.Signatures;

namespace Palisade.Domain.Tests.Signatures;

/// <summary>
/// The signature's shortcuts (issue 17, eighteenth session: every request of a fleet's hosts is read and
/// signed again) against their slow twins: a value with nothing to escape returned as it is
/// (<see cref="PercentEncoding.Encode"/> against <see cref="PercentEncoding.EncodeEach"/>), pairs cut from
/// the text without splitting it (<see cref="PercentEncoding.ParsePairs"/> against
/// <see cref="PercentEncoding.ParsePairsEach"/>), and the canonical request in one builder
/// (<see cref="SignatureV3.CanonicalRequest"/> against <see cref="SignatureV3.CanonicalRequestSlow"/>), on
/// texts mixing unreserved characters with escapes (good and bad), '+', separators, spaces, non-ASCII
/// letters and lone surrogates.
/// </summary>
public sealed class SigningShortcutsTests
{
    private static readonly string[] Pieces =
        ["a", "Z", "0", "9", "-", "_", ".", "~", "KnownNic.1.Digest", "i-bp1", "%", "%2", "%41", "%zz", "%E6%97%A5", "+", "=", "&", "?", " ", "/", ":", "é", "日", "\U0001F600", "\uD800", "\t"];

    private static readonly Gen<string> Text = Gen.Int[0, Pieces.Length - 1].Array[0, 12].Select(i => string.Concat(i.Select(p => Pieces[p])));

    [Fact]
    public void AValueWithNothingToEscape_IsEncodedAsEachRuneIs() =>
        Text.Sample(s => PercentEncoding.Encode(s) == PercentEncoding.EncodeEach(s), iter: 5_000);

    [Fact]
    public void PairsCutFromTheText_AreThePairsOfTheSplitText() =>
        Gen.Select(Text.Array[0, 6], Gen.Bool).Sample((parts, query) =>
        {
            var text = (query ? "?" : "") + string.Join('&', parts);
            return PercentEncoding.ParsePairs(text).SequenceEqual(PercentEncoding.ParsePairsEach(text));
        }, iter: 5_000);

    [Fact]
    public void TheCanonicalRequestInOneBuilder_IsTheReferencesSteps()
    {
        var name = Gen.OneOf(Gen.OneOf("Action", "KnownNic.1.Digest", "KnownNic.10.Digest", "a", "A", "b"), Text);
        var pairs = Gen.Select(name, Text).Array[0, 10].Select(a => a.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2)).ToList());
        var headers = Gen.Select(Gen.OneOf("host", "x-acs-date", "x-acs-action", "content-type"), Text, Gen.Int[0, 4]).Array[0, 4];
        Gen.Select(pairs, headers, Gen.Byte.Array[0, 40], Gen.OneOf("GET", "POST")).Sample((query, signed, body, method) =>
        {
            // A signed header the request lacks (null) now and then; values with spaces around them.
            var values = signed.GroupBy(h => h.Item1).ToDictionary(g => g.Key, g => g.First() is var (_, v, shape) && shape == 0 ? null : shape == 1 ? " " + v + "\t" : v);
            var names = values.Keys.ToList();
            string? Header(string n) => values.GetValueOrDefault(n);
            return SignatureV3.CanonicalRequest(method, "/", query, Header, names, body) == SignatureV3.CanonicalRequestSlow(method, "/", query, Header, names, body);
        }, iter: 3_000);
    }

    /// <summary>
    /// The string to sign from the canonical request hashed as it is written (<see cref="SignatureV3.StringToSignOf"/>,
    /// twentieth session) against the hash of its text: queries long enough to cross the writer's buffers many
    /// times, with surrogate pairs and lone surrogates in the method, the header names and values (the text's
    /// only characters not percent-encoded), so pairs fall across a buffer's end.
    /// </summary>
    [Fact]
    public void TheCanonicalRequestHashedAsItIsWritten_IsItsTextsHash()
    {
        var raw = Gen.Int[0, Pieces.Length - 1].Array[0, 700].Select(i => string.Concat(i.Select(p => Pieces[p])));
        var pairs = Gen.Select(Gen.OneOf(Gen.OneOf("Action", "KnownNic.1.Digest", "a"), Text), Gen.OneOf(Text, raw)).Array[0, 40]
            .Select(a => a.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2)).ToList());
        var headers = Gen.Select(Gen.OneOf(Gen.OneOf("host", "x-acs-date", "content-type"), Text), Gen.OneOf(Text, raw)).Array[0, 4];
        Gen.Select(pairs, headers, Gen.Byte.Array[0, 40], Gen.OneOf(Gen.OneOf("GET", "POST"), raw)).Sample((query, signed, body, method) =>
        {
            var values = signed.GroupBy(h => h.Item1).ToDictionary(g => g.Key, g => g.First().Item2);
            var names = values.Keys.ToList();
            string? Header(string n) => values.GetValueOrDefault(n);
            return SignatureV3.StringToSignOf(method, "/", query, Header, names, body)
                == SignatureV3.StringToSign(SignatureV3.CanonicalRequest(method, "/", query, Header, names, body));
        }, iter: 400);
    }
}
