using CsCheck;
using Palisade.Domain.Errors;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Tests.Networking;

public sealed class PortRangeTests
{
    [Theory]
    [InlineData(IpProtocol.Tcp, "22/22", 22, 22)]
    [InlineData(IpProtocol.Tcp, "1/65535", 1, 65535)]
    [InlineData(IpProtocol.Udp, "1/200", 1, 200)]
    [InlineData(IpProtocol.Udp, "53/53", 53, 53)]
    public void TcpAndUdp_TakeOneTo65535_StartNotAfterEnd(IpProtocol protocol, string text, int from, int to)
    {
        var range = PortRange.ParseFor(protocol, text).Value;
        Assert.Equal((from, to), (range.From, range.To));
        Assert.Equal(text, range.ToString());
    }

    [Theory]
    [InlineData(IpProtocol.Icmp)]
    [InlineData(IpProtocol.IcmpV6)]
    [InlineData(IpProtocol.Gre)]
    [InlineData(IpProtocol.All)]
    public void OtherProtocols_TakeOnlyMinusOne(IpProtocol protocol)
    {
        var range = PortRange.ParseFor(protocol, "-1/-1").Value;
        Assert.True(range.IsAny);
        Assert.True(range.Contains(0) && range.Contains(65535));
        Assert.Equal(EcsErrorCodes.OperationDenied, PortRange.ParseFor(protocol, "22/22").Error!.Code);
        Assert.Equal(EcsErrorCodes.OperationDenied, PortRange.ParseFor(protocol, "1/65535").Error!.Code);
    }

    [Theory]
    [InlineData(IpProtocol.Tcp, null, EcsErrorCodes.InvalidPortRangeMalformed)]
    [InlineData(IpProtocol.Tcp, "", EcsErrorCodes.InvalidPortRangeMalformed)]
    [InlineData(IpProtocol.Tcp, "200/1", EcsErrorCodes.InvalidIpProtocolMalformed)]
    [InlineData(IpProtocol.Tcp, "0/0", EcsErrorCodes.InvalidIpProtocolMalformed)]
    [InlineData(IpProtocol.Tcp, "0/80", EcsErrorCodes.InvalidIpProtocolMalformed)]
    [InlineData(IpProtocol.Udp, "65536/65536", EcsErrorCodes.InvalidIpProtocolMalformed)]
    [InlineData(IpProtocol.Udp, "1/65536", EcsErrorCodes.InvalidIpProtocolMalformed)]
    [InlineData(IpProtocol.Tcp, "-1/80", EcsErrorCodes.InvalidIpProtocolMalformed)]
    [InlineData(IpProtocol.Tcp, "-1/-1", EcsErrorCodes.OperationDenied)]
    [InlineData(IpProtocol.Tcp, "1/", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "/1", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "80", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "80-90", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "1/2/3", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, " 1/2", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "+1/2", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "1/99999999999999", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Tcp, "٣/٣", EcsErrorCodes.InvalidParamPortRange)]
    [InlineData(IpProtocol.Icmp, "abc", EcsErrorCodes.InvalidParamPortRange)]
    public void BadRanges_GetTheEcsCode(IpProtocol protocol, string? text, string code)
    {
        var error = PortRange.ParseFor(protocol, text).Error;
        Assert.NotNull(error);
        Assert.Equal(code, error.Code);
        Assert.Equal(400, error.HttpStatus);
    }

    [Fact]
    public void SourcePortRange_IsOptional_AndBadOnesHaveTheirOwnCode()
    {
        Assert.Null(PortRange.ParseSourceFor(IpProtocol.Tcp, null).Value);
        Assert.Equal(PortRange.Create(1024, 2048), PortRange.ParseSourceFor(IpProtocol.Tcp, "1024/2048").Value);
        Assert.Equal(EcsErrorCodes.InvalidSourcePortRangeMalformed, PortRange.ParseSourceFor(IpProtocol.Tcp, "2048/1024").Error!.Code);
        Assert.Equal(EcsErrorCodes.InvalidSourcePortRangeMalformed, PortRange.ParseSourceFor(IpProtocol.Tcp, "x").Error!.Code);
    }

    [Fact]
    public void EveryValidTcpRange_RoundTripsAndContainsExactlyItsPorts()
    {
        Gen.Select(Gen.Int[1, 65535], Gen.Int[1, 65535], Gen.Int[0, 65536]).Sample((a, b, port) =>
        {
            var (from, to) = (Math.Min(a, b), Math.Max(a, b));
            var range = PortRange.ParseFor(IpProtocol.Tcp, $"{from}/{to}").Value;
            Assert.Equal($"{from}/{to}", range.ToString());
            Assert.Equal(port >= from && port <= to, range.Contains(port));
        }, iter: 2_000);
    }
}
