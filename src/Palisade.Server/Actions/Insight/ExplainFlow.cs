using Palisade.Analysis.Flows;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// Palisade extension: one flow, one decision and why — <c>palisade eval</c> on the live control
/// plane, for the console's "explain this flow". <c>Source</c> and <c>Destination</c> are instance
/// IDs of the region or IP addresses; the answer has each NIC's verdict, the rule (or inner-access
/// policy, or default) that decided and the matching rules it beat, and names the ENI whose groups
/// decided (<c>NetworkInterfaceId</c>: the one that owns the address, as <c>palisade eval</c> names it).
/// </summary>
internal sealed class ExplainFlow : ReadAction, IAnalysisAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var source = p.Required("Source");
        var destination = p.Required("Destination");
        var protocol = p.Protocol("IpProtocol") ?? throw new EcsException(EcsErrors.Missing("IpProtocol"));
        NicType? requested = null;
        if (p.Optional("NicType") is { } nicText)
            requested = NicTypes.TryParse(nicText, out var asked) ? asked : throw new EcsException(EcsErrors.NicTypeNotSupported(nicText));
        var destinationPort = 0;
        var sourcePort = 0;
        if (protocol.HasPorts())
        {
            destinationPort = p.Int("DestinationPort", 0, PortRange.MinPort, PortRange.MaxPort);
            if (destinationPort == 0)
                throw new EcsException(EcsErrors.Missing("DestinationPort"));
            sourcePort = p.Int("SourcePort", Flow.DefaultSourcePort, PortRange.MinPort, PortRange.MaxPort);
        }
        else if (p.Has("DestinationPort") || p.Has("SourcePort"))
        {
            var name = p.Has("DestinationPort") ? "DestinationPort" : "SourcePort";
            throw new EcsException(EcsErrors.ParameterInvalid(name, $"ports apply only to TCP and UDP, not {protocol.ToWire()}."));
        }

        var state = c.Read(s => StoredState.Load(s, c.AccountId, region.RegionId));
        FlowEndpoint src, dst;
        NicType nicType;
        try
        {
            (src, dst, nicType) = FlowEndpoint.Resolve(state, source, destination, requested, new EndpointWording("Source", "Destination", $"in region {region.RegionId}"));
        }
        catch (FlowEndpointException e)
        {
            throw new EcsException(e.MissingInstance is { } missing
                ? EcsErrors.InstanceNotFound(missing)
                : EcsErrors.ParameterInvalid(e.Message.StartsWith("Source", StringComparison.Ordinal) ? "Source" : "Destination", e.Message + "."));
        }
        if (src.Instance is null && dst.Instance is null)
            throw new EcsException(EcsErrors.ParameterInvalid("Source", "neither Source nor Destination is an instance of the region: there is no security group to ask."));

        var flow = new Flow(src.Address, dst.Address, protocol, destinationPort, sourcePort);
        var path = new FlowEvaluator(state).Evaluate(flow, src.Instance, dst.Instance, nicType);
        return new EcsObject
        {
            { "RegionId", region.RegionId },
            { "Allowed", path.Allowed },
            { "IpProtocol", protocol.ToWire() },
            { "SourceAddress", src.Address.ToString() },
            { "DestinationAddress", dst.Address.ToString() },
            { "DestinationPort", destinationPort },
            { "SourcePort", sourcePort },
            { "NicType", nicType.ToWire() },
            { "Egress", Nic(src, path.Egress, Direction.Egress) },
            { "Ingress", Nic(dst, path.Ingress, Direction.Ingress) },
        };
    }

    private static EcsObject Nic(FlowEndpoint end, Decision? decision, Direction direction)
    {
        if (decision is not { } d || end.Instance is null)
        {
            return new EcsObject
            {
                { "Checked", false },
                { "InstanceId", "" },
                { "NetworkInterfaceId", "" },
                { "Explanation", $"not checked: {end.Address} is not an instance of the region" },
            };
        }
        return new EcsObject
        {
            { "Checked", true },
            { "InstanceId", end.Instance.Id.Value },
            // The ENI that owns the flow's address decided (FlowEndpoint.Nic, which eval names too);
            // a classic instance's NIC is no ENI, so it names none.
            { "NetworkInterfaceId", end.Nic!.NetworkInterfaceId?.Value ?? "" },
            { "Verdict", d.Verdict == Verdict.Accept ? "accept" : "drop" },
            { "Reason", d.Reason switch { DecisionReason.Rule => "rule", DecisionReason.InnerAccess => "inner-access", _ => "default" } },
            { "Explanation", DecisionText.Explain(d, direction) },
            { "DecidedBy", d.DecidingRule is { } rule ? Rule(rule) : new EcsObject
                {
                    { "SecurityGroupId", d.InnerAccessGroup?.Value ?? "" },
                    { "SecurityGroupRuleId", "" },
                    { "Policy", d.Reason == DecisionReason.InnerAccess ? d.Verdict.ToLower() : "" },
                    { "Description", "" },
                } },
            { "Beaten", EcsList.Of("Rule", d.Beaten.Select(Rule)) },
        };
    }

    private static EcsObject Rule(RuleRef rule) => new()
    {
        { "SecurityGroupId", rule.GroupId.Value },
        { "SecurityGroupRuleId", rule.Rule.Id.Value },
        { "Priority", rule.Rule.Priority.Value },
        { "Policy", rule.Rule.Policy.ToLower() },
        { "Description", DecisionText.Describe(rule) },
    };
}
