using System.Globalization;
using Palisade.Server.Hosting;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// The observed flows of one <c>ReportAgentStatus</c> (issue 20): read and judged at the edge, then
/// kept per account — each flow only for the NIC's own account, only for NICs bound to the reporting
/// host, only for minutes within the retention (a minute from the future is taken as now's).
/// A flow is credited to the NIC that saw it (issue 20): <c>NetworkInterfaceId</c> names the ENI
/// (primary or secondary) the agent found it on, by the port it is bound to; without it (a classic
/// instance's NIC, an agent from before flows were per ENI) it is the instance's primary NIC's, as
/// before. The agent names the ENI rather than the destination address for the server to resolve:
/// the agent already knows the NIC (it places each connection by conntrack zone and address, as its
/// ruleset does), and an address may have moved to another ENI between the minute and the report,
/// while the binding the server checks the ENI against is the same one the agent enforced.
/// </summary>
internal static class ObservedFlowReport
{
    public sealed record Flow(InstanceId Nic, NetworkInterfaceId? Eni, IpAddress Source, IpProtocol Protocol, int Port, DateTimeOffset Minute, long Connections);

    /// <summary>The fields of a <c>Flow.N</c> (<see cref="FlowOf"/>) and of a <c>FlowDrop.N</c>, as they are read here.</summary>
    private static readonly FieldNames
        FlowFields = new("InstanceId", "NetworkInterfaceId", "SourceIp", "IpProtocol", "Port", "Minute", "Connections"),
        FlowDropFields = new("InstanceId", "NetworkInterfaceId", "Connections");

    public static (List<Flow> Flows, List<(InstanceId Nic, NetworkInterfaceId? Eni, long Connections)> Drops) Read(ParameterReader p, int max, DateTimeOffset now)
    {
        var objects = p.Objects("Flow", FlowFields, 9_999);
        if (objects.Count > max)
            throw new EcsException(EcsErrors.ParameterInvalid("Flow.N", $"at most {max} flows per report; send the rest with the next one."));
        var flows = objects.Select(o => FlowOf(o.Index, o.Fields, now)).ToList();
        var drops = p.Objects("FlowDrop", FlowDropFields, 9_999).Select(o =>
        {
            var fields = o.Fields;
            return (Lookups.InstanceIdOf(Field(fields, "FlowDrop", o.Index, "InstanceId")), EniOf(fields, "FlowDrop", o.Index),
                Count($"FlowDrop.{o.Index}.Connections", Field(fields, "FlowDrop", o.Index, "Connections")));
        }).ToList();
        return (flows, drops);
    }

    private static string Field(IReadOnlyDictionary<string, string> fields, string list, int index, string name) =>
        fields.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new EcsException(EcsErrors.Missing($"{list}.{index}.{name}"));

    /// <summary>The optional <c>NetworkInterfaceId</c> of a flow or drop: the ENI that saw it.</summary>
    private static NetworkInterfaceId? EniOf(IReadOnlyDictionary<string, string> fields, string list, int index) =>
        !fields.TryGetValue("NetworkInterfaceId", out var text) || text.Length == 0 ? null
        : NetworkInterfaceId.TryParse(text, out var eni) ? eni
        : throw new EcsException(EcsErrors.ParameterInvalid($"{list}.{index}.NetworkInterfaceId", $"'{text}' is not an ENI ID (eni-…)."));

    public static long Count(string name, string text) =>
        text.Length <= 15 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new EcsException(EcsErrors.ParameterInvalid(name, $"'{text}' is not a count (an integer from 0)."));

