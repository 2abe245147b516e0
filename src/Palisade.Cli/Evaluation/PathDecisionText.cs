using System.Text;
using Palisade.Analysis.Flows;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;

namespace Palisade.Cli.Evaluation;

/// <summary>
/// A flow's decision in words: the verdict, then each NIC's decision with the rule or policy that
/// decided it and every matching rule it beat. Golden-tested through docs/semantics.md.
/// </summary>
public static class PathDecisionText
{
    public static string Render(PathDecision path, FlowEndpoint source, FlowEndpoint destination, NicType nicType)
    {
        var flow = path.Flow;
        var sb = new StringBuilder();
        sb.Append(flow.Protocol.HasPorts()
            ? $"{flow.Protocol.ToWire()} {WithPort(flow.Source, flow.SourcePort)} -> {WithPort(flow.Destination, flow.DestinationPort)}"
            : $"{flow.Protocol.ToWire()} {flow.Source} -> {flow.Destination}");
        if (nicType == NicType.Internet)
            sb.Append(" on internet NICs");
        foreach (var end in new[] { source, destination })
        {
            if (end is { PublicAddress: { } published, Instance: { } instance })
                sb.Append($" ({published} is the public address of {instance.Id}, translated to {end.Address})");
        }
        sb.Append('\n');
        sb.Append(path.Allowed ? "allowed\n" : "denied\n");
        AppendNic(sb, "egress", source, path.Egress, Direction.Egress);
        AppendNic(sb, "ingress", destination, path.Ingress, Direction.Ingress);
        return sb.ToString();
    }

    // RFC 5952 §6: an IPv6 address with a port is written in brackets.
    private static string WithPort(IpAddress address, int port) => address.IsV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    private static void AppendNic(StringBuilder sb, string label, FlowEndpoint endpoint, Decision? decision, Direction direction)
    {
        if (decision is not { } d || endpoint.Instance is null)
        {
            sb.Append($"  {label}: not checked, {endpoint.Address} is not an instance in the state\n");
            return;
        }
        // The ENI that owns the address decides; a secondary one is named beside its instance.
        sb.Append($"  {label} at {endpoint.Nic!.InterfaceLabel}: {DecisionText.Explain(d, direction)}\n");
        foreach (var beaten in d.Beaten)
            sb.Append($"    beat {DecisionText.Describe(beaten)}\n");
    }
}
