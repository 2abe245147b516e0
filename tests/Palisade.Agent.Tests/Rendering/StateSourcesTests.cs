using Palisade.Agent.Rendering;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>What lets the agent skip rendering: two state texts the same but for their prefix lists.</summary>
public sealed class StateSourcesTests
{
    private const string Before = """{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [{"PrefixListId": "pl-a", "Entries": {"Entry": [{"Cidr": "198.18.0.0/16"}]}}], "Instances": []}""";

    [Theory]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [{"PrefixListId": "pl-a", "Entries": {"Entry": []}}], "Instances": []}""", true)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [], "Instances": []}""", true)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 3]}], "PrefixLists": [{"PrefixListId": "pl-a", "Entries": {"Entry": [{"Cidr": "198.18.0.0/16"}]}}], "Instances": []}""", false)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [], "Instances": [], "PortRangeLists": []}""", false)]
    [InlineData("""{"RegionId": "r", "PrefixLists": [], "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "Instances": []}""", false)]
    [InlineData("""{"RegionId": "r", "SecurityGroups": [{"SecurityGroupId": "sg-a", "Rules": [1, 2]}], "PrefixLists": [], "Instances": [""", false)]
    [InlineData("""[1, 2]""", false)]
    public void OnlyThePrefixListsMayDiffer(string after, bool same) =>
        Assert.Equal(same, StateSources.SameButPrefixLists(Before, after));

    /// <summary>Formatting is not content, but telling it apart would cost a parse: a reformatted text renders whole (safe, only slower).</summary>
    [Fact]
    public void AReformattedText_IsNotTheSame() =>
        Assert.False(StateSources.SameButPrefixLists(Before, Before.Replace("[1, 2]", "[1,2]", StringComparison.Ordinal)));
}