    private static Flow FlowOf(int index, IReadOnlyDictionary<string, string> fields, DateTimeOffset now)
    {
        string F(string name) => Field(fields, "Flow", index, name);
        var nic = Lookups.InstanceIdOf(F("InstanceId"));
        var sourceText = F("SourceIp");
        if (!IpAddress.TryParse(sourceText, out var source) || source.ToString() != sourceText)
            throw new EcsException(EcsErrors.ParameterInvalid($"Flow.{index}.SourceIp", $"'{sourceText}' is not an IPv4 or IPv6 address in its canonical form."));
        var protocolText = F("IpProtocol");
        if (!IpProtocols.TryParse(protocolText, out var protocol) || protocol == IpProtocol.All)
            throw new EcsException(EcsErrors.ParameterInvalid($"Flow.{index}.IpProtocol", $"'{protocolText}' is not TCP, UDP, ICMP, ICMPv6 or GRE."));
        var portText = F("Port");
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > PortRange.MaxPort
            || (protocol.HasPorts() ? port < PortRange.MinPort : port != 0))
            throw new EcsException(EcsErrors.ParameterInvalid($"Flow.{index}.Port", $"'{portText}' is not a destination port of {protocol.ToWire()} (1 to 65535; 0 for protocols without ports)."));
        var minuteText = F("Minute");
        if (!DateTimeOffset.TryParseExact(minuteText, "yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var minute))
            throw new EcsException(EcsErrors.ParameterInvalid($"Flow.{index}.Minute", $"'{minuteText}' is not a minute in UTC (yyyy-MM-ddTHH:mmZ)."));
        var connections = Count($"Flow.{index}.Connections", F("Connections"));
        var current = ObservedFlowOptions.MinuteOf(now);
        return new Flow(nic, EniOf(fields, "Flow", index), source, protocol, port, minute > current ? current : minute, connections);
    }

    /// <param name="bound">The account's bindings on <paramref name="host"/>: the NICs it may speak for.</param>
    public static void Save(ActionContext c, IStoreSession s, long accountId, string host, IReadOnlyList<HostBindingRecord> bound,
        List<Flow> flows, List<(InstanceId Nic, NetworkInterfaceId? Eni, long Connections)> drops, DateTimeOffset now)
    {
        var options = c.ObservedFlows;
        var oldest = ObservedFlowOptions.MinuteOf(now - options.Retention);
        var nics = new BoundNicFinder(s, host, bound);
        s.MarkFlowHost(accountId, host, now, options.MaxReportGap, drops.Where(d => nics.Find(d.Nic, d.Eni) is not null).Sum(d => d.Connections));
        var rows = flows
            .Where(f => f.Connections > 0 && f.Minute >= oldest)
            .Select(f => (Flow: f, Binding: nics.Find(f.Nic, f.Eni)))
            .Where(f => f.Binding is not null)
            .GroupBy(f => (f.Flow.Nic, f.Binding!.NetworkInterfaceId, f.Flow.Source, f.Flow.Protocol, f.Flow.Port, f.Flow.Minute))
            .Select(g => new ObservedFlowRecord(g.Key.Nic, g.Key.Source.ToString(), g.Key.Protocol.ToWire(), g.Key.Port, g.Key.Minute, g.Sum(f => f.Flow.Connections))
            {
                NetworkInterfaceId = g.Key.NetworkInterfaceId,
            })
            .ToList();
        s.AddObservedFlows(accountId, host, rows);
        s.PurgeObservedFlows(accountId, oldest);
    }
}

/// <summary>
/// The binding a flow's NIC names among those of the reporting host: the ENI's own when it names one
/// (attached to that instance), else the instance's primary NIC's. Null when the host does not carry it
/// (an agent racing an unbind, or speaking for another host's NIC).
/// </summary>
internal sealed class BoundNicFinder(IStoreSession s, string host, IReadOnlyList<HostBindingRecord> bound)
{
    private readonly Dictionary<InstanceId, HostBindingRecord?> _primaries = [];

    public HostBindingRecord? Find(InstanceId instance, NetworkInterfaceId? eni)
    {
        if (eni is { } named)
            return bound.FirstOrDefault(b => b.NetworkInterfaceId == named && b.InstanceId == instance);
        if (!_primaries.TryGetValue(instance, out var primary))
        {
            primary = bound.Any(b => b.InstanceId == instance) && s.FindHostBinding(instance) is { } b && b.HostName == host ? b : null;
            _primaries.Add(instance, primary);
        }
        return primary;
    }
}
