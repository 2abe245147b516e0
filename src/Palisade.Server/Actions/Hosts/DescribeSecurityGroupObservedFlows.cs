using Palisade.Analysis.Suggestions;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension (issue 20): the new connections the agents saw the group's NICs accept over
/// the last <c>Days</c> days, sampled and added up per NIC (<c>InstanceId</c> and the ENI,
/// <c>NetworkInterfaceId</c>: a group's members are ENIs, so a secondary ENI's flows are its groups',
/// not its instance's), source address, protocol and destination port (connections, first and last
/// minute seen). <c>HostsSampling</c>, <c>SamplingSince</c> and
/// <c>DroppedConnections</c> say how complete that is: the hosts carrying the group's NICs whose
/// agents sample, the time from which all of them have without a gap (empty when one does not), and
/// how many connections they saw but could not keep (over their rate cap). Paged like ECS lists.
/// Per account: a group of another account is not found, and the flows are only ever those of the
/// caller's own NICs.
/// </summary>
// Flows arrive without a revision: a cached answer would hide new ones.
internal sealed class DescribeSecurityGroupObservedFlows() : ReadAction(cacheable: false)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var id = c.GroupIdParameter();
        var days = Lookback.Days(p, c.ObservedFlows.Retention);
        var paging = Paging.Read(p, 1000, 10_000, 10_000);
        var now = c.Now;
        return c.ReadGroup(id, (s, group) =>
        {
            var nics = GroupNics.Of(s, group);
            var flows = FlowsTo(c, s, nics, now - TimeSpan.FromDays(days));
            var (sampling, since, dropped) = Samplers(c, s, nics, now);
            var page = paging.Take(flows);
            var response = new EcsObject
            {
                { "SecurityGroupId", group.Id.Value },
                { "Days", days },
                { "HostsSampling", sampling },
                { "SamplingSince", since is { } at ? Time.Format(at) : "" },
                { "DroppedConnections", dropped },
                { "ObservedFlows", EcsList.Of("ObservedFlow", page.Select(Flow)) },
            };
            paging.Describe(response, flows);
            return response;
        });
    }

    private static EcsObject Flow(ObservedFlowSummary f) => new()
    {
        { "InstanceId", f.InstanceId.Value },
        { "NetworkInterfaceId", f.NetworkInterfaceId?.Value ?? "" },
        { "SourceIp", f.SourceIp },
        { "IpProtocol", f.IpProtocol },
        { "Port", f.Port },
        { "Connections", f.Connections },
        { "FirstSeen", Time.Format(f.FirstSeen) },
        { "LastSeen", Time.Format(f.LastSeen) },
    };

    /// <summary>The stored flows to the group's NICs (each ENI's own, not its instance's other ENIs') from <paramref name="since"/> on.</summary>
    internal static List<ObservedFlowSummary> FlowsTo(ActionContext c, IStoreSession s, GroupNics nics, DateTimeOffset since) =>
        [.. s.ListObservedFlows(c.AccountId, nics.Instances, since).Where(f => nics.Contains(f.InstanceId, f.NetworkInterfaceId))];

    /// <summary>A stored flow as the suggestion engine and the audit read it.</summary>
    internal static ObservedConnection Connection(ObservedFlowSummary f) =>
        new(f.InstanceId, IpAddress.Parse(f.SourceIp), IpProtocols.TryParse(f.IpProtocol, out var p) ? p : throw new InvalidOperationException($"stored protocol {f.IpProtocol}"), f.Port, f.Connections)
        {
            NetworkInterfaceId = f.NetworkInterfaceId,
        };

    /// <summary>
    /// The hosts that carry one of the group's NICs — any ENI in the group, primary or secondary — and
    /// sample (reported within the allowed gap, not switched off), the time from which all of them have
    /// sampled (null when one does not), and the connections they could not keep.
    /// </summary>
    internal static (int Sampling, DateTimeOffset? Since, long Dropped) Samplers(ActionContext c, IStoreSession s, GroupNics nics, DateTimeOffset now)
    {
        var hosts = s.ListHostBindings(c.AccountId, null).Where(b => nics.Contains(b.InstanceId, b.NetworkInterfaceId)).Select(b => b.HostName).ToHashSet(StringComparer.Ordinal);
        var sampling = s.ListFlowHosts(c.AccountId)
            .Where(h => hosts.Contains(h.HostName) && now - h.LastReportAt <= c.ObservedFlows.MaxReportGap && !s.FlowSamplingOff(h.HostName))
            .ToList();
        DateTimeOffset? since = hosts.Count > 0 && sampling.Count == hosts.Count ? sampling.Max(h => h.SamplingSince) : null;
        return (sampling.Count, since, sampling.Sum(h => h.Dropped));
    }
}
