using Palisade.Analysis.Internet;

namespace Palisade.Analysis.Audit.Checks;

/// <summary>The internet packet the rules would accept at the instance's private address, and the priority of the rule that accepts it.</summary>
public sealed record RiskyPortOpenEvidence(IpProtocol Protocol, int Port, IpAddress SourceIp, int SourcePort, IpAddress DestinationIp, int? Priority) : Evidence;

/// <summary>
/// Latent exposure (issue 20): a sensitive port that the rules open to the internet on an instance that
/// has no way in from the internet today — a VPC instance without a public or elastic IPv4 address (over
/// IPv4), or without a global IPv6 address (over IPv6). It is one EIP, NAT rule or load balancer away from
/// <see cref="RiskyPortExposed"/>, and in a VPC the same rule admits every private peer. Decided as
/// exposure is — the engine over all groups of the NIC, the internet's addresses summed up to the same
/// threshold — with the private address standing in for the public one, so a drop that closes the port
/// means no finding. Ports already reported as exposed on the instance are not repeated.
/// </summary>
internal static class RiskyPortOpen
{
    public static readonly CheckInfo Info = new("risky-port-open", Severity.Medium,
        "A sensitive port is open to the internet in the rules, but not reachable yet",
        "The rules accept a sensitive port from the whole internet, but the instance has no public address today. One elastic IP, NAT rule or load balancer makes it reachable, and inside the VPC the rule already admits every private peer. Allow the port only from known addresses or a group.",
        [typeof(RiskyPortOpenEvidence)]);

    /// <summary>Runs after <see cref="RiskyPortExposed"/>: the ports it reported on an ENI (<see cref="AuditRun.Exposed"/>) are not repeated.</summary>
    public static void Run(AuditRun run)
    {
        // Each ENI on its own: its own addresses, its own groups.
        foreach (var instance in run.State.Instances.Where(i => i.NetworkType == NetworkType.Vpc).SelectMany(i => i.Interfaces).Where(i => i.SecurityGroupIds.Length > 0))
        {
            var reported = new HashSet<int>();
            foreach (var v6 in new[] { false, true })
            {
                // Only a family the internet cannot enter today; the address a public one would be translated to (or the first of the family).
                if (InternetExposure.Entry(instance, v6).Destination is not null
                    || instance.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6) is not { } dst)
                    continue;
                // Shared with risky-port-exposed: the same policy and local classes accept the same internet packets.
                var open = RiskyPortExposed.ExposuresOf(run, instance, NicType.Intranet, dst);
                foreach (var latent in open.Where(e => !run.Exposed.Contains((instance.InterfaceLabel, e.Port)) && reported.Add(e.Port)))
                {
                    var rule = latent.Rule;
                    run.Add(Info, rule?.GroupId, rule?.Rule.Id, instance.Id,
                        $"{latent.Service} ({latent.Protocol.ToWire()} {latent.Port}) on {instance.InterfaceLabel} is open to the internet in its rules: a packet from {latent.Witness.Flow.Source} " +
                        $"to its private address {dst} is accepted by rule {rule?.Rule.Id} of {rule?.GroupId} (priority {rule?.Rule.Priority}). " +
                        "It has no public address today; one EIP, NAT rule or load balancer exposes it, and every private peer is admitted now. Allow it only from known addresses or a group.",
                        new RiskyPortOpenEvidence(latent.Protocol, latent.Port, latent.Witness.Flow.Source, latent.Witness.Flow.SourcePort, dst, rule?.Rule.Priority.Value));
                }
            }
        }
    }
}
