using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>
/// What one direction of a NIC accepts per (peer class, local class), painted from the rules, against
/// the engine deciding one packet per protocol and port interval — on every NIC of random states, both
/// directions, both families, the intranet and (classic) the internet NIC.
/// </summary>
public sealed class DirectionClassesTests
{
    [Fact]
    public void PaintingTheRules_DecidesAsTheEngine()
    {
        SmallUniverse.State.Sample(state =>
        {
            foreach (var instance in state.Instances)
            {
                foreach (var nic in instance.NetworkType == NetworkType.Classic ? new[] { NicType.Intranet, NicType.Internet } : [NicType.Intranet])
                {
                    var policy = PolicyRules.Of(state, instance, nic);
                    foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                    {
                        foreach (var v6 in new[] { false, true })
                        {
                            var table = new DirectionClasses(state, policy, direction, v6, new AccessInterner());
                            for (var peer = 0; peer < table.PeerClassCount; peer++)
                            {
                                for (var local = 0; local < table.LocalClassCount; local++)
                                    Assert.Equal(table.Decided(peer, local), table.Interner[table.Half(peer, local)]);
                            }
                        }
                    }
                }
            }
        }, iter: 300, threads: 1, print: SmallUniverse.Describe);
    }
}
