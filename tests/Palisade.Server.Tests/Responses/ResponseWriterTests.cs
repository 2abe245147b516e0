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
}
