namespace Palisade.Analysis.Audit.Checks;

/// <summary>The rule's protocol, port range (as ECS writes it) and peer (as the rule names it).</summary>
public sealed record InternalAllPortsEvidence(IpProtocol Protocol, string PortRange, string Peer) : Evidence;

/// <summary>An internal ingress accept (from a group, a private block, or the classic intranet) on every port or protocol: judged on the rule as written.</summary>
internal static class InternalAllPorts
{
    public static readonly CheckInfo Info = new("internal-all-ports", Severity.Medium,
        "An internal accept rule opens all ports or all protocols",
        "Internal traffic should be opened port by port for the services that need it. Replace the rule with rules for the ports the peers use.",
        [typeof(InternalAllPortsEvidence)]);

    public static void Run(AuditRun run)
    {
        foreach (var group in run.State.Groups)
        {
            foreach (var rule in group.Rules.Where(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept))
            {
                // Internal: from a group, a private block, or (classic network) on the intranet NIC.
                var intranetClassic = group.IsClassic && rule.NicType == NicType.Intranet;
                var internalPeer = rule.Peer switch
                {
                    RulePeer.Group => true,
                    RulePeer.CidrBlock { Cidr: var c } => AuditBlocks.IsPrivate(c) || intranetClassic,
                    _ => false,
                };
                var allPorts = rule.Protocol == IpProtocol.All || (rule.Protocol.HasPorts() && rule.PortRangeListId is null && rule.Ports.Low <= 1 && rule.Ports.High >= Domain.Networking.PortRange.MaxPort);
                if (internalPeer && allPorts)
                {
                    run.Add(Info, group.Id, rule.Id, null,
                        $"Rule {rule.Id} of {group.Id} accepts {(rule.Protocol == IpProtocol.All ? "every protocol" : $"every {rule.Protocol.ToWire()} port")} from {rule.Peer}. Open only the ports the peers use.",
                        new InternalAllPortsEvidence(rule.Protocol, rule.Ports.ToString(), rule.Peer.ToString()));
                }
            }
        }
    }
}
