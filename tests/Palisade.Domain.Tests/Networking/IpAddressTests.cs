using System.Net;
using CsCheck;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Tests.Networking;

public sealed class IpAddressTests
{
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("2001:DB8::1", "2001:db8::1")]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("::", "::")]
    public void Valid_IsReadAndWrittenCanonically(string text, string canonical) =>
        Assert.Equal(canonical, IpAddress.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0")]
    [InlineData("10.0.0.0.1")]
    [InlineData("10.0.0.256")]
    [InlineData("010.0.0.1")]
    [InlineData("10.0.0.-1")]
    [InlineData("10.0.0.1 ")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("10..0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("2001:db8:::1")]
    [InlineData("10.0.0.1/32")]
    public void Invalid_IsRejected(string text) =>
        Assert.False(IpAddress.TryParse(text, out _));

    /// <summary>The hand-written IPv4 reader agrees with a strict reading built on System.Net.</summary>
    [Fact]
    public void DottedQuads_AgreeWithStrictSystemNetReading()
    {
        var part = Gen.OneOf(Gen.Int[0, 300].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Gen.Const("00"), Gen.Const("01"), Gen.Const(""), Gen.Const("a"));
        part.Array[3, 5].Select(parts => string.Join('.', parts)).Sample(text =>
        {
            var parts = text.Split('.');
            var strict = parts.Length == 4
                && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255)
                && IPAddress.TryParse(text, out _);
            Assert.Equal(strict, IpAddress.TryParse(text, out var parsed));
            if (strict)
                Assert.Equal(text, parsed.ToString());
        }, iter: 5_000);
    }

    [Fact]
    public void Ipv6_RoundTripsThroughSystemNet()
    {
        Gen.UInt128.Where(v => v >> 32 != 0xFFFF).Sample(value =>
        {
            var address = new IpAddress(true, value);
            Assert.True(IpAddress.TryParse(address.ToString(), out var back));
            Assert.Equal(address, back);
            Assert.Equal(IPAddress.Parse(address.ToString()).ToString(), address.ToString());
        }, iter: 2_000);
    }
}
