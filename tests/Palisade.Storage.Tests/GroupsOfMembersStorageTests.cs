using CsCheck;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// The members of a group with their own groups in one statement (issue 17, seventeenth session:
/// <c>GroupsOfMembers</c>, what a rule's limits are checked over) against its slow twin, the members
/// (<c>MembersOf</c>) each found in the account (<c>Instances.Find</c>): on random memberships of two
/// accounts' instances (a member of another account is not the asking account's), for every group, the
/// same instances in the same order with the same groups in their order; on SQLite, and on PostgreSQL
/// when the run asks for it.
/// </summary>
public sealed class GroupsOfMembersStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-members-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public GroupsOfMembersStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private const int Groups = 4;

    [Fact]
    public void TheMembersGroups_AreEachMembersOwn()
    {
        var round = 0;
        // Each instance: its account (0 or 1) and its groups (1 to 4, in a random order).
        var instance = Gen.Select(Gen.Int[0, 1], Gen.Int[0, Groups - 1].Array[1, 4].Select(g => g.Distinct().ToArray()));
        instance.Array[0, 12].Sample(instances =>
        {
            var r = Interlocked.Increment(ref round);
            var tag = $"gm{r}x";
            var at = Time.Truncate(DateTimeOffset.UtcNow);
            var (accounts, groups) = _store.Write("Seed", null, s =>
            {
                long[] accounts = [s.CreateAccount(tag + "a", at).AccountId, s.CreateAccount(tag + "b", at).AccountId];
                var vpc = VpcId.Parse($"vpc-{tag}");
                var vsw = VSwitchId.Parse($"vsw-{tag}");
                s.Vpcs.Insert(new VpcRecord(vpc, accounts[0], "cn-hangzhou", Cidr.Parse("10.0.0.0/8"), "", "", "Available", at));
                s.VSwitches.Insert(new VSwitchRecord(vsw, accounts[0], "cn-hangzhou", vpc, "cn-hangzhou-h", Cidr.Parse("10.0.0.0/16"), "", "", "Available", at));
                var groups = Enumerable.Range(0, Groups).Select(g => SecurityGroupId.Parse($"sg-{tag}g{g}")).ToArray();
                foreach (var g in groups)
                    s.Groups.Insert(new GroupRecord(g, accounts[0], "cn-hangzhou", vpc, g.Value, "", SecurityGroupType.Normal, InnerAccessPolicy.Accept, at));
                for (var i = 0; i < instances.Length; i++)
                {
                    var (account, mine) = instances[i];
                    var id = InstanceId.Parse($"i-{tag}{i}");
                    var address = new IpAddress(false, Cidr.Parse("10.0.0.0/16").First + (UInt128)(10 + i));
                    s.Instances.Insert(new InstanceRecord(id, accounts[account], "cn-hangzhou", "cn-hangzhou-h", "", "", NetworkType.Vpc, vpc, vsw, "Running", "img", "t",
                        [address], [], [.. mine.Select(g => groups[g])], at));
                }
                return (accounts, groups);
            });
            _store.Read(s =>
            {
                foreach (var account in accounts)
                {
                    foreach (var g in groups)
                    {
                        var slow = s.MembersOf(g).Select(m => s.Instances.Find(account, m)).OfType<InstanceRecord>()
                            .Select(i => $"{i.Id} {string.Join(",", i.SecurityGroupIds.Select(x => x.Value))}").ToList();
                        var fast = s.GroupsOfMembers(account, g).Select(m => $"{m.Instance} {string.Join(",", m.Groups.Select(x => x.Value))}").ToList();
                        Assert.Equal(slow, fast);
                    }
                }
                return 0;
            });
        }, iter: 30, threads: 1);
    }
}
