using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Tests.Identifiers;

public sealed class ResourceIdTests
{
    [Theory]
    [InlineData("sg-bp1fg655nh68xyz9****", false)]
    [InlineData("sg-bp1fg655nh68xyz9abcd", true)]
    [InlineData("sg-a", true)]
    [InlineData("sg-", false)]
    [InlineData("sg_a", false)]
    [InlineData("SG-a", false)]
    [InlineData("sg-a b", false)]
    [InlineData("sg-a\n", false)]
    [InlineData("sg-é", false)]
    [InlineData(null, false)]
    public void SecurityGroupIds_HaveThePrefixThenLettersDigitsUnderscores(string? text, bool valid) =>
        Assert.Equal(valid, SecurityGroupId.TryParse(text, out _));

    [Fact]
    public void AtMost100Characters()
    {
        Assert.True(InstanceId.TryParse("i-" + new string('a', 98), out _));
        Assert.False(InstanceId.TryParse("i-" + new string('a', 99), out _));
    }

    [Fact]
    public void EachKind_HasItsOwnPrefix()
    {
        Assert.True(SecurityGroupRuleId.TryParse("sgr-x1", out _));
        Assert.True(VpcId.TryParse("vpc-x1", out _));
        Assert.True(VSwitchId.TryParse("vsw-x1", out _));
        Assert.True(PrefixListId.TryParse("pl-x1", out _));
        Assert.True(PortRangeListId.TryParse("prl-x1", out _));
        Assert.False(SecurityGroupId.TryParse("sgr-x1", out _));
        Assert.False(VpcId.TryParse("vsw-x1", out _));
    }

    [Fact]
    public void NewIds_AreValidAndDistinct()
    {
        var random = new Random(7);
        var ids = Enumerable.Range(0, 1000).Select(_ => ResourceIdSyntax.NewId(SecurityGroupId.Prefix, "bp", random)).ToList();
        Assert.All(ids, id => Assert.True(SecurityGroupId.TryParse(id, out _)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
