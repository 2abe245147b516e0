namespace Palisade.Server.Actions.Changes;

/// <summary>
/// Palisade extension: the change feed. Every committed change of an account has the account's own
/// gap-free, increasing revision (1, 2, 3, …: another tenant's pace never shows in it); this answers
/// the caller's account's changes after <c>AfterRevision</c>, and with
/// <c>WaitSeconds</c> waits (long poll) until there is one. While it waits it is parked on the
/// node's commit watcher under the account's scope: it holds no thread and asks the store nothing
/// until a commit of its account (on any node) wakes it, or the wait runs out.
/// Called with a host credential (issue 18) it is the host's feed (issue 17): global revisions (the
/// numbering of <c>DescribeHostPolicy</c>'s <c>Revision</c>), and only the commits, of any account,
/// that may alter what the host's agent enforces — decided by the store at commit from what each
/// wrote (<c>revision_hosts</c>), binding changes included. The poll parks on the host alone, so no
/// other commit wakes it.
/// </summary>
internal sealed class DescribeChanges() : ReadAction(cacheable: false), IAsyncEcsAction, Hosts.IHostAgentAction
{
    public bool HostOnly => false;

    protected override EcsObject Execute(ActionContext context, ParameterReader p) => ExecuteAsync(context, CancellationToken.None).GetAwaiter().GetResult();

    public async Task<EcsObject> ExecuteAsync(ActionContext c, CancellationToken cancel)
    {
        var p = c.Parameters;
        var afterText = p.Required("AfterRevision");
        if (!long.TryParse(afterText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var after))
            throw new EcsException(EcsErrors.ParameterInvalid("AfterRevision", $"'{afterText}' is not a revision (an integer from 0)."));
        var wait = TimeSpan.FromSeconds(p.Int("WaitSeconds", 0, 0, 60));
        var max = p.Int("MaxResults", 100, 1, 1000);
        var deadline = c.Clock.GetUtcNow() + wait;
        var host = c.Caller.HostName;
        // An account's key reads its account's feed; the host feed is its host credential's (a tenant
        // never learns which of its changes reach which host).
        if (host is null && p.Optional("HostName") is not null)
            throw new EcsException(EcsErrors.HostCredentialRequired("DescribeChanges with HostName"));
        CommitScope[] scope = host is null ? [CommitScope.Account(c.AccountId)] : [CommitScope.Host(host), CommitScope.EveryHost];
        while (true)
        {
            // Parked before the read: a commit between the read and the wait still wakes it.
            using var parked = c.Commits.Park(scope);
            var (current, changes) = await c.Gate.RunAsync(Hosting.StoreGate.Kind.Read, () => c.Read(s => host is null
                ? (s.LatestRevision(c.AccountId), s.ListRevisions(c.AccountId, after, max))
                : (s.FindHostCredential(c.Caller.AccessKeyId) is null
                    // Revoked while parked: the revocation woke the poll (it names the host), and it ends refused.
                    ? throw new EcsException(EcsErrors.AccessKeyNotFound())
                    : (s.CurrentRevision(), s.ListHostRevisions(host, after, max)))), cancel);
            var left = deadline - c.Clock.GetUtcNow();
            if (changes.Count > 0 || left <= TimeSpan.Zero)
                return Answer(current, after, changes);
            await parked.WaitAsync(left, cancel);
        }
    }

    private static EcsObject Answer(long current, long after, IReadOnlyList<Storage.Records.RevisionRecord> changes) => new()
    {
        { "CurrentRevision", current },
        { "NextRevision", changes.Count > 0 ? changes[^1].Revision : Math.Max(after, 0) },
        { "Changes", EcsList.Of("Change", changes.Select(r => new EcsObject
            {
                { "Revision", r.Revision },
                { "Action", r.Action },
                { "CommittedAt", Time.Format(r.CommittedAt) },
            })) },
    };
}
