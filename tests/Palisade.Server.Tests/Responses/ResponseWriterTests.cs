using CsCheck;
using Palisade.Server.Responses;

namespace Palisade.Server.Tests.Responses;

/// <summary>
/// Issue 19: JSON answers are rendered into pooled buffers (no growing stream left as large-object
/// garbage); they are byte for byte what the stream gave, from a few bytes to past the pool's first
/// buffer and the large-object heap's 85 KB.
/// </summary>
public sealed class ResponseWriterTests
{
    [Fact]
    public void Json_InPooledBuffers_IsTheStreamsByteForByte()
    {
        var text = Gen.String[Gen.Char['\0', '\u07ff'], 0, 40];
        var item = Gen.Select(text, Gen.Int, Gen.Bool, Gen.Long).Select((s, i, b, l) => new EcsObject { { "Source", s }, { "Port", i }, { "Open", b }, { "Revision", l }, { "Nothing", null } });
        var body = Gen.Select(text, item.Array[0, 3000]).Select((id, items) => new EcsObject
        {
            { "RequestId", id },
            { "Impact", new EcsObject { { "Computed", true }, { "Gained", EcsList.Of("Flow", items) } } },
        });
        body.Sample(b => Assert.Equal(ResponseWriter.JsonThroughStream(b), ResponseWriter.Json(b)), iter: 60, threads: 1);
    }

    private static readonly Gen<EcsObject> Answers = Gen.Select(Gen.String[Gen.Char['\0', '\u07ff'], 0, 40], Gen.Int, Gen.Bool, Gen.Long)
        .Select((s, i, b, l) => new EcsObject { { "Source", s }, { "Port", i }, { "Open", b }, { "Revision", l }, { "Nothing", null } })
        .Array[0, 400]
        .Select(items => new EcsObject
        {
            { "RequestId", "8E2B1B8B-0000-4000-8000-000000000001" },
            { "Impact", new EcsObject { { "Computed", true }, { "Gained", EcsList.Of("Flow", items) } } },
        });

    /// <summary>
    /// Issue 19: the server sends an answer rendered in pieces below the large-object heap's threshold;
    /// the bytes are the single array's (the slow twin), in both formats, for pieces from a few bytes
    /// (every boundary falls inside some token) to what ships.
    /// </summary>
    [Fact]
    public void AnAnswerInPieces_IsTheSingleArrayByteForByte_WhereverThePiecesEnd()
    {
        Gen.Select(Answers, Gen.Int[1, 700], Gen.Bool).Sample((body, pieceBytes, xml) =>
        {
            var format = xml ? ResponseFormat.Xml : ResponseFormat.Json;
            var pieces = ResponseWriter.Render(format, "DescribeChangeImpactResponse", body, pieceBytes);
            var whole = xml ? ResponseWriter.Xml("DescribeChangeImpactResponse", body) : ResponseWriter.Json(body);
            Assert.Equal(whole, pieces.ToArray());
            Assert.Equal(whole.Length, pieces.Length);
            Assert.All(pieces.Pieces, p => Assert.True(p.Count > 0));
        }, iter: 200, threads: 1);
    }

    /// <summary>
    /// Issue 17, twenty-first session: an answer written once lends its last piece from the pool's buffer it
    /// was rendered in instead of a copy; its bytes are the copied answer's (the slow twin) in both formats and
    /// at any piece size, and it gives the buffer back once.
    /// </summary>
    [Fact]
    public void AnAnswerThatLendsItsBuffer_IsTheCopiedAnswerByteForByte()
    {
        Gen.Select(Answers, Gen.Int[1, 700], Gen.Bool).Sample((body, pieceBytes, xml) =>
        {
            var format = xml ? ResponseFormat.Xml : ResponseFormat.Json;
            var copied = ResponseWriter.Render(format, "DescribeChangesResponse", body, pieceBytes);
            var lent = ResponseWriter.Render(format, "DescribeChangesResponse", body, pieceBytes, lend: true);
            Assert.False(copied.Lends);
            Assert.True(lent.Lends);
            Assert.Equal(copied.ToArray(), lent.ToArray());
            Assert.Equal(copied.Length, lent.Length);
            Assert.Equal(copied.Pieces.Count, lent.Pieces.Count);
            Assert.All(lent.Pieces, p => Assert.True(p.Count > 0));
            lent.Release();
            Assert.False(lent.Lends);
            lent.Release();
        }, iter: 200, threads: 1);
    }

    /// <summary>Answers around and past a piece's size as it ships: each piece stays below the large-object heap's 85,000 bytes.</summary>
    [Fact]
    public void AnAnswerOfAnySize_IsSentInPiecesBelowTheLargeObjectHeap()
    {
        var item = new EcsObject { { "Source", "i-bp1abcdefghijklmnopq" }, { "Target", "i-bp1qrstuvwxyzabcdefgh" }, { "IpProtocol", "TCP" }, { "PortRanges", EcsList.Of("PortRange", ["3000/3000"]) } };
        var itemBytes = ResponseWriter.Json(item).Length + 1;
        // Item counts whose answers end just before, at and just after one and two pieces, and far past them.
        var around = new[] { 1, 2 }.SelectMany(n => Enumerable.Range(-3, 7).Select(d => n * RenderedAnswer.PieceBytes / itemBytes + d)).Append(3000);
        foreach (var count in around)
        {
            var body = new EcsObject { { "RequestId", "R" }, { "Gained", EcsList.Of("Flow", Enumerable.Repeat(item, count).ToList()) } };
            foreach (var format in new[] { ResponseFormat.Json, ResponseFormat.Xml })
            {
                var pieces = ResponseWriter.Render(format, "Answer", body);
                Assert.Equal(format == ResponseFormat.Xml ? ResponseWriter.Xml("Answer", body) : ResponseWriter.Json(body), pieces.ToArray());
                Assert.All(pieces.Pieces, p => Assert.True(p.Array!.Length < 85_000, $"a piece of {p.Array.Length} bytes"));
            }
        }
    }
}
