using CsCheck;

namespace Palisade.Storage.Tests;

/// <summary>
/// The commit ledger (issue 17, fourteenth session: the host fetch served from memory) against its
/// slow twin, the list of every commit read through: for random commits (of three accounts and of no
/// account, naming some of three hosts or every host), recorded in random batches, what the ledger
/// says changed for a host after a revision is what the list says, or it says it cannot tell exactly
/// when the list shows a write of no account or an every-host commit naming the host since.
/// </summary>
public sealed class CommitLedgerTests
{
    private static readonly string[] Hosts = ["h1", "h2", "h3"];

    /// <summary>One commit: its account (0 for none) and the hosts it named (a bit each; bit 3: every host, rarely).</summary>
    private static readonly Gen<(int Account, int Hosts)> Commit =
        Gen.Select(Gen.Int[0, 3], Gen.Frequency((20, Gen.Int[0, 7]), (1, Gen.Const(8))));

    private static readonly Gen<((int Account, int Hosts)[] Commits, int[] Batches, int Since)> Histories =
        Gen.Select(Commit.Array[0, 30], Gen.Int[1, 5].Array[30], Gen.Int[0, 5]);

    [Fact]
    public void WhatTheLedgerSaysOfAHost_IsWhatEveryCommitSaysOfIt()
    {
        Histories.SelectMany(h => Gen.Select(Gen.Const(h), Gen.Int[0, h.Commits.Length + h.Since + 1], Gen.Int[0, 2], Gen.Int[0, 7]))
            .Sample(t =>
            {
                var ((commits, batches, since), after, hostIndex, askedBits) = t;
                var host = Hosts[hostIndex];
                var asked = Enumerable.Range(1, 3).Where(a => (askedBits & (1 << (a - 1))) != 0).Select(a => (long)a).ToList();
                var revisions = new List<CommittedRevision>();
                var accountRevisions = new Dictionary<long, long>();
                for (var i = 0; i < commits.Length; i++)
                {
                    var (account, hosts) = commits[i];
                    var scopes = new List<CommitScope>();
                    if (account != 0)
                        scopes.Add(CommitScope.Account(account));
                    if ((hosts & 8) != 0)
                        scopes.Add(CommitScope.EveryHost);
                    scopes.AddRange(Hosts.Where((_, h) => (hosts & (1 << h)) != 0).Select(CommitScope.Host));
                    long? accountRevision = account == 0 ? null : accountRevisions[account] = accountRevisions.GetValueOrDefault(account) + 1;
                    revisions.Add(new CommittedRevision(since + i + 1, scopes, account == 0 ? null : account, accountRevision));
                }
                var ledger = new CommitLedger(since);
                // In batches, as the watcher's looks read them.
                var (at, b) = (0, 0);
                while (at < revisions.Count)
                {
                    var n = Math.Min(batches[b++ % batches.Length], revisions.Count - at);
                    ledger.Record(revisions.GetRange(at, n));
                    at += n;
                }
                var seen = since + revisions.Count;
                Assert.Equal(seen, ledger.Seen);

                // The slow twin: the commits after `after` read one by one.
                var later = revisions.Where(r => r.Revision > after).ToList();
                var names = (CommittedRevision r) => r.Scopes.Contains(CommitScope.EveryHost) || r.Scopes.Contains(CommitScope.Host(host));
                var cannotTell = after < since || after > seen || later.Any(r => r.Scopes.Contains(CommitScope.EveryHost)) || later.Any(r => r.AccountId is null && names(r));
                var answer = ledger.ChangesFor(host, after, asked);
                if (cannotTell)
                {
                    Assert.Null(answer);
                    return;
                }
                Assert.NotNull(answer);
                Assert.Equal(seen, answer.Revision);
                var touching = later.Where(r => r.AccountId is not null && names(r)).Select(r => r.AccountId!.Value).Distinct().Order().ToList();
                Assert.Equal(touching, answer.TouchingAccounts.Order().ToList());
                var expected = asked.Concat(touching).Distinct()
                    .Select(a => (Account: a, Last: later.LastOrDefault(r => r.AccountId == a)))
                    .Where(x => x.Last is not null)
                    .ToDictionary(x => x.Account, x => x.Last!.AccountRevision!.Value);
                Assert.Equal(expected.OrderBy(e => e.Key).ToList(), answer.AccountRevisions.OrderBy(e => e.Key).ToList());
            }, iter: 3000);
    }

