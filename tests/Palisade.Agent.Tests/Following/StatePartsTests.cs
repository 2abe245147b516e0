using System.Text.Json;
using CsCheck;
using Palisade.Agent.Following;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// The state file written straight into its string (<see cref="StateParts.Write"/>, issue 17, sixteenth
/// session) against its slow twin through a <see cref="Utf8JsonWriter"/> (<see cref="StateParts.WriteThroughJsonWriter"/>):
/// for random regions (characters the writer escapes among them) and random unions — lists empty or
/// not, resources of any JSON shape with escapes and characters beyond ASCII — the same text, and text
/// the parser reads.
/// </summary>
public sealed class StatePartsTests
{
    private static readonly Gen<string> Text = Gen.OneOf("cn-hangzhou", "", "a\"b", "<&'+>", "é中", "tab\there", "\u2028", "x\\y", "emoji 😀");

    /// <summary>A resource as the server renders it: a JSON object (serialized, so escapes are the serializer's).</summary>
    private static readonly Gen<string> Resource = Gen.Select(Text, Gen.Int, Text.Array[0, 3]).Select((id, n, tags) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["Id"] = id, ["N"] = n, ["Tags"] = tags }));

    [Fact]
    public void StraightIntoTheString_WritesWhatTheJsonWriterWrites()
    {
        Gen.Select(Text, Resource.List[0, 4].Array[StateParts.Lists.Length]).Sample((region, union) =>
        {
            var fast = StateParts.Write(region, union);
            Assert.Equal(StateParts.WriteThroughJsonWriter(region, union), fast);
            using var document = JsonDocument.Parse(fast);
            Assert.Equal(region, document.RootElement.GetProperty("RegionId").GetString());
        }, iter: 2_000);
    }
}
