using CsCheck;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Storage.Records;
using Palisade.Storage.Sql;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// The hosts with a bound NIC in some groups (the host feed's scope, issue 17), read by two indexed
/// joins since the seeding of 10,000 hosts: against its slow twin, the same question answered over
/// the records (every binding whose instance, or one of that instance's ENIs, is in one of the
/// groups), on random fleets; on SQLite, and on PostgreSQL when the run asks for it.
/// </summary>
public sealed class HostScopeQueryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-scope-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public HostScopeQueryTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A random fleet: each instance's groups, its secondary ENIs' groups, which NICs are bound to which of a few hosts.</summary>
    private sealed record Fleet(int[][] InstanceGroups, (int Instance, int[] Groups)[] Secondaries, int?[] InstanceHost, int?[] SecondaryHost);

    private const int Groups = 5;
    private const int Hosts = 4;

    private static readonly Gen<int[]> GroupSet = Gen.Int[0, Groups - 1].Array[1, 2].Select(a => a.Distinct().ToArray());

    private static readonly Gen<Fleet> Fleets =
        from instances in GroupSet.Array[1, 12]
        from secondaries in Gen.Select(Gen.Int[0, 11], GroupSet).Array[0, 6]
        let attached = secondaries.Where(e => e.Item1 < instances.Length).Select(e => (e.Item1, e.Item2)).ToArray()
        from instanceHost in Gen.Int[0, Hosts].Select(h => h == Hosts ? (int?)null : h).Array[instances.Length]
        from secondaryHost in Gen.Int[0, Hosts].Select(h => h == Hosts ? (int?)null : h).Array[attached.Length]
        select new Fleet(instances, attached, instanceHost, secondaryHost);

    [Fact]
    public void HostsWithANicInTheGroups_AreThoseTheRecordsSay()
    {
        var round = 0;
        Fleets.Sample(fleet =>
        {
            round++;
            var (account, groupIds, bindings, instances, enis) = Seed(fleet, round);
            foreach (var asked in Enumerable.Range(1, (1 << Groups) - 1).Select(mask => groupIds.Where((_, g) => (mask & (1 << g)) != 0).ToArray()))
            {
                var fast = _store.Read(s => ((SqlSession)s).HostsWithNicIn([.. asked.Select(g => g.Value)])).Order(StringComparer.Ordinal).ToList();
                // The slow twin: a binding's host, when its instance or any ENI of that instance is in an asked group.
                var slow = bindings
                    .Where(b => instances[b.InstanceId].Intersect(asked).Any() || enis.Where(e => e.InstanceId == b.InstanceId).Any(e => e.SecurityGroupIds.Intersect(asked).Any()))
                    .Select(b => b.HostName).Distinct().Order(StringComparer.Ordinal).ToList();
                Assert.Equal(slow, fast);
            }
        }, iter: 25);
    }

    /// <summary>The fleet in a new account of its own: VPC, vSwitch, groups, instances with their primary ENIs, secondary ENIs, hosts and bindings.</summary>
    private (long Account, SecurityGroupId[] Groups, List<HostBindingRecord> Bindings, Dictionary<InstanceId, IReadOnlyList<SecurityGroupId>> Instances, List<NetworkInterfaceRecord> Enis)
        Seed(Fleet fleet, int round)
    {
        var at = Time.Truncate(DateTimeOffset.UtcNow);
        var tag = $"r{round}x";
        return _store.Write("Seed", null, s =>
        {
            var account = s.CreateAccount(tag, at).AccountId;
            var vpc = VpcId.Parse($"vpc-{tag}");
            var vsw = VSwitchId.Parse($"vsw-{tag}");
            s.Vpcs.Insert(new VpcRecord(vpc, account, "cn-hangzhou", Cidr.Parse("10.0.0.0/8"), "", "", "Available", at));
            s.VSwitches.Insert(new VSwitchRecord(vsw, account, "cn-hangzhou", vpc, "cn-hangzhou-h", Cidr.Parse("10.0.0.0/16"), "", "", "Available", at));
            var groups = Enumerable.Range(0, Groups).Select(g => SecurityGroupId.Parse($"sg-{tag}g{g}")).ToArray();
            foreach (var g in groups)
                s.Groups.Insert(new GroupRecord(g, account, "cn-hangzhou", vpc, g.Value, "", SecurityGroupType.Normal, InnerAccessPolicy.Accept, at));
            var hosts = Enumerable.Range(0, Hosts).Select(h => $"{tag}-host{h}").ToArray();
            foreach (var h in hosts)
                s.SaveHost(new HostRecord(h, Domain.Hosts.HostDeclaration.Parse("vnet*", "10.0.0.0/8"), at));
            var instances = new Dictionary<InstanceId, IReadOnlyList<SecurityGroupId>>();
            var enis = new List<NetworkInterfaceRecord>();
            var bindings = new List<HostBindingRecord>();
            var port = 0;
            for (var i = 0; i < fleet.InstanceGroups.Length; i++)
            {
                var id = InstanceId.Parse($"i-{tag}{i}");
                var address = new IpAddress(false, Cidr.Parse("10.0.0.0/16").First + (UInt128)(10 + i));
                SecurityGroupId[] mine = [.. fleet.InstanceGroups[i].Select(g => groups[g])];
                s.Instances.Insert(new InstanceRecord(id, account, "cn-hangzhou", "cn-hangzhou-h", "", "", NetworkType.Vpc, vpc, vsw, "Running", "img", "t", [address], [], mine, at));
                var primary = new NetworkInterfaceRecord(NetworkInterfaceId.Parse($"eni-{tag}p{i}"), account, "cn-hangzhou", "cn-hangzhou-h", vpc, vsw, id, NetworkInterfaceType.Primary, "", "", [address], mine, at);
                s.NetworkInterfaces.Insert(primary);
                instances[id] = mine;
                enis.Add(primary);
                if (fleet.InstanceHost[i] is { } h)
                {
                    var b = new HostBindingRecord(id, account, hosts[h], $"vnet{port++}", at) { NetworkInterfaceId = primary.Id };
                    s.SaveHostBinding(b);
                    bindings.Add(b);
                }
            }
            for (var e = 0; e < fleet.Secondaries.Length; e++)
            {
                var (i, gs) = fleet.Secondaries[e];
                var id = InstanceId.Parse($"i-{tag}{i}");
                var address = new IpAddress(false, Cidr.Parse("10.0.0.0/16").First + (UInt128)(1000 + e));
                var eni = new NetworkInterfaceRecord(NetworkInterfaceId.Parse($"eni-{tag}s{e}"), account, "cn-hangzhou", "cn-hangzhou-h", vpc, vsw, id, NetworkInterfaceType.Secondary, "", "",
                    [address], [.. gs.Select(g => groups[g])], at);
                s.NetworkInterfaces.Insert(eni);
                enis.Add(eni);
                if (fleet.SecondaryHost[e] is { } h)
                {
                    var b = new HostBindingRecord(id, account, hosts[h], $"vnet{port++}", at) { NetworkInterfaceId = eni.Id };
                    s.SaveHostBinding(b);
                    bindings.Add(b);
                }
            }
            return (account, groups, bindings, instances, enis);
        });
    }
}