    /// <summary>
    /// The host's feed from the ledger (issue 17, fifteenth session: the woken host poll answered without
    /// a read) against the list of every commit: for random histories recorded in random batches, a poll
    /// of a host after a revision, with its credential found at another, gets from the ledger exactly the
    /// commits naming the host (or every host) after its revision up to what the ledger saw, at most
    /// <c>max</c> — or nothing when a write of no account named the host or an every-host commit came
    /// since either revision, or the revisions are outside what the ledger saw. Histories longer than
    /// the ledger keeps per host check the dropped part too.
    /// </summary>
    [Fact]
    public void TheHostFeedFromTheLedger_IsTheCommitsThatNamedTheHost()
    {
        // Writes of no account and every-host commits rarer than above: long stretches the ledger can answer for.
        var commit = Gen.Select(Gen.Frequency((40, Gen.Int[1, 3]), (1, Gen.Const(0))), Gen.Frequency((200, Gen.Int[0, 7]), (1, Gen.Const(8))));
        var histories = Gen.Select(commit.Array[0, 200], Gen.Int[1, 40].Array[30], Gen.Int[0, 5]);
        histories.SelectMany(h => Gen.Select(Gen.Const(h), Gen.Int[0, h.Item1.Length + h.Item3 + 1], Gen.Int[0, h.Item1.Length + h.Item3 + 1], Gen.Int[0, 2], Gen.Int[1, 5]))
            .Sample(t =>
            {
                var ((commits, batches, since), after, found, hostIndex, max) = t;
                var host = Hosts[hostIndex];
                var revisions = new List<CommittedRevision>();
                for (var i = 0; i < commits.Length; i++)
                {
                    var (account, hosts) = commits[i];
                    var scopes = new List<CommitScope>();
                    if (account != 0)
                        scopes.Add(CommitScope.Account(account));
                    if ((hosts & 8) != 0)
                        scopes.Add(CommitScope.EveryHost);
                    scopes.AddRange(Hosts.Where((_, h) => (hosts & (1 << h)) != 0).Select(CommitScope.Host));
                    revisions.Add(new CommittedRevision(since + i + 1, scopes, account == 0 ? null : account, account == 0 ? null : i)
                    {
                        Action = "Action" + i % 7,
                        CommittedAt = DateTimeOffset.UnixEpoch.AddSeconds(i),
                    });
                }
                var ledger = new CommitLedger(since);
                var (at, b) = (0, 0);
                while (at < revisions.Count)
                {
                    var n = Math.Min(batches[b++ % batches.Length], revisions.Count - at);
                    ledger.Record(revisions.GetRange(at, n));
                    at += n;
                }
                var seen = since + revisions.Count;
                var names = (CommittedRevision r) => r.Scopes.Contains(CommitScope.EveryHost) || r.Scopes.Contains(CommitScope.Host(host));
                var from = Math.Min(after, found);
                var answer = ledger.HostFeed(host, after, found, max);
                var cannot = from < since || after > seen || found > seen
                    || revisions.Any(r => r.Revision > from && (r.Scopes.Contains(CommitScope.EveryHost) || (r.AccountId is null && names(r))));
                if (cannot)
                {
                    Assert.Null(answer);
                    return;
                }
                // The slow twin: the store's ListHostRevisions over every commit.
                var expected = revisions.Where(r => r.Revision > after && names(r)).Take(max)
                    .Select(r => new Records.RevisionRecord(r.Revision, r.AccountId, r.Action!, r.CommittedAt)).ToList();
                // Past what it keeps per host the ledger may not tell (never a wrong feed).
                var kept = revisions.Count(r => r.Revision > after && names(r)) <= CommitLedger.FeedPerHost / 2;
                if (answer is null)
                {
                    Assert.False(kept, "the ledger kept the host's feed since the revision, yet could not tell");
                    return;
                }
                Assert.Equal(seen, answer.Value.Revision);
                Assert.Equal(expected, answer.Value.Changes);
            }, iter: 3000);
    }
}
