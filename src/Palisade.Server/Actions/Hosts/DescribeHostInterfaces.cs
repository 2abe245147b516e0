using Palisade.Domain.Hosts;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension: the account's bindings (on one <c>HostName</c> or on all hosts) with what the
/// host's agent last reported: the revision it enforces for the NIC, when it said so, and whether
/// that is the account's latest revision (<c>InSync</c>). A NIC whose agent never reported is not in sync.
/// Each bound ENI is its own item (<c>NetworkInterfaceId</c>; empty for a classic instance's NIC, which has no ENI).
/// </summary>
// Agent reports change without a revision, so a cached answer could hide one.
internal sealed class DescribeHostInterfaces() : ReadAction(cacheable: false)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var host = c.Parameters.Optional("HostName") is { } h ? HostNames.Host(h) : null;
        return c.Read(s =>
        {
            var latest = s.LatestRevision(c.AccountId);
            var reports = s.ListAgentReports(c.AccountId, host).ToDictionary(r => (r.HostName, r.InstanceId, r.NetworkInterfaceId));
            var bindings = s.ListHostBindings(c.AccountId, host);
            return new EcsObject
            {
                { "AccountRevision", latest },
                { "HostInterfaces", EcsList.Of("HostInterface", bindings.Select(b =>
                    {
                        var report = reports.GetValueOrDefault((b.HostName, b.InstanceId, b.NetworkInterfaceId));
                        return new EcsObject
                        {
                            { "InstanceId", b.InstanceId.Value },
                            { "NetworkInterfaceId", b.NetworkInterfaceId?.Value ?? "" },
                            { "HostName", b.HostName },
                            { "InterfaceName", b.InterfaceName },
                            { "BoundAt", Time.Format(b.BoundAt) },
                            { "AppliedRevision", report?.AppliedRevision ?? 0 },
                            { "ReportedAt", report is null ? "" : Time.Format(report.ReportedAt) },
                            { "InSync", report is not null && report.AppliedRevision >= latest },
                        };
                    })) },
            };
        });
    }
}
