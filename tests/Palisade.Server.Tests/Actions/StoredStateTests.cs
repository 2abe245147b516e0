using CsCheck;
using Palisade.Domain.State;
using Palisade.Server.Tests.Support;
using Palisade.Storage.State;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 19: <see cref="StoredState.Load"/> reads a region's rules and its groups' and instances' tags in
/// one query each; its slow twin <see cref="StoredState.LoadRowByRow"/> one query per group and per
/// resource. Over random changes of two accounts (rules both ways, tags set, overwritten and removed,
/// instances run and deleted, ENIs attached, groups made in a second region), both give the same state,
/// compared as state files (every field the analysis reads). And the instances and ENIs of a region,
/// listed (their addresses and groups read by a subquery of the region), are each as found alone.
/// </summary>
public sealed class StoredStateTests
{
    private const string OtherRegion = "cn-shanghai";

    private sealed class Tenant(Scenario s, long accountId)
    {
        public Scenario S { get; } = s;
        public long AccountId { get; } = accountId;
        public string VSwitch { get; set; } = "";
        public List<string> Groups { get; } = [];
        public List<string> Instances { get; } = [];
    }

    private static string Both(TestControlPlane plane, long accountId, string region) =>
        plane.Store.Read(s =>
        {
            var fast = StateFileWriter.Write(StoredState.Load(s, accountId, region));
            var slow = StateFileWriter.Write(StoredState.LoadRowByRow(s, accountId, region));
            Assert.Equal(slow, fast);
            return fast;
        });

    /// <summary>
    /// The region's instances and ENIs as listed (their parts read for the whole region by a subquery)
    /// and each found alone, or an instance's ENIs listed with it (their parts read by the list of
    /// their IDs, the slow twin): the same records.
    /// </summary>
    private static void ListedAsFound(TestControlPlane plane, long accountId, string region) =>
        plane.Store.Read(s =>
        {
            var instances = s.Instances.List(accountId, region);
            Assert.Equal(instances.Select(i => Text(s.Instances.Find(accountId, i.Id)!)), instances.Select(Text));
            var enis = s.NetworkInterfaces.List(accountId, region);
            Assert.Equal(enis.Select(e => Text(s.NetworkInterfaces.Find(accountId, e.Id)!)), enis.Select(Text));
            foreach (var i in instances)
            {
                Assert.Equal(enis.Where(e => e.InstanceId == i.Id).Select(Text).Order(), s.NetworkInterfacesOf(i.Id).Select(Text).Order());
            }
            return 0;
        });

    private static string Text(Storage.Records.InstanceRecord i) =>
        $"{i with { PrivateAddresses = [], PublicAddresses = [], SecurityGroupIds = [] }} {string.Join(",", i.PrivateAddresses)} {string.Join(",", i.PublicAddresses)} {string.Join(",", i.SecurityGroupIds)}";

    private static string Text(Storage.Records.NetworkInterfaceRecord e) =>
        $"{e with { PrivateAddresses = [], SecurityGroupIds = [] }} {string.Join(",", e.PrivateAddresses)} {string.Join(",", e.SecurityGroupIds)}";

