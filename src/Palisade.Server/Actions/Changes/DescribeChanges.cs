using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage;

namespace Palisade.Server.Actions.Changes;

/// <summary>
/// Palisade extension: the change feed. Every committed change of an account has the account's own
/// gap-free, increasing revision (1, 2, 3, …: another tenant's pace never shows in it); this answers
/// the caller's account's changes after <c>AfterRevision</c>, and with
/// <c>WaitSeconds</c> waits (long poll) until there is one. It works whichever node a change landed
/// on, because it asks the shared store: it looks at the latest revision every 20 ms while it
/// waits, and at once when this node commits.
/// </summary>
internal sealed class DescribeChanges : EcsAction, IAsyncEcsAction
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

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
        var deadline = c.Clock.GetUtcNow() + wait;
        while (true)
        {
            var (global, current, changes) = c.Read(s => (s.CurrentRevision(), s.LatestRevision(c.AccountId), s.ListRevisions(c.AccountId, after, max)));
            if (changes.Count > 0 || c.Clock.GetUtcNow() >= deadline)
                return Answer(current, after, changes);
            // Wait for the server's global revision to move (one cheap question, never shown to the
            // caller); changes of other accounts wake us too, then we look again at the account's.
            // A commit of this node wakes us at once; another node's is found by the next look.
            while (c.Clock.GetUtcNow() < deadline && c.CurrentRevision() == global)
            {
                await Task.WhenAny(c.Commits.Next, Task.Delay(PollInterval, cancel));
                cancel.ThrowIfCancellationRequested();
            }
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
