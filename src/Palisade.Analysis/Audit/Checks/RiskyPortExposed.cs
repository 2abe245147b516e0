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

    internal sealed record Exposure(int Port, string Service, IpProtocol Protocol, InternetExposure.Witness Witness)
    {
        /// <summary>The rule that accepts the witness packet.</summary>
        public RuleRef? Rule => Witness.Decision.DecidingRule;
    }

    /// <summary>
    /// <see cref="Exposures"/> of <paramref name="instance"/>'s policy on <paramref name="nic"/> at <paramref name="destination"/>,
    /// computed once per NIC key and family for the whole audit (<see cref="AuditRun.InternetExposures"/>).
    /// </summary>
    internal static List<Exposure> ExposuresOf(AuditRun run, Instance instance, NicType nic, IpAddress destination)
    {
        var key = (run.Policies.Key(instance, nic, [destination]), destination.IsV6);
        if (!run.InternetExposures.TryGetValue(key, out var exposed))
            run.InternetExposures.Add(key, exposed = Exposures(run.State, run.Policies.Of(instance, nic), destination));
        return exposed;
    }

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
    /// Reports the sensitive ports each ENI exposes, and keeps them in <see cref="AuditRun.Exposed"/> for
    /// <see cref="RiskyPortOpen"/> (which reports the rest). Each ENI is judged on its own: through its
    /// own public address or EIP, by its own groups; a finding on a secondary ENI names it.
    /// </summary>
    public static void Run(AuditRun run)
    {
        var state = run.State;
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
                foreach (var exposure in ExposuresOf(run, instance, nic, dst).Where(e => run.Exposed.Add((instance.InterfaceLabel, e.Port))))
                {
                    var (port, service, protocol, witness) = exposure;
                    run.Add(Info, exposure.Rule?.GroupId, exposure.Rule?.Rule.Id, instance.Id,
                        $"{service} ({protocol.ToWire()} {port}) on {instance.InterfaceLabel} is reachable from the internet: a packet from " +
                        $"{witness.Flow.Source} is accepted by rule {exposure.Rule?.Rule.Id} of {exposure.Rule?.GroupId} (priority {exposure.Rule?.Rule.Priority}). " +
                        "Allow it only from known addresses or a group, or drop it at a lower priority number.",
                        new RiskyPortExposure(protocol, port, witness.Flow.Source, witness.Flow.SourcePort, dst, nic, exposure.Rule?.Rule.Priority.Value));
                }
            }
        }
    }
}
