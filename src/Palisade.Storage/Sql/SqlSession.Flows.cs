using Dapper;
using Palisade.Domain.Identifiers;
using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

/// <summary>Observed flows (issue 20): like rule usage, bookkeeping without a revision (connection.Execute, not Execute).</summary>
internal sealed partial class SqlSession
{
    public void AddObservedFlows(long accountId, string hostName, IReadOnlyList<ObservedFlowRecord> flows)
    {
        foreach (var f in flows)
        {
            connection.Execute("""
                INSERT INTO observed_flows (account_id, instance_id, network_interface_id, source_ip, ip_protocol, port, minute_start, host_name, connections)
                VALUES (@accountId, @nic, @eni, @source, @protocol, @port, @minute, @hostName, @connections)
                ON CONFLICT (account_id, instance_id, network_interface_id, minute_start, source_ip, ip_protocol, port, host_name) DO UPDATE SET
                    connections = observed_flows.connections + excluded.connections
                """, new { accountId, nic = f.InstanceId.Value, eni = f.NetworkInterfaceId?.Value ?? "", source = f.SourceIp, protocol = f.IpProtocol, port = f.Port, minute = Time.Format(f.MinuteStart), hostName, connections = f.Connections },
                transaction);
        }
    }

    public void MarkFlowHost(long accountId, string hostName, DateTimeOffset now, TimeSpan maxGap, long dropped)
    {
        var known = connection.QueryFirstOrDefault<FlowHostRow>("SELECT * FROM flow_hosts WHERE account_id = @accountId AND host_name = @hostName",
            new { accountId, hostName }, transaction)?.ToRecord();
        var continuous = known is not null && now - known.LastReportAt <= maxGap;
        var since = continuous ? known!.SamplingSince : now;
        var total = (continuous ? known!.Dropped : 0) + dropped;
        connection.Execute("""
            INSERT INTO flow_hosts (account_id, host_name, sampling_since, last_report_at, dropped) VALUES (@accountId, @hostName, @since, @now, @total)
            ON CONFLICT (account_id, host_name) DO UPDATE SET sampling_since = excluded.sampling_since, last_report_at = excluded.last_report_at, dropped = excluded.dropped
            """, new { accountId, hostName, since = Time.Format(since), now = Time.Format(now), total }, transaction);
    }

    public IReadOnlyList<ObservedFlowSummary> ListObservedFlows(long accountId, IReadOnlyCollection<InstanceId> nics, DateTimeOffset since) =>
        nics.Count == 0 ? [] : [.. Query<ObservedFlowSummaryRow>($"""
            SELECT instance_id, network_interface_id, source_ip, ip_protocol, port, CAST(SUM(connections) AS BIGINT) AS connections,
                   MIN(minute_start) AS first_seen, MAX(minute_start) AS last_seen
            FROM observed_flows
            WHERE account_id = @accountId AND minute_start >= @since AND {InList("instance_id", "nics")}
            GROUP BY instance_id, network_interface_id, source_ip, ip_protocol, port
            ORDER BY instance_id, network_interface_id, ip_protocol, port, source_ip
            """, new { accountId, since = Time.Format(since), nics = nics.Select(n => n.Value).ToArray() }).Select(r => r.ToRecord())];

    public IReadOnlyList<FlowHostRecord> ListFlowHosts(long accountId) =>
        [.. Query<FlowHostRow>("SELECT * FROM flow_hosts WHERE account_id = @accountId ORDER BY host_name", new { accountId }).Select(r => r.ToRecord())];

    public int PurgeObservedFlows(long accountId, DateTimeOffset before) =>
        connection.Execute("DELETE FROM observed_flows WHERE account_id = @accountId AND minute_start < @before", new { accountId, before = Time.Format(before) }, transaction);

    public bool FlowSamplingOff(string hostName) =>
        connection.ExecuteScalar<long>("SELECT COUNT(*) FROM hosts_without_flow_sampling WHERE host_name = @hostName", new { hostName }, transaction) > 0;

    public IReadOnlySet<string> HostsWithoutFlowSampling(IReadOnlyCollection<string> hostNames)
    {
        var off = new HashSet<string>(StringComparer.Ordinal);
        foreach (var hosts in hostNames.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Chunk(ReportHostsPerStatement))
            off.UnionWith(connection.Query<string>($"SELECT host_name FROM hosts_without_flow_sampling WHERE {InList("host_name", "hosts")}", new { hosts }, transaction));
        return off;
    }

    public void SetFlowSampling(string hostName, bool on, DateTimeOffset now)
    {
        // The operator's switch is a setting, not a change of any account: no revision either.
        if (on)
            connection.Execute("DELETE FROM hosts_without_flow_sampling WHERE host_name = @hostName", new { hostName }, transaction);
        else if (!FlowSamplingOff(hostName))
            connection.Execute("INSERT INTO hosts_without_flow_sampling (host_name, since) VALUES (@hostName, @now)", new { hostName, now = Time.Format(now) }, transaction);
    }
}

internal sealed class ObservedFlowSummaryRow
{
    public string instance_id { get; set; } = "";
    public string network_interface_id { get; set; } = "";
    public string source_ip { get; set; } = "";
    public string ip_protocol { get; set; } = "";
    public int port { get; set; }
    public long connections { get; set; }
    public string first_seen { get; set; } = "";
    public string last_seen { get; set; } = "";
    public ObservedFlowSummary ToRecord() => new(InstanceId.Parse(instance_id), source_ip, ip_protocol, port, connections, Time.Parse(first_seen), Time.Parse(last_seen))
    {
        NetworkInterfaceId = network_interface_id.Length == 0 ? null : NetworkInterfaceId.Parse(network_interface_id),
    };
}

internal sealed class FlowHostRow
{
    public long account_id { get; set; }
    public string host_name { get; set; } = "";
    public string sampling_since { get; set; } = "";
    public string last_report_at { get; set; } = "";
    public long dropped { get; set; }
    public FlowHostRecord ToRecord() => new(account_id, host_name, Time.Parse(sampling_since), Time.Parse(last_report_at), dropped);
}
