using System.Runtime.CompilerServices;

namespace Palisade.Storage;

/// <summary>
/// What this node's own commits of each account named as they wrote (issue 17, fifteenth session): for
/// an account revision, the action that made it and the things its writes touched
/// (<see cref="Sql.SqlSession.Touches"/>), recorded by the store right after the commit. The node's
/// account views bring a view of revision N forward to N+1 from it instead of reloading the account
/// whole; a revision not recorded here (another node's commit, one older than the last
/// <see cref="MaxKept"/>, or one whose record came after the view was asked for) is simply not known,
/// and the view is reloaded. Facts only: which actions write nothing but what they touch is the
/// server's to decide (<c>AccountViews</c>).
/// </summary>
public sealed class AccountCommits
{
    private static readonly ConditionalWeakTable<IStore, AccountCommits> ByStore = new();

    /// <summary>The commits made through a store (and so by a node: nodes have their own stores).</summary>
    public static AccountCommits Of(IStore store) => ByStore.GetValue(store, _ => new AccountCommits());

    /// <summary>At most this many commits remembered on a node; the oldest go first.</summary>
    public const int MaxKept = 4096;

    /// <summary>One commit of an account: its own revision, its action, and what it touched (null: everything).</summary>
    public sealed record Commit(long AccountId, long AccountRevision, string Action, IReadOnlyList<(string Kind, string Id)>? Touched);

    private readonly Lock _lock = new();
    private readonly Dictionary<(long Account, long Revision), Commit> _commits = [];
    private readonly Queue<(long, long)> _order = new();

    internal void Record(Commit commit)
    {
        lock (_lock)
        {
            if (!_commits.TryAdd((commit.AccountId, commit.AccountRevision), commit))
                return;
            _order.Enqueue((commit.AccountId, commit.AccountRevision));
            while (_order.Count > MaxKept)
                _commits.Remove(_order.Dequeue());
        }
    }

    /// <summary>
    /// A commit as the other nodes learn it (PostgreSQL: the payload of the commit's <c>NOTIFY</c>, so that
    /// every node, not only the one that wrote, brings its views forward): <c>account;revision;action;Kind:Id,…</c>.
    /// Null when it would not fit a notification or holds a character outside IDs' and actions' own
    /// (the payload is written as a literal): the other nodes then do not know it and reload.
    /// </summary>
    internal static string? Payload(Commit commit)
    {
        if (commit.Touched is not { Count: <= 64 } touched)
            return null;
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{commit.AccountId};{commit.AccountRevision};{commit.Action};{string.Join(",", touched.Select(t => t.Kind + ":" + t.Id))}");
        return text.Length <= 4000 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or ',' or ';') ? text : null;
    }

    /// <summary>Records a commit another node (or this one) notified (<see cref="Payload"/>); a payload not of that form is ignored.</summary>
    internal void Notified(string? payload)
    {
        var parts = payload?.Split(';');
        if (parts is not { Length: 4 }
            || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var account)
            || !long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var revision))
            return;
        var touched = new List<(string, string)>();
        foreach (var item in parts[3].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = item.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                return;
            touched.Add((item[..colon], item[(colon + 1)..]));
        }
        Record(new Commit(account, revision, parts[2], touched));
    }

    /// <summary>The commit that made <paramref name="accountRevision"/> of the account, if this node made it and remembers it.</summary>
    public Commit? Find(long accountId, long accountRevision)
    {
        lock (_lock)
            return _commits.GetValueOrDefault((accountId, accountRevision));
    }
}
