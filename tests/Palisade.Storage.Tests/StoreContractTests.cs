using CsCheck;
using Palisade.Domain.Errors;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Rules;
using Palisade.Storage.Records;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>The store contract, on SQLite, or on PostgreSQL when the run asks for it (<see cref="TestStores"/>).</summary>
public sealed class StoreContractTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-store-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;
    private readonly long _account;
    private readonly SecurityGroupId _group = SecurityGroupId.Parse("sg-test1");

    public StoreContractTests()
    {
        _store = Open();
        _account = _store.Write("CreateAccount", null, s => s.CreateAccount("root", DateTimeOffset.UtcNow)).AccountId;
        _store.Write("CreateSecurityGroup", _account, s =>
        {
            s.Groups.Insert(new GroupRecord(_group, _account, "cn-hangzhou", null, "g", "", SecurityGroupType.Normal, InnerAccessPolicy.Accept, Time.Truncate(DateTimeOffset.UtcNow)));
            return 0;
        });
    }

    private IStore Open() => StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// Issue 17: the request path queues in front of the store's pool, sized by what the store says
    /// its pool is (null: no pool, SQLite); on PostgreSQL each opening of a connection is timed
    /// (<c>palisade.store.open.duration</c>, the pool's queue apart from the transaction).
    /// </summary>
    [Fact]
    public void ConnectionLimit_IsThePoolsSize_AndOpeningAConnectionIsTimed()
    {
        if (_database is null)
        {
            Assert.Null(_store.ConnectionLimit);
            return;
        }
        Assert.Equal(100, _store.ConnectionLimit); // Npgsql's default
        var sized = new Npgsql.NpgsqlConnectionStringBuilder(_database.ConnectionString) { MaxPoolSize = 7 }.ConnectionString;
        var opens = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "palisade.store.open.duration")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "store", Value: "postgres" })
                    Interlocked.Increment(ref opens);
            }
        });
        listener.Start();
        using var store = StoreFactory.Open(sized, _directory);
        Assert.Equal(7, store.ConnectionLimit);
        var before = Volatile.Read(ref opens);
        Assert.Equal(store.CurrentRevision(), store.Read(s => s.CurrentRevision()));
        Assert.True(Volatile.Read(ref opens) - before >= 2, $"{Volatile.Read(ref opens) - before} openings timed for two transactions");
    }

    /// <summary>
    /// A store opened to record no metrics (the server's own warm-up's) adds nothing to the process's
    /// store meter, which is every node's: its reads, writes and connection waits are no node's. Counted
    /// on this thread only (other tests' stores record on theirs; a store's calls run on the caller's thread).
    /// </summary>
    [Fact]
    public void AStoreThatRecordsNoMetrics_AddsNothingToTheStoreMeter_AndOneThatDoesAddsEachTransaction()
    {
        var thread = Environment.CurrentManagedThreadId;
        var recorded = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StoreMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) =>
        {
            if (Environment.CurrentManagedThreadId == thread)
                Interlocked.Increment(ref recorded);
        });
        listener.Start();
        foreach (var records in new[] { false, true })
        {
            using var store = StoreFactory.Open(_database?.ConnectionString, _directory, recordsMetrics: records);
            var before = Volatile.Read(ref recorded);
            store.Read(s => s.CurrentRevision());
            store.Write("CreateAccount", null, s => s.CreateAccount("metrics-" + records, DateTimeOffset.UtcNow));
            var added = Volatile.Read(ref recorded) - before;
            if (records)
                Assert.True(added >= 2, $"{added} measures for a read and a write");
            else
                Assert.Equal(0, added);
        }
    }

    /// <summary>
    /// Host credentials (issue 18): listed per host or all, their last use noted without a revision,
    /// and a deletion (a revocation) is a change that names the credential's host on the host feed,
    /// so a parked agent wakes and finds its key gone.
    /// </summary>
    [Fact]
    public void HostCredentials_AreListed_TheirUseIsBookkeeping_AndARevocationWakesTheirHost()
    {
        var at = Time.Truncate(DateTimeOffset.UtcNow);
        _store.Write("DeclareHost", null, s =>
        {
            foreach (var host in new[] { "node-1", "node-2" })
                s.SaveHost(new HostRecord(host, Domain.Hosts.HostDeclaration.Parse("vnet*", "10.0.0.0/8"), at));
            s.InsertHostCredential(new HostCredentialRecord("LTAIb", "node-1", [1], AccessKeyStatus.Active, at));
            s.InsertHostCredential(new HostCredentialRecord("LTAIa", "node-1", [2], AccessKeyStatus.Active, at));
            s.InsertHostCredential(new HostCredentialRecord("LTAIc", "node-2", [3], AccessKeyStatus.Active, at));
            return 0;
        });
        Assert.Equal(["LTAIa", "LTAIb"], _store.Read(s => s.ListHostCredentials("node-1")).Select(c => c.AccessKeyId));
        Assert.Equal(["LTAIa", "LTAIb", "LTAIc"], _store.Read(s => s.ListHostCredentials(null)).Select(c => c.AccessKeyId));
        Assert.Equal([3], _store.Read(s => s.FindHostCredential("LTAIc"))!.SecretCiphertext);

        var revision = _store.CurrentRevision();
        _store.Write("UseHostCredential", null, s => { s.MarkHostCredentialUsed("LTAIa", at.AddMinutes(1)); return 0; });
        Assert.Equal(revision, _store.CurrentRevision());
        Assert.Equal(at.AddMinutes(1), _store.Read(s => s.FindHostCredential("LTAIa"))!.LastUsedAt);
        Assert.Null(_store.Read(s => s.FindHostCredential("LTAIb"))!.LastUsedAt);

        _store.Write("RevokeHostCredential", null, s => { s.DeleteHostCredential(s.FindHostCredential("LTAIa")!); return 0; });
        Assert.Null(_store.Read(s => s.FindHostCredential("LTAIa")));
        Assert.Equal([_store.CurrentRevision()], _store.Read(s => s.ListHostRevisions("node-1", revision, 10)).Select(r => r.Revision));
        Assert.Empty(_store.Read(s => s.ListHostRevisions("node-2", revision, 10)));
    }

    [Fact]
    public void TheStoreUnderTest_IsTheOneAskedFor() =>
        Assert.Equal(TestStores.OnPostgres ? "postgres" : "sqlite", _store.Kind);

    /// <summary>Any rule the domain can make comes back from the store exactly as it went in, in order.</summary>
    [Fact]
    public void Rules_RoundTripExactly()
    {
        var n = 0;
        SmallUniverse.Rule.Sample(rule =>
        {
            var stored = rule with { Id = SecurityGroupRuleId.Parse($"sgr-rt{n++}"), CreateTime = Time.Truncate(rule.CreateTime) };
            var inserted = _store.Write("AuthorizeSecurityGroup", _account, s => s.InsertRule(_group, stored));
            var back = _store.Read(s => s.ListRules(_group)).SingleOrDefault(r => r.Id == stored.Id);
            if (inserted)
            {
                Assert.Equal(stored, back);
                Assert.Equal(stored.Peer.ToString(), back!.Peer.ToString());
            }
            else
            {
                // Only an existing rule with the same identity may refuse it.
                Assert.Contains(_store.Read(s => s.ListRules(_group)), r => r.Identity == stored.Identity);
            }
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void SameIdentity_IsStoredOnce()
    {
        var rule = SmallUniverse.Rule.Single() with { Id = SecurityGroupRuleId.Parse("sgr-a") };
        Assert.True(_store.Write("x", _account, s => s.InsertRule(_group, rule)));
        Assert.False(_store.Write("x", _account, s => s.InsertRule(_group, rule with { Id = SecurityGroupRuleId.Parse("sgr-b"), Description = "other words" })));
        Assert.Single(_store.Read(s => s.ListRules(_group)));
    }

    /// <summary>
    /// Each account numbers its changes 1, 2, 3, … with no gap, whatever other accounts do at the
    /// same time, from several threads and (on PostgreSQL) several nodes (issue 19).
    /// </summary>
    [Fact]
    public void EachAccount_NumbersItsOwnChanges_WithoutGaps_UnderConcurrentWriters()
    {
        using var second = Open();
        var accounts = Enumerable.Range(0, 3).Select(i => _store.Write("CreateAccount", null, s => s.CreateAccount("tenant" + i, DateTimeOffset.UtcNow)).AccountId).ToArray();
        Parallel.For(0, 60, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
        {
            var node = i % 2 == 0 ? _store : second;
            var account = accounts[i % accounts.Length];
            node.Write("TagResources", account, s =>
            {
                s.SetTag(account, TaggedResourceTypes.SecurityGroup, "sg-x" + account, new Tag("k" + i, "v"));
                return 0;
            });
        });
        foreach (var account in accounts)
        {
            var own = _store.Read(s => s.ListRevisions(account, 0, 1000)).Select(r => r.Revision).ToList();
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), own);
            Assert.Equal(20, _store.Read(s => s.LatestRevision(account)));
            Assert.Equal([11L, 12], _store.Read(s => s.ListRevisions(account, 10, 2)).Select(r => r.Revision));
        }
        // The first account's own history is untouched by the others: its group, and nothing else.
        Assert.Equal(1, _store.Read(s => s.LatestRevision(_account)));
    }

    [Fact]
    public void EveryCommittedChange_GetsTheNextRevision_AndAFailedOneLeavesNothing()
    {
        var before = _store.Read(s => s.CurrentRevision());
        _store.Write("x", _account, s =>
        {
            s.SetTag(_account, TaggedResourceTypes.SecurityGroup, _group.Value, new Tag("a", "1"));
            return 0;
        });
        Assert.Equal(before + 1, _store.Read(s => s.CurrentRevision()));

        Assert.Throws<EcsException>(() => _store.Write<int>("x", _account, s =>
        {
            s.SetTag(_account, TaggedResourceTypes.SecurityGroup, _group.Value, new Tag("b", "2"));
            throw new EcsException(EcsErrors.Internal());
        }));
        Assert.Equal(before + 1, _store.Read(s => s.CurrentRevision()));
        Assert.Equal([new Tag("a", "1")], _store.Read(s => s.ListTags(TaggedResourceTypes.SecurityGroup, _group.Value)).ToArray());

        // A transaction that only reads adds no revision.
        _store.Write("x", _account, s => s.ListRules(_group));
        Assert.Equal(before + 1, _store.Read(s => s.CurrentRevision()));
    }

    [Fact]
    public void Lookups_AreScopedToTheAccount()
    {
        var other = _store.Write("CreateAccount", null, s => s.CreateAccount("other", DateTimeOffset.UtcNow)).AccountId;
        Assert.NotNull(_store.Read(s => s.Groups.Find(_account, _group)));
        Assert.Null(_store.Read(s => s.Groups.Find(other, _group)));
        Assert.Empty(_store.Read(s => s.Groups.List(other, "cn-hangzhou")));
        Assert.NotNull(_store.Read(s => s.FindGroupAnyAccount(_group)));
    }

    [Fact]
    public void Migrations_AreAppliedOnce()
    {
        using var again = Open();
        Assert.NotNull(again.Read(s => s.Groups.Find(_account, _group)));
    }

    [Fact]
    public void PostgresUrls_KeepEveryPart()
    {
        var text = Postgres.PostgresStore.ToConnectionString("postgres://palisade:s%40cret@db.example:6543/control?sslmode=require&Timeout=5");
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(text);
        Assert.Equal(("db.example", 6543, "control", "palisade", "s@cret"), (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password));
        Assert.Equal(Npgsql.SslMode.Require, builder.SslMode);
        Assert.Equal(5, builder.Timeout);
        Assert.Throws<ArgumentException>(() => Postgres.PostgresStore.ToConnectionString("postgres://db/x?nosuchoption=1"));
    }

    private ActionTrailEntry Event(string action, string code = "OK") =>
        new(Time.Truncate(DateTimeOffset.UtcNow), _account, "LTAIkey", action, "2014-05-26", Guid.NewGuid().ToString(), "{}", code == "OK" ? 200 : 400, code);

    /// <summary>A success's event commits with its change and carries its revision; a rolled-back write leaves none; a refusal's event adds no revision.</summary>
    [Fact]
    public void TheActionTrail_FollowsTheTransaction()
    {
        var changed = Event("ModifySecurityGroupAttribute");
        _store.Write("ModifySecurityGroupAttribute", _account, s =>
        {
            s.UpdateGroup(s.Groups.Find(_account, _group)! with { Name = "renamed" });
            s.AddTrail(changed);
            return 0;
        });
        var global = _store.CurrentRevision();
        var revision = _store.Read(s => s.LatestRevision(_account));
        var unchanged = Event("AuthorizeSecurityGroup");
        _store.Write("AuthorizeSecurityGroup", _account, s => { s.AddTrail(unchanged); return 0; });
        Assert.Throws<EcsException>(() => _store.Write<int>("DeleteSecurityGroup", _account, s =>
        {
            s.Groups.Delete(_group);
            s.AddTrail(Event("DeleteSecurityGroup"));
            throw new EcsException(EcsErrors.GroupHasMembers());
        }));
        var refused = Event("DeleteSecurityGroup", "DependencyViolation");
        _store.RecordTrail(refused);
        Assert.Equal(global, _store.CurrentRevision());

        var trail = _store.Read(s => s.ListTrail(new ActionTrailQuery(_account, Max: 10)));
        Assert.Equal([(refused, (long?)null), (unchanged, null), (changed, revision)], trail.Select(e => (e.Entry, e.Revision)));
        Assert.True(trail[0].EventId > trail[1].EventId && trail[1].EventId > trail[2].EventId);
        Assert.Equal([changed], _store.Read(s => s.ListTrail(new ActionTrailQuery(_account, Action: "ModifySecurityGroupAttribute"))).Select(e => e.Entry));
        Assert.Equal([unchanged, changed], _store.Read(s => s.ListTrail(new ActionTrailQuery(_account, BeforeEventId: trail[0].EventId))).Select(e => e.Entry));
        Assert.Empty(_store.Read(s => s.ListTrail(new ActionTrailQuery(_account, From: DateTimeOffset.UtcNow.AddMinutes(1)))));
        Assert.Empty(_store.Read(s => s.ListTrail(new ActionTrailQuery(_account + 1))));
    }
}
