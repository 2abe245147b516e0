using CsCheck;
using Palisade.Domain.Errors;
using Palisade.Server.Actions;
using Palisade.Server.Actions.Hosts;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 17, twenty-first session: <c>Name.N</c> lists and <c>Name.N.Field</c> objects are read where the
/// parameters' names lie (no cut of each name, an index parsed from its span, the fields the reader declares
/// not cut either). The readers of each name cut (<see cref="ParameterReader.ListEach"/>, <see cref="ParameterReader.ObjectsEach"/>)
/// are their slow twins: the same items in the same order, each with the same fields (a declared field's
/// lookup the same too), or the same refusal, for any parameters.
/// </summary>
public sealed class ParameterReaderTests
{
    private static Gen<string> Of(params string[] texts) => Gen.Int[0, texts.Length - 1].Select(i => texts[i]);

    private static readonly string[] Names = ["KnownNic", "Tag", "Known", "KnownNicX", "RuleUsage"];
    private static readonly string[] Indexes = ["1", "2", "3", "7", "10", "12", "0", "01", "", "a", "1a", "-1", "+1", "9999", "10000", "٣"];
    private static readonly string[] Fields = ["InstanceId", "Digest", "Key", "Value", "Other", "", "Digest.More", "digest"];

    /// <summary>What the reader is told it reads: some of the fields sent, and one never sent.</summary>
    private static readonly FieldNames Declared = new("InstanceId", "Digest", "Key", "Value", "Never");

    /// <summary>A parameter's name: a list's item, an object's field, a malformed one, or another parameter.</summary>
    private static readonly Gen<string> Key = Gen.OneOf(
        Gen.Select(Of(Names), Of(Indexes)).Select((n, i) => $"{n}.{i}"),
        Gen.Select(Of(Names), Of(Indexes), Of(Fields)).Select((n, i, f) => $"{n}.{i}.{f}"),
        Gen.Select(Of(Names), Of(Indexes)).Select((n, i) => $"{n}.{i}."),
        Of("KnownNic", "KnownNic.", "RegionId", "KnownNic..Digest", "Tag..", "AfterRevision"));

    private static readonly Gen<Dictionary<string, string>> Parameters =
        Gen.Select(Key, Of("", "i-abc", "0123456789abcdef0123456789abcdef", "v")).Array[0, 30]
            .Select(pairs => pairs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal));

    private static string Outcome<T>(Func<T> read, Func<T, string> shown)
    {
        try
        {
            return shown(read());
        }
        catch (EcsException e)
        {
            return $"refused {e.Error.Code}: {e.Error.Message}";
        }
    }

    /// <summary>
    /// Each item's fields in name order (the order an item enumerates them in is not part of what it is), its
    /// count, and what a lookup of each declared field finds.
    /// </summary>
    private static string Shown(IReadOnlyList<(int Index, IReadOnlyDictionary<string, string> Fields)> objects) =>
        string.Join(" ; ", objects.Select(o => $"{o.Index} ({o.Fields.Count}): "
            + string.Join(", ", o.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"))
            + " | " + string.Join(", ", Declared.Names.Select(n => o.Fields.TryGetValue(n, out var v) ? $"{n}={v}" : $"{n} absent"))));

    [Fact]
    public void ObjectsAndLists_ReadWhereTheyLie_AreTheCutReadersItemsOrRefusals()
    {
        Gen.Select(Parameters, Of(Names), Gen.OneOf(Gen.Const(3), Gen.Const(9999))).Sample((parameters, name, max) =>
        {
            var p = new ParameterReader(parameters);
            Assert.Equal(Outcome(() => p.ObjectsEach(name, max), Shown), Outcome(() => p.Objects(name, Declared, max), Shown));
            Assert.Equal(Outcome(() => p.ListEach(name, max), l => string.Join(",", l)), Outcome(() => p.List(name, max), l => string.Join(",", l)));
        }, iter: 3000, threads: 1);
    }

    /// <summary>A poll's held digests, as agents send them, read to the same objects both ways (a case the generator may miss).</summary>
    [Fact]
    public void AHostsHeldDigests_AreReadAsTheCutReaderReadsThem()
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { ["RegionId"] = "cn-hangzhou", ["PerNic"] = "true" };
        foreach (var n in new[] { 3, 1, 10, 2 })
        {
            parameters[$"KnownNic.{n}.InstanceId"] = $"i-{n}";
            parameters[$"KnownNic.{n}.Digest"] = new string('a', 32);
        }
        var p = new ParameterReader(parameters);
        var objects = p.Objects("KnownNic", Declared, 1000);
        Assert.Equal([1, 2, 3, 10], objects.Select(o => o.Index));
        Assert.Equal(Shown(p.ObjectsEach("KnownNic", 1000)), Shown(objects));
    }

    /// <summary>
    /// A field its reader did not declare is kept as sent, but looking it up is a fault of the reader's
    /// (its declaration must name it): in a Debug build, every test's, it throws.
    /// </summary>
    [Fact]
    public void LookingUpAFieldTheReaderDidNotDeclare_ThrowsInTests()
    {
        var p = new ParameterReader(new Dictionary<string, string>(StringComparer.Ordinal) { ["Tag.1.Key"] = "k", ["Tag.1.Other"] = "o" });
        var fields = Assert.Single(p.Objects("Tag", ParameterReader.TagFields, 20)).Fields;
        Assert.Equal(("k", false), (fields["Key"], fields.ContainsKey("Value")));
        Assert.Equal(["Key", "Other"], fields.Keys);
        var thrown = Assert.Throws<InvalidOperationException>(() => fields.GetValueOrDefault("Other"));
        Assert.Equal("Tag.N.Other is read but not among the fields its reader declares (Key, Value).", thrown.Message);
    }

    /// <summary>The key of an answer's shared state made at its length is the joined lists' (its slow twin).</summary>
    [Fact]
    public void TheSharedStatesKey_IsTheListsJoined()
    {
        var digest = Gen.String[Gen.Char['0', 'f'], 0, 6];
        Gen.Select(digest.Array[0, 5], digest.Array[0, 5]).Sample((changed, held) =>
        {
            var distinct = changed.Distinct(StringComparer.Ordinal).ToList();
            Assert.Equal(DescribeHostPolicy.StateKeyJoined(distinct, held),
                DescribeHostPolicy.StateKey(distinct, [.. held.Select(h => (h, (IReadOnlyDictionary<(char Kind, string Id), byte[]>?)null))]));
        }, iter: 500, threads: 1);
    }

    /// <summary>An instance's part key made at its length is its groups' IDs sorted and joined by a query (its slow twin), for any groups (twenty-third session).</summary>
    [Fact]
    public void AnInstancesPartKey_IsItsGroupsSortedAndJoined()
    {
        var group = Gen.String[Gen.Char['a', 'f'], 1, 4].Select(s => Palisade.Domain.Identifiers.SecurityGroupId.Parse("sg-" + s + "0000000"));
        var instance = Palisade.Domain.Identifiers.InstanceId.Parse("i-0000000001");
        group.Array[0, 6].Sample(groups =>
        {
            var distinct = groups.Distinct().ToArray();
            Assert.Equal(AccountViews.View.PartKeySlow(instance, distinct), AccountViews.View.PartKeyOf(instance, distinct));
        }, iter: 500, threads: 1);
    }
}
