using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// Every account resource family (each descriptor of <see cref="Tables"/>) keeps tenants apart: two
/// accounts each hold one resource of the family in the same region, and neither finds, lists or
/// counts the other's. On SQLite, or on PostgreSQL when the run asks for it (<see cref="TestStores"/>).
/// </summary>
public sealed class AccountScopingTests : IDisposable
{
    private const string Region = "cn-hangzhou";
    private const string Zone = "cn-hangzhou-h";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-scoping-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public AccountScopingTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private static readonly DateTimeOffset At = Time.Truncate(DateTimeOffset.UtcNow);

    /// <summary>One family as the test drives it: make a resource of account <c>a</c> numbered <c>n</c> (and what it needs), and see it through the family's table.</summary>
    private sealed record Family(string Table, Func<IStoreSession, long, int, object> Insert, Func<IStoreSession, long, object, bool> Finds,
        Func<IStoreSession, long, IReadOnlyList<object>> List, Func<IStoreSession, long, int> Count);

    private static Family Of<TId, TRecord>(string table, Func<IStoreSession, IAccountTable<TId, TRecord>> of, Func<IStoreSession, long, int, TRecord> make, Func<TRecord, TId> id)
        where TId : notnull =>
        new(table,
            (s, a, n) =>
            {
                var record = make(s, a, n);
                of(s).Insert(record);
                return id(record);
            },
            (s, a, key) => of(s).Find(a, (TId)key) is not null,
            (s, a) => [.. of(s).List(a, Region).Select(r => (object)id(r))],
            (s, a) => of(s).Count(a, Region));

    private static VpcRecord Vpc(IStoreSession s, long a, int n)
    {
        var vpc = new VpcRecord(VpcId.Parse($"vpc-scope{n}"), a, Region, Cidr.Parse("10.0.0.0/16"), "v", "", "Available", At);
        s.Vpcs.Insert(vpc);
        return vpc;
    }

    private static VSwitchRecord VSwitch(IStoreSession s, long a, int n)
    {
        var vSwitch = new VSwitchRecord(VSwitchId.Parse($"vsw-scope{n}"), a, Region, Vpc(s, a, n).Id, Zone, Cidr.Parse("10.0.1.0/24"), "w", "", "Available", At);
        s.VSwitches.Insert(vSwitch);
        return vSwitch;
    }

    private static readonly Family[] Families =
    [
        Of("vpcs", s => s.Vpcs, (_, a, n) => new VpcRecord(VpcId.Parse($"vpc-scope{n}"), a, Region, Cidr.Parse("10.0.0.0/16"), "v", "", "Available", At), v => v.Id),
        Of("vswitches", s => s.VSwitches,
            (s, a, n) => new VSwitchRecord(VSwitchId.Parse($"vsw-scope{n}"), a, Region, Vpc(s, a, n).Id, Zone, Cidr.Parse("10.0.1.0/24"), "w", "", "Available", At), w => w.Id),
        Of("security_groups", s => s.Groups,
            (_, a, n) => new GroupRecord(SecurityGroupId.Parse($"sg-scope{n}"), a, Region, null, "g", "", SecurityGroupType.Normal, InnerAccessPolicy.Accept, At), g => g.Id),
        Of("instances", s => s.Instances,
            (_, a, n) => new InstanceRecord(InstanceId.Parse($"i-scope{n}"), a, Region, Zone, "i", "", NetworkType.Classic, null, null, "Running", "img", "ecs.t1",
                [IpAddress.Parse($"10.1.0.{n + 1}")], [], [], At), i => i.Id),
        Of("network_interfaces", s => s.NetworkInterfaces,
            (s, a, n) =>
            {
                var vSwitch = VSwitch(s, a, n);
                return new NetworkInterfaceRecord(NetworkInterfaceId.Parse($"eni-scope{n}"), a, Region, Zone, vSwitch.VpcId, vSwitch.Id, null, NetworkInterfaceType.Secondary,
                    "e", "", [IpAddress.Parse("10.0.1.5")], [], At);
            }, e => e.Id),
        Of("eip_addresses", s => s.Eips,
            (_, a, n) => new EipRecord($"eip-scope{n}", a, Region, IpAddress.Parse($"198.18.0.{n + 1}"), "p", "", 5, "PayByTraffic", "", null, null, At), e => e.AllocationId),
        Of("prefix_lists", s => s.PrefixLists,
            (_, a, n) => new PrefixListRecord(PrefixListId.Parse($"pl-scope{n}"), a, Region, false, 5, "l", "", "", At, [new(Cidr.Parse("10.9.0.0/16"), "e")]), l => l.Id),
        Of("port_range_lists", s => s.PortRangeLists,
            (_, a, n) => new PortRangeListRecord(PortRangeListId.Parse($"prl-scope{n}"), a, Region, 5, "r", "", "", At, [new(PortRange.ParseFor(IpProtocol.Tcp, "80/80").Value, "e")]),
            l => l.Id),
    ];

    [Fact]
    public void EveryFamilyDescriptor_IsCoveredHere() =>
        Assert.Equal(Tables.All.Select(t => t.Name).Order(), Families.Select(f => f.Table).Order());

    public static TheoryData<string> FamilyTables => [.. Families.Select(f => f.Table)];

    [Theory]
    [MemberData(nameof(FamilyTables))]
    public void AnAccount_NeverFindsListsOrCounts_AnotherAccountsResource(string table)
    {
        var family = Families.Single(f => f.Table == table);
        var (a, b) = (NewAccount("a"), NewAccount("b"));
        var ofA = _store.Write("Create", a, s => family.Insert(s, a, 0));
        var ofB = _store.Write("Create", b, s => family.Insert(s, b, 1));

        _store.Read(s =>
        {
            Assert.True(family.Finds(s, a, ofA));
            Assert.True(family.Finds(s, b, ofB));
            Assert.False(family.Finds(s, a, ofB));
            Assert.False(family.Finds(s, b, ofA));
            Assert.Equal([ofA], family.List(s, a));
            Assert.Equal([ofB], family.List(s, b));
            Assert.Equal(1, family.Count(s, a));
            Assert.Equal(1, family.Count(s, b));
            return 0;
        });
    }

    private long NewAccount(string name) => _store.Write("CreateAccount", null, s => s.CreateAccount(name, At)).AccountId;
}
