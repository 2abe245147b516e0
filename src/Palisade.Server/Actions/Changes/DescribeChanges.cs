using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage;

namespace Palisade.Server.Actions.Changes;

/// <summary>
/// Palisade extension: the change feed. Every committed change of an account has the account's own
/// gap-free, increasing revision (1, 2, 3, …: another tenant's pace never shows in it); this answers
/// the caller's account's changes after <c>AfterRevision</c>, and with
/// <c>WaitSeconds</c> waits (long poll) until there is one. While it waits it is parked on the
/// node's commit watcher under the account's scope: it holds no thread and asks the store nothing
/// until a commit of its account (on any node) wakes it, or the wait runs out. With <c>HostName</c>
/// it is the host's feed: the account's changes that may alter what that host enforces
/// (<c>revision_hosts</c>, decided at commit by the store), parked on the host's scope alone.
/// </summary>
internal sealed class DescribeChanges : EcsAction, IAsyncEcsAction
{
    public override bool Mutates => false;

    public override bool Cacheable => false;

    public override EcsObject Execute(ActionContext context) => ExecuteAsync(context, CancellationToken.None).GetAwaiter().GetResult();

    public async Task<EcsObject> ExecuteAsync(ActionContext c, CancellationToken cancel)
    {
        var p = c.Parameters;
        var afterText = p.Required("AfterRevision");
        if (!long.TryParse(afterText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var after))
            throw new EcsException(EcsErrors.ParameterInvalid("AfterRevision", $"'{afterText}' is not a revision (an integer from 0)."));
        var wait = TimeSpan.FromSeconds(p.Int("WaitSeconds", 0, 0, 60));
        var max = p.Int("MaxResults", 100, 1, 1000);
        // With HostName, the host-scoped feed: only the changes that may alter what that host's agent
        // enforces (issue 17), and the poll parks on the host alone, so no other change wakes it.
        var host = p.Optional("HostName") is { } name ? Hosts.HostNames.Host(name) : null;
        var deadline = c.Clock.GetUtcNow() + wait;
        CommitScope[] scope = host is null
            ? [CommitScope.Account(c.AccountId)]
            : [CommitScope.Host(c.AccountId, host), CommitScope.EveryHost(c.AccountId)];
        while (true)
        {
            // Parked before the read: a commit between the read and the wait still wakes it.
            using var parked = c.Commits.Park(scope);
            var (current, changes) = c.Read(s => (s.LatestRevision(c.AccountId),
                host is null ? s.ListRevisions(c.AccountId, after, max) : s.ListHostRevisions(c.AccountId, host, after, max)));
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
