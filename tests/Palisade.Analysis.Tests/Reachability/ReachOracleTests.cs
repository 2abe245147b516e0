using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>
/// The independent oracle of the issue, by brute force: on random small states, the port spans
/// reachability reports between instances are exactly the ports for which every single flow,
/// decided one by one, is allowed between some address of the source and some address of the target —
/// all 65,535 ports of TCP and UDP, and each other protocol; over IPv4 and over IPv6.
/// </summary>
public sealed class ReachOracleTests
{
    [Fact]
    public void ReachAgreesWithEnumeratingEveryPort()
    {
        SmallUniverse.State.Sample(state =>
        {
            var evaluator = new FlowEvaluator(state);
            foreach (var (target, v6) in state.Instances.SelectMany(t => new[] { (t, false), (t, true) }))
            {
                var reached = Reach.To(state, target, v6).Where(r => !r.IsInternet).ToDictionary(r => r.Instance!.Id);
                // Every address of every ENI; the evaluator (checked against the reference) judges each by its own ENI.
                var destinations = ReferenceEvaluator.Enis(target).SelectMany(e => e.PrivateAddresses).Where(a => a.IsV6 == v6).ToArray();
                foreach (var source in state.Instances.Where(i => i.Id != target.Id && i.VpcId == target.VpcId))
                {
                    var sources = ReferenceEvaluator.Enis(source).SelectMany(e => e.PrivateAddresses).Where(a => a.IsV6 == v6).ToArray();
                    bool Allowed(IpProtocol protocol, int port) =>
                        sources.Any(src => destinations.Any(dst => evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed));
                    if (sources.Length == 0 || destinations.Length == 0)
                        continue;
                    reached.TryGetValue(source.Id, out var reacher);
                    foreach (var protocol in new[] { IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All })
                    {
                        var access = reacher?.Accesses.FirstOrDefault(a => a.Protocol == protocol);
                        if (!protocol.HasPorts())
                        {
                            Assert.Equal(Allowed(protocol, 0), access is not null);
                            continue;
                        }
                        for (var port = PortRange.MinPort; port <= PortRange.MaxPort; port++)
                        {
                            var expected = Allowed(protocol, port);
                            var reported = access?.Ports.Any(p => p.Contains(port)) ?? false;
                            if (expected != reported)
                                throw new Xunit.Sdk.XunitException($"{source.Id} -> {target.Id} {protocol.ToWire()} {port}: flow says {expected}, reach says {reported}\n{SmallUniverse.Describe(state)}");
                        }
                    }
                }
            }
        }, iter: 20, threads: 1);
    }
}
