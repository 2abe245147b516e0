using Palisade.Agent.Kernel;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Tests.Kernel;

public sealed class ConntrackLineTests
{
    [Theory]
    [InlineData("tcp      6 431999 ESTABLISHED src=198.18.1.11 dst=198.18.1.21 sport=41234 dport=6379 src=198.18.1.21 dst=198.18.1.11 sport=6379 dport=41234 [ASSURED] mark=0 use=1",
        "TCP 198.18.1.11:41234 -> 198.18.1.21:6379")]
    [InlineData("udp      17 27 src=198.18.1.11 dst=198.18.1.12 sport=5000 dport=53 [UNREPLIED] src=198.18.1.12 dst=198.18.1.11 sport=53 dport=5000 mark=0 use=1",
        "UDP 198.18.1.11:5000 -> 198.18.1.12:53")]
    [InlineData("icmp     1 29 src=198.18.1.11 dst=198.18.1.31 type=8 code=0 id=77 src=198.18.1.31 dst=198.18.1.11 type=0 code=0 id=77 mark=0 use=1",
        "ICMP 198.18.1.11 -> 198.18.1.31")]
    public void Parse_ReadsTheOriginalDirection(string line, string flow) =>
        Assert.Equal(flow, ConntrackLine.Parse(line)!.Value.ToString());

    [Theory]
    [InlineData("")]
    [InlineData("conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.")]
    [InlineData("sctp 132 10 src=1.1.1.1 dst=2.2.2.2")]
    [InlineData("tcp 6 10 ESTABLISHED src=not-an-address dst=2.2.2.2")]
    public void Parse_SkipsWhatIsNotAConnectionWeJudge(string line) => Assert.Null(ConntrackLine.Parse(line));

    [Fact]
    public void ProtocolName_IsConntracks() => Assert.Equal("icmpv6", ConntrackLine.ProtocolName(IpProtocol.IcmpV6));
}