    [Fact]
    public async Task TheBatchedLoad_IsTheRowByRowLoad_OverRandomChanges()
    {
        await using var plane = await TestControlPlane.StartAsync();
        var tenants = new List<Tenant>();
        foreach (var name in new[] { "a", "b" })
        {
            var key = plane.NewAccount(name);
            var t = new Tenant(new Scenario(plane.Client(key)), key.AccountId);
            var vpc = await t.S.VpcAsync();
            t.VSwitch = await t.S.VSwitchAsync(vpc);
            t.Groups.Add(await t.S.GroupAsync(vpc, "web"));
            t.Groups.Add(await t.S.GroupAsync(vpc, "db"));
            t.Instances.AddRange(await t.S.RunAsync(t.Groups[0], t.VSwitch, 2));
            tenants.Add(t);
        }
        var steps = Gen.Select(Gen.Int[0, 1], Gen.Int[0, 9], Gen.Int[0, 1_000_000]).Array[60].Single();
        var checks = 0;
        foreach (var (who, step, n) in steps)
        {
            var t = tenants[who];
            var api = t.S.Api;
            T Pick<T>(List<T> items) => items[n % items.Count];
            switch (step)
            {
                case 0:
                case 1:
                    // A rule, ingress or egress, from an address or from another group.
                    var peer = step == 0 ? "Source" : "Dest";
                    var at = n % t.Groups.Count;
                    var rule = new Dictionary<string, string> { ["RegionId"] = Region, ["SecurityGroupId"] = t.Groups[at], ["IpProtocol"] = n % 3 == 0 ? "udp" : "tcp", ["PortRange"] = $"{n % 2000 + 1}/{n % 2000 + 1}" };
                    if (n % 2 == 0)
                        rule[peer + "CidrIp"] = $"10.{n % 200}.0.0/16";
                    else
                        rule[peer + "GroupId"] = t.Groups[(at + 1) % t.Groups.Count];
                    // A rule the group holds already is refused, and changes nothing.
                    await api.SendAsync(step == 0 ? "AuthorizeSecurityGroup" : "AuthorizeSecurityGroupEgress", rule);
                    break;
                case 2:
                {
                    var group = Pick(t.Groups);
                    var egress = n % 2 == 0;
                    var rules = await t.S.RulesAsync(group, egress ? "egress" : "ingress");
                    if (rules.Count > 0)
                        await api.CallAsync(egress ? "RevokeSecurityGroupEgress" : "RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = group, SecurityGroupRuleId = new[] { rules[n % rules.Count].Str("SecurityGroupRuleId") } });
                    break;
                }
                case 3:
                case 4:
                    // A tag set or overwritten, on a group or an instance (several keys each, in the order set).
                    var (type, id) = step == 3 ? ("securitygroup", Pick(t.Groups)) : ("instance", Pick(t.Instances));
                    await api.CallAsync("TagResources", new { RegionId = Region, ResourceType = type, ResourceId = new[] { id }, Tag = new[] { new { Key = $"k{n % 5}", Value = $"v{n % 7}" } } });
                    break;
                case 5:
                    await api.CallAsync("UntagResources", new { RegionId = Region, ResourceType = n % 2 == 0 ? "securitygroup" : "instance", ResourceId = new[] { n % 2 == 0 ? Pick(t.Groups) : Pick(t.Instances) }, TagKey = new[] { $"k{n % 5}" } });
                    break;
                case 6:
                    t.Instances.AddRange(await t.S.RunAsync(Pick(t.Groups), t.VSwitch));
                    break;
                case 7:
                    if (t.Instances.Count > 1)
                    {
                        var instance = Pick(t.Instances);
                        await api.CallAsync("DeleteInstance", new { InstanceId = instance, Force = true });
                        t.Instances.Remove(instance);
                    }
                    break;
                case 8:
                {
                    var eni = (await api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = t.VSwitch, SecurityGroupId = Pick(t.Groups) })).Str("NetworkInterfaceId");
                    // Some stay unattached (Available).
                    if (n % 3 != 0)
                        await api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = Pick(t.Instances) });
                    break;
                }
                default:
                {
                    // A classic group in another region, with a rule and a tag: not in this region's state, and its own.
                    var group = (await api.CallAsync("CreateSecurityGroup", new { RegionId = OtherRegion, SecurityGroupName = "far" })).Str("SecurityGroupId");
                    await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = OtherRegion, SecurityGroupId = group, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "192.0.2.1" });
                    await api.CallAsync("TagResources", new { RegionId = OtherRegion, ResourceType = "securitygroup", ResourceId = new[] { group }, Tag = new[] { new { Key = "far", Value = "yes" } } });
                    break;
                }
            }
            foreach (var each in tenants)
            {
                Both(plane, each.AccountId, Region);
                Both(plane, each.AccountId, OtherRegion);
                ListedAsFound(plane, each.AccountId, Region);
                checks++;
            }
        }
        // The states compared were not empty: rules and tags made it in.
        var final = Both(plane, tenants[0].AccountId, Region);
        Assert.Contains("\"Permissions\"", final, StringComparison.Ordinal);
        Assert.True(checks >= 120);
    }
}
