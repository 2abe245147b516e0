using System.Globalization;
using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Server.Hosting;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// The observed flows of one <c>ReportAgentStatus</c> (issue 20): read and judged at the edge, then
/// kept per account — each flow only for the NIC's own account, only for NICs bound to the reporting
/// host, only for minutes within the retention (a minute from the future is taken as now's).
/// </summary>
internal static class ObservedFlowReport
{
    public sealed record Flow(InstanceId Nic, IpAddress Source, IpProtocol Protocol, int Port, DateTimeOffset Minute, long Connections);

    public static (List<Flow> Flows, List<(InstanceId Nic, long Connections)> Drops) Read(ParameterReader p, int max, DateTimeOffset now)
    {
        var objects = p.Objects("Flow", 9_999);
        if (objects.Count > max)
            throw new EcsException(EcsErrors.ParameterInvalid("Flow.N", $"at most {max} flows per report; send the rest with the next one."));
        var flows = objects.Select(o => FlowOf(o.Index, o.Fields, now)).ToList();
        var drops = p.Objects("FlowDrop", 9_999).Select(o =>
        {
            var fields = o.Fields;
            return (Lookups.InstanceIdOf(Field(fields, "FlowDrop", o.Index, "InstanceId")), Count($"FlowDrop.{o.Index}.Connections", Field(fields, "FlowDrop", o.Index, "Connections")));
        }).ToList();
        return (flows, drops);
    }

    private static string Field(IReadOnlyDictionary<string, string> fields, string list, int index, string name) =>
        fields.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new EcsException(EcsErrors.Missing($"{list}.{index}.{name}"));

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
        return new Flow(nic, source, protocol, port, minute > current ? current : minute, connections);
    }

    public static void Save(ActionContext c, IStoreSession s, long accountId, string host, IReadOnlySet<InstanceId> bound,
        List<Flow> flows, List<(InstanceId Nic, long Connections)> drops, DateTimeOffset now)
    {
        var options = c.ObservedFlows;
        var oldest = ObservedFlowOptions.MinuteOf(now - options.Retention);
        s.MarkFlowHost(accountId, host, now, options.MaxReportGap, drops.Where(d => bound.Contains(d.Nic)).Sum(d => d.Connections));
        var rows = flows
            .Where(f => f.Connections > 0 && bound.Contains(f.Nic) && f.Minute >= oldest)
            .GroupBy(f => (f.Nic, f.Source, f.Protocol, f.Port, f.Minute))
            .Select(g => new ObservedFlowRecord(g.Key.Nic, g.Key.Source.ToString(), g.Key.Protocol.ToWire(), g.Key.Port, g.Key.Minute, g.Sum(f => f.Connections)))
            .ToList();
        s.AddObservedFlows(accountId, host, rows);
        s.PurgeObservedFlows(accountId, oldest);
    }
}
