using Palisade.Analysis.Internet;

namespace Palisade.Analysis.Audit.Checks;

/// <summary>The packet that proves a sensitive port is reachable from the internet, and the NIC and priority that accept it.</summary>
public sealed record RiskyPortExposure(IpProtocol Protocol, int Port, IpAddress SourceIp, int SourcePort, IpAddress DestinationIp, NicType NicType, int? Priority) : Evidence;

/// <summary>
/// A sensitive port (<see cref="RiskyPorts"/>) reachable from the internet now: decided by the engine
/// over all groups of each NIC at the address internet packets arrive at, so drops, priorities, UDP
/// and IPv6 count as they do for packets (docs/audit.md).
/// </summary>
internal static class RiskyPortExposed
{
    public static readonly CheckInfo Info = new("risky-port-exposed", Severity.High,
        "A sensitive port is reachable from the internet",
        "After all groups of the instance, their priorities and drop rules, a packet from an internet address reaches a port of a service that should never face the internet (SSH, RDP, databases, caches, brokers, file sharing). Allow it only from known addresses or a group, or put a drop rule at a lower priority number in front of it.",
        [typeof(RiskyPortExposure)]);

    internal sealed record Exposure(int Port, string Service, IpProtocol Protocol, InternetExposure.Witness Witness);

    /// <summary>For each sensitive port, the first protocol (TCP, then UDP) with an internet packet the policy accepts at <paramref name="destination"/>.</summary>
    internal static List<Exposure> Exposures(NetworkState state, NicPolicy policy, IpAddress destination)
    {
        var exposed = new List<Exposure>();
        var sources = InternetExposure.CandidateSources(state, policy, destination.IsV6);
        var sourcePorts = InternetExposure.CandidateSourcePorts(policy);
        foreach (var (port, service) in RiskyPorts.All)
        {
            foreach (var protocol in new[] { IpProtocol.Tcp, IpProtocol.Udp })
            {
                if (InternetExposure.Find(policy, sources, sourcePorts, destination, protocol, port) is not { } witness)
                    continue;
                exposed.Add(new Exposure(port, service, protocol, witness));
                break;
            }
        }
        return exposed;
    }

    /// <summary>
    /// The ENIs (by <see cref="Domain.Instances.Instance.InterfaceLabel"/>) and ports found exposed, for
    /// <see cref="RiskyPortOpen"/> (which reports the rest). Each ENI is judged on its own: through its
    /// own public address or EIP, by its own groups; a finding on a secondary ENI names it.
    /// </summary>
    public static HashSet<(string, int)> Run(AuditRun run)
    {
        var (state, policies) = (run.State, run.Policies);
        var found = new HashSet<(string, int)>();
        // Per NIC key and family: for each sensitive port, the first protocol with a witness.
        var exposures = run.InternetExposures;
        var done = 0;
        foreach (var owner in state.Instances)
        {
            run.Progress?.Report(new WorkProgress("internet exposure", done++, state.Instances.Length));
            foreach (var instance in owner.Interfaces.Where(i => i.SecurityGroupIds.Length > 0))
            foreach (var v6 in new[] { false, true })
            {
                var (nic, destination) = InternetExposure.Entry(instance, v6);
                if (destination is not { } dst)
                    continue;
                var policy = policies.Of(instance, nic);
                var key = (policies.Key(instance, nic, [dst]), v6);
                if (!exposures.TryGetValue(key, out var exposed))
                    exposures.Add(key, exposed = Exposures(state, policy, dst));
                foreach (var (port, service, protocol, witness) in exposed)
                {
                    if (!found.Add((instance.InterfaceLabel, port)))
                        continue;
                    var rule = witness.Decision.DecidingRule;
                    run.Add(Info, rule?.GroupId, rule?.Rule.Id, instance.Id,
                        $"{service} ({protocol.ToWire()} {port}) on {instance.InterfaceLabel} is reachable from the internet: a packet from " +
                        $"{witness.Flow.Source} is accepted by rule {rule?.Rule.Id} of {rule?.GroupId} (priority {rule?.Rule.Priority}). " +
                        "Allow it only from known addresses or a group, or drop it at a lower priority number.",
                        new RiskyPortExposure(protocol, port, witness.Flow.Source, witness.Flow.SourcePort, dst, nic, rule?.Rule.Priority.Value));
                }
            }
        }
        return found;
    }
}
