using CsCheck;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Tests.Networking;

public sealed class CidrTests
{
    [Theory]
    [InlineData("10.0.0.1/8", "10.0.0.0/8")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("192.168.1.77/24", "192.168.1.0/24")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("1.2.3.4/0", "0.0.0.0/0")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("192.0.2.7/32", "192.0.2.7/32")]
    [InlineData("2001:DB8::1/32", "2001:db8::/32")]
    [InlineData("::/0", "::/0")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    public void IsNormalised_AndASingleAddressEchoedAsWritten(string text, string stored) =>
        Assert.Equal(stored, Cidr.Parse(text).ToString());

    [Fact]
    public void AnAddressAndItsSlash32_AreTheSameBlock() =>
        Assert.Equal(Cidr.Parse("192.0.2.7"), Cidr.Parse("192.0.2.7/32"));

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("2001:db8::/129")]
    [InlineData("::ffff:10.0.0.0/104")]
    [InlineData("/8")]
    [InlineData("")]
    [InlineData("10.0.0.0/255.0.0.0")]
    public void BadBlocks_AreRejected(string text) =>
        Assert.False(Cidr.TryParse(text, out _));

    /// <summary>Contains and Covers agree with mask arithmetic on 32-bit integers.</summary>
    [Fact]
    public void Ipv4_ContainsAndCovers_AgreeWithMaskArithmetic()
    {
        Gen.Select(Gen.UInt, Gen.Int[0, 32], Gen.UInt, Gen.Int[0, 32]).Sample((network, length, other, otherLength) =>
        {
            var cidr = Cidr.Create(IpAddress.V4(network), length);
            var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
            Assert.Equal(network & mask, (uint)cidr.First);
            Assert.Equal((network & mask) | ~mask, (uint)cidr.Last);
            Assert.Equal((other & mask) == (network & mask), cidr.Contains(IpAddress.V4(other)));

            var inner = Cidr.Create(IpAddress.V4(other), otherLength);
            Assert.Equal(otherLength >= length && (other & mask) == (network & mask), cidr.Covers(inner));
            Assert.Equal(cidr, Cidr.Parse(cidr.ToString()));
        }, iter: 5_000);
    }

    /// <summary>Contains and Covers agree with BigInteger arithmetic on 128-bit values, including ::/0 and /128.</summary>
    [Fact]
    public void Ipv6_ContainsAndCovers_AgreeWithBigIntegerArithmetic()
    {
        var full = (System.Numerics.BigInteger.One << 128) - 1;
        Gen.Select(Gen.UInt128, Gen.Frequency((1, Gen.Const(0)), (1, Gen.Const(128)), (4, Gen.Int[0, 128])), Gen.UInt128).Sample((network, length, other) =>
        {
            var cidr = Cidr.Create(new IpAddress(true, network), length);
            var hostMask = length == 128 ? System.Numerics.BigInteger.Zero : (System.Numerics.BigInteger.One << (128 - length)) - 1;
            var first = (System.Numerics.BigInteger)network & (full ^ hostMask);
            Assert.Equal(first, (System.Numerics.BigInteger)cidr.First);
            Assert.Equal(first | hostMask, (System.Numerics.BigInteger)cidr.Last);
            Assert.Equal(((System.Numerics.BigInteger)other & (full ^ hostMask)) == first, cidr.Contains(new IpAddress(true, other)));
        }, iter: 5_000);
    }

    [Fact]
    public void TheWholeIpv6Space_ContainsEveryIpv6Address()
    {
        Assert.True(Cidr.AnyV6.Contains(IpAddress.Parse("2001:db8::1")));
        Assert.True(Cidr.Parse("::/0").Contains(IpAddress.Parse("ffff::1")));
        Assert.Equal(UInt128.MaxValue, Cidr.AnyV6.Last);
        Assert.True(Cidr.AnyV6.Covers(Cidr.Parse("2001:db8::/32")));
    }

    [Fact]
    public void Families_NeverContainEachOther()
    {
        Assert.False(Cidr.AnyV4.Contains(IpAddress.Parse("2001:db8::1")));
        Assert.False(Cidr.AnyV6.Contains(IpAddress.Parse("10.0.0.1")));
        Assert.False(Cidr.AnyV6.Covers(Cidr.AnyV4));
    }
}
