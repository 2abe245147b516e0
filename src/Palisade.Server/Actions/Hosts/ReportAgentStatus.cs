using System.Globalization;
using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, called by <c>palisade agent</c>: the host enforces <c>AppliedRevision</c> for
/// the NICs <c>InstanceId.N</c> (those bound to it that it has programmed; others are ignored).
/// Replaces the host's previous report; leaves no revision, so reporting never wakes the change feed.
/// </summary>
internal sealed class ReportAgentStatus : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var p = c.Parameters;
        var host = HostNames.Host(p.Required("HostName"));
        var revisionText = p.Required("AppliedRevision");
        if (!long.TryParse(revisionText, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
            throw new EcsException(EcsErrors.AppliedRevisionInvalid(revisionText));
        var instances = p.List("InstanceId", 10_000).Select(Lookups.InstanceIdOf).Distinct().ToList();
        var now = c.Now;
        c.Write(s =>
        {
            // A report speaks only for the caller's NICs bound to that host; an agent racing an
            // unbind may name one that just left, which is not an error.
            var bound = s.ListHostBindings(c.AccountId, host).Select(b => b.InstanceId).ToHashSet();
            s.SaveAgentReports(c.AccountId, host, [.. instances.Where(bound.Contains).Select(i => new AgentReportRecord(c.AccountId, host, i, revision, now))]);
            return [];
        });
        return [];
    }
}
