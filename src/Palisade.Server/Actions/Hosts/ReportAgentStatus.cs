using System.Globalization;
using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, called by <c>palisade agent</c> with its host credential (issue 18): the
/// host enforces the policy of host revision <c>AppliedRevision</c> (what <c>DescribeHostPolicy</c>
/// answered) for the NICs <c>InstanceId.N</c> (those bound to it that it has programmed; others
/// are ignored). Each NIC's account is told its own revision as of that moment, so its tenant sees
/// the NIC in sync once that is the account's latest. Replaces the host's previous report; leaves
/// no revision, so reporting never wakes a feed. No account's key may call it: a tenant cannot
/// claim a NIC is enforced.
/// </summary>
internal sealed class ReportAgentStatus : EcsAction, IHostAgentAction
{
    public bool HostOnly => true;

    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var p = c.Parameters;
        var host = HostAccess.HostOf(c);
        var revisionText = p.Required("AppliedRevision");
        if (!long.TryParse(revisionText, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
            throw new EcsException(EcsErrors.AppliedRevisionInvalid(revisionText));
        var instances = p.List("InstanceId", 10_000).Select(Lookups.InstanceIdOf).Distinct().ToHashSet();
        var now = c.Now;
        c.Write(s =>
        {
            // A revision from the future (a forged or confused agent) would show NICs in sync too early.
            revision = Math.Min(revision, s.CurrentRevision());
            // A report speaks only for NICs bound to that host; an agent racing an unbind may name
            // one that just left, which is not an error.
            var reports = s.ListBindingsOnHost(host).Where(b => instances.Contains(b.InstanceId))
                .Select(b => new AgentReportRecord(b.AccountId, host, b.InstanceId, s.AccountRevisionAt(b.AccountId, revision), now))
                .ToList();
            s.SaveHostReports(host, reports);
            return [];
        });
        return [];
    }
}
