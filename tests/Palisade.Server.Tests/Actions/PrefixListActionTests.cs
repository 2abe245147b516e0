using System.Text.Json;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.State;
using Palisade.Storage.State;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 16 items 2 and 4: prefix lists and port-range lists as ECS resources, and rules naming
/// them — accepted, shown with their names, counted against the rule quota by their MaxEntries,
/// pinning the list against deletion, and deciding traffic by the list's current entries.
/// </summary>
public sealed class PrefixListActionTests : ControlPlaneTest
{
    private Scenario _s = null!;
    private string _vpc = "";
    private string _vsw = "";

    protected override async Task SetUpAsync()
    {
        _s = NewScenario();
        _vpc = await _s.VpcAsync();
        _vsw = await _s.VSwitchAsync(_vpc);
    }

    private async Task<string> PrefixListAsync(object extra) =>
        (await _s.Api.CallAsync("CreatePrefixList", Palisade.Client.EcsClient.Flatten(new { RegionId = Region }).Concat(Palisade.Client.EcsClient.Flatten(extra)))).Str("PrefixListId");

    private async Task<string> PortRangeListAsync(object extra) =>
        (await _s.Api.CallAsync("CreatePortRangeList", Palisade.Client.EcsClient.Flatten(new { RegionId = Region }).Concat(Palisade.Client.EcsClient.Flatten(extra)))).Str("PortRangeListId");

    private async Task<bool> AllowedAsync(string source, string instance, int port) =>
        (await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = source, Destination = instance, IpProtocol = "tcp", DestinationPort = port })).GetProperty("Allowed").GetBoolean();

    [Fact]
    public async Task APrefixList_IsCreated_Described_Modified_AndDeleted_AsEcsAnswers()
    {
        var id = await PrefixListAsync(new
        {
            AddressFamily = "IPv4", MaxEntries = 5, PrefixListName = "office", Description = "office egress",
            Entry = new[] { new { Cidr = "192.168.1.0/24", Description = "hq" }, new { Cidr = "10.0.0.7", Description = "vpn" } },
            Tag = new[] { new { Key = "team", Value = "net" } }, ResourceGroupId = "rg-net1",
        });
        Assert.StartsWith("pl-", id, StringComparison.Ordinal);

        var item = (await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region })).Items("PrefixLists", "PrefixList").Single();
        Assert.Equal(id, item.Str("PrefixListId"));
        Assert.Equal("office", item.Str("PrefixListName"));
        Assert.Equal("office egress", item.Str("Description"));
        Assert.Equal("IPv4", item.Str("AddressFamily"));
        Assert.Equal(5, item.GetProperty("MaxEntries").GetInt32());
        Assert.Equal(0, item.GetProperty("AssociationCount").GetInt32());
        Assert.Equal("rg-net1", item.Str("ResourceGroupId"));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", item.Str("CreationTime"));
        Assert.Equal("team=net", string.Join(",", item.Items("Tags", "Tag").Select(t => $"{t.Str("TagKey")}={t.Str("TagValue")}")));

        async Task<string> EntriesAsync() => string.Join(",", (await _s.Api.CallAsync("DescribePrefixListAttributes", new { RegionId = Region, PrefixListId = id }))
            .Items("Entries", "Entry").Select(e => $"{e.Str("Cidr")}:{e.Str("Description")}"));
        // A bare address is kept as its /32 (CreatePrefixList's notes).
        Assert.Equal("192.168.1.0/24:hq,10.0.0.7/32:vpn", await EntriesAsync());

        // Remove one, add one, re-describe one (AddEntry of a block it holds), rename.
        await _s.Api.CallAsync("ModifyPrefixList", new
        {
            RegionId = Region, PrefixListId = id, PrefixListName = "office-v2", Description = "second",
            RemoveEntry = new[] { new { Cidr = "10.0.0.7/32" } },
            AddEntry = new[] { new { Cidr = "192.168.1.0/24", Description = "headquarters" }, new { Cidr = "172.16.0.0/12", Description = "" } },
        });
        Assert.Equal("192.168.1.0/24:headquarters,172.16.0.0/12:", await EntriesAsync());
        var attributes = await _s.Api.CallAsync("DescribePrefixListAttributes", new { RegionId = Region, PrefixListId = id });
        Assert.Equal(("office-v2", "second", "IPv4", 5), (attributes.Str("PrefixListName"), attributes.Str("Description"), attributes.Str("AddressFamily"), attributes.GetProperty("MaxEntries").GetInt32()));

        // Filters.
        Assert.Single((await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region, PrefixListName = "office-v2" })).Items("PrefixLists", "PrefixList"));
        Assert.Empty((await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region, AddressFamily = "IPv6" })).Items("PrefixLists", "PrefixList"));
        Assert.Single((await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region, PrefixListId = new[] { id } })).Items("PrefixLists", "PrefixList"));
        Assert.Empty((await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region, Tag = new[] { new { Key = "team", Value = "other" } } })).Items("PrefixLists", "PrefixList"));

        await _s.Api.CallAsync("DeletePrefixList", new { RegionId = Region, PrefixListId = id });
        Assert.Empty((await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region })).Items("PrefixLists", "PrefixList"));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribePrefixListAttributes", new { RegionId = Region, PrefixListId = id }), "InvalidPrefixListId.NotFound", 404);
    }

    [Fact]
    public async Task BadPrefixListRequests_GetTheirErrors_AndChangeNothing()
    {
        var id = await PrefixListAsync(new { AddressFamily = "IPv4", MaxEntries = 2, PrefixListName = "small", Entry = new[] { new { Cidr = "10.0.0.0/8" } } });
        var before = Plane.Store.CurrentRevision();
        Task Create(object o) => PrefixListAsync(o);
        Task Modify(object o) => _s.Api.CallAsync("ModifyPrefixList", Palisade.Client.EcsClient.Flatten(new { RegionId = Region, PrefixListId = id }).Concat(Palisade.Client.EcsClient.Flatten(o)));

        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", PrefixListName = "x1" }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 0, PrefixListName = "x1" }), "InvalidOperation.MaxEntriesCountExceed", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 201, PrefixListName = "x1" }), "InvalidOperation.MaxEntriesCountExceed", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "ipv5", MaxEntries = 1, PrefixListName = "x1" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "1abc" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "com.aliyun.x" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "ok", Description = "http://x" }), "InvalidDescription.Malformed", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "ok", Entry = new[] { new { Cidr = "10.0.0.1/8" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "ok", Entry = new[] { new { Cidr = "2001:db8::/32" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv6", MaxEntries = 1, PrefixListName = "ok", Entry = new[] { new { Cidr = "10.0.0.0/8" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 3, PrefixListName = "ok", Entry = new[] { new { Cidr = "10.0.0.1" }, new { Cidr = "10.0.0.1/32" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Create(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "ok", Entry = new[] { new { Cidr = "10.0.0.1" }, new { Cidr = "10.0.0.2" } } }), "InvalidParameter", 400);

        await ApiAssert.FailsAsync(() => Modify(new { AddEntry = new[] { new { Cidr = "11.0.0.0/8" }, new { Cidr = "12.0.0.0/8" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Modify(new { RemoveEntry = new[] { new { Cidr = "11.0.0.0/8" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Modify(new { AddEntry = new[] { new { Cidr = "10.0.0.0/8" } }, RemoveEntry = new[] { new { Cidr = "10.0.0.0/8" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Modify(new { AddEntry = new[] { new { Cidr = "2001:db8::/32" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Modify(new { PrefixListName = "-bad" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifyPrefixList", new { RegionId = Region, PrefixListId = "pl-nothere0000000000" }), "InvalidPrefixListId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeletePrefixList", new { RegionId = Region, PrefixListId = "not-an-id" }), "InvalidPrefixListId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribePrefixListAssociations", new { RegionId = Region }), "MissingParameter", 400);
        // Another region does not hold it.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribePrefixListAttributes", new { RegionId = "cn-beijing", PrefixListId = id }), "InvalidPrefixListId.NotFound", 404);
        Assert.Equal(before, Plane.Store.CurrentRevision());
    }

    [Fact]
    public async Task RulesNamingAPrefixList_AreAccepted_Shown_Pinned_AndFollowItsEntries()
    {
        var pl = await PrefixListAsync(new { AddressFamily = "IPv4", MaxEntries = 10, PrefixListName = "partners", Entry = new[] { new { Cidr = "203.0.113.0/24" } } });
        var sg = await _s.GroupAsync(_vpc, "api");
        var instance = (await _s.RunAsync(sg, _vsw)).Single();
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "443/443", SourcePrefixListId = pl });
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "443/443", DestPrefixListId = pl }, egress: true);

        var rules = await _s.RulesAsync(sg);
        var ingress = rules.Single(r => r.Str("Direction") == "ingress");
        Assert.Equal((pl, "partners", ""), (ingress.Str("SourcePrefixListId"), ingress.Str("SourcePrefixListName"), ingress.Str("SourceCidrIp")));
        var egress = rules.Single(r => r.Str("Direction") == "egress");
        Assert.Equal((pl, "partners"), (egress.Str("DestPrefixListId"), egress.Str("DestPrefixListName")));

        var associations = (await _s.Api.CallAsync("DescribePrefixListAssociations", new { RegionId = Region, PrefixListId = pl })).Items("PrefixListAssociations", "PrefixListAssociation");
        Assert.Equal($"{sg}:securitygroup", string.Join(",", associations.Select(a => $"{a.Str("ResourceId")}:{a.Str("ResourceType")}")));
        Assert.Equal(1, (await _s.Api.CallAsync("DescribePrefixLists", new { RegionId = Region })).Items("PrefixLists", "PrefixList").Single().GetProperty("AssociationCount").GetInt32());
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeletePrefixList", new { RegionId = Region, PrefixListId = pl }), "NotAllowed.AssociationExist", 400);

        // The decision follows the list's entries, from the next revision on.
        Assert.True(await AllowedAsync("203.0.113.9", instance, 443));
        Assert.False(await AllowedAsync("198.51.100.9", instance, 443));
        await _s.Api.CallAsync("ModifyPrefixList", new { RegionId = Region, PrefixListId = pl, AddEntry = new[] { new { Cidr = "198.51.100.0/24" } }, RemoveEntry = new[] { new { Cidr = "203.0.113.0/24" } } });
        Assert.False(await AllowedAsync("203.0.113.9", instance, 443));
        Assert.True(await AllowedAsync("198.51.100.9", instance, 443));

        // The exported state carries the list, so offline analysis and agents see the same entries.
        var export = await _s.Api.CallAsync("ExportSecurityState", new { RegionId = Region });
        Assert.Contains("198.51.100.0/24", export.GetRawText(), StringComparison.Ordinal);

        // Revoking both rules frees the list.
        await _s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "443/443", SourcePrefixListId = pl });
        await _s.Api.CallAsync("RevokeSecurityGroupEgress", new { RegionId = Region, SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "443/443", DestPrefixListId = pl });
        await _s.Api.CallAsync("DeletePrefixList", new { RegionId = Region, PrefixListId = pl });
    }

    [Fact]
    public async Task RulesNamingLists_AreRefused_WhereEcsRefusesThem()
    {
        var v4 = await PrefixListAsync(new { AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "v4" });
        var v6 = await PrefixListAsync(new { AddressFamily = "IPv6", MaxEntries = 1, PrefixListName = "v6" });
        var sg = await _s.GroupAsync(_vpc, "api");
        var classic = await _s.GroupAsync(null, "classic");
        var before = Plane.Store.CurrentRevision();
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1/1", SourcePrefixListId = "pl-nothere0000000000" }), "InvalidPrefixListId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(classic, new { IpProtocol = "tcp", PortRange = "1/1", SourcePrefixListId = v4 }), "NotSupported.ClassicNetworkPrefixList", 400);
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(sg, new { IpProtocol = "icmp", PortRange = "-1/-1", SourcePrefixListId = v6 }), "InvalidParam.Ipv4ProtocolConflictWithIpv6Address", 400);
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1/1", SourcePrefixListId = v6, DestCidrIp = "192.168.1.0/24" }), "InvalidParam.PrefixListAddressFamilyMismatch", 400);
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRangeListId = "prl-nothere000000000", SourceCidrIp = "10.0.0.0/8" }), "InvalidPortRangeListId.NotFound", 404);
        Assert.Equal(before, Plane.Store.CurrentRevision());
        // An IPv6 list is fine for TCP.
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1/1", SourcePrefixListId = v6 });
    }

    /// <summary>
    /// ECS counts a rule naming a prefix list as its MaxEntries rules (ecs-api.md §2.6, "Limits"), and
    /// one naming a port-range list as that list's MaxEntries (CreatePortRangeList's notice).
    /// </summary>
    [Fact]
    public async Task AListsMaxEntries_CountsAgainstTheRuleQuota_OfEveryGroupThatUsesIt()
    {
        var big = await PrefixListAsync(new { AddressFamily = "IPv4", MaxEntries = 150, PrefixListName = "big" });
        var ports = await PortRangeListAsync(new { MaxEntries = 60, PortRangeListName = "ports" });
        var sg = await _s.GroupAsync(_vpc, "api");
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1/1", SourcePrefixListId = big });
        // 150 used: 50 plain rules fit, the 51st does not.
        await _s.Api.CallAsync("AuthorizeSecurityGroup", Palisade.Client.EcsClient.Flatten(new
        {
            RegionId = Region, SecurityGroupId = sg,
            Permissions = Enumerable.Range(1, 50).Select(i => new { IpProtocol = "tcp", PortRange = $"{i + 100}/{i + 100}", SourceCidrIp = "10.0.0.0/8" }).ToArray(),
        }));
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "9/9", SourceCidrIp = "10.0.0.0/8" }), "AuthorizationLimitExceed", 403);
        // A port-range list counts by its MaxEntries too: a second group holds one such rule (60), not 141 more plain ones.
        var other = await _s.GroupAsync(_vpc, "other");
        await _s.AuthorizeAsync(other, new { IpProtocol = "tcp", PortRangeListId = ports, SourceCidrIp = "10.0.0.0/8" });
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(other, new { IpProtocol = "tcp", PortRangeListId = ports, SourcePrefixListId = big }), "AuthorizationLimitExceed", 403);
        Assert.Single(await _s.RulesAsync(other));
    }

    [Fact]
    public async Task APortRangeList_IsCreated_Described_Modified_UsedByRules_AndDeleted()
    {
        var id = await PortRangeListAsync(new
        {
            MaxEntries = 3, PortRangeListName = "web", Description = "web ports",
            Entry = new[] { new { PortRange = "80/80", Description = "http" }, new { PortRange = "8000/8010", Description = "" } },
            Tag = new[] { new { Key = "team", Value = "web" } },
        });
        Assert.StartsWith("prl-", id, StringComparison.Ordinal);
        var item = (await _s.Api.CallAsync("DescribePortRangeLists", new { RegionId = Region })).GetProperty("PortRangeLists").EnumerateArray().Single();
        Assert.Equal((id, "web", "web ports", 3, 0), (item.Str("PortRangeListId"), item.Str("PortRangeListName"), item.Str("Description"), item.GetProperty("MaxEntries").GetInt32(), item.GetProperty("AssociationCount").GetInt32()));
        Assert.Equal("team=web", string.Join(",", item.GetProperty("Tags").EnumerateArray().Select(t => $"{t.Str("TagKey")}={t.Str("TagValue")}")));

        async Task<string> EntriesAsync() => string.Join(",", (await _s.Api.CallAsync("DescribePortRangeListEntries", new { RegionId = Region, PortRangeListId = id }))
            .GetProperty("Entries").EnumerateArray().Select(e => $"{e.Str("PortRange")}:{e.Str("Description")}"));
        Assert.Equal("80/80:http,8000/8010:", await EntriesAsync());

        var sg = await _s.GroupAsync(_vpc, "web");
        var instance = (await _s.RunAsync(sg, _vsw)).Single();
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRangeListId = id, SourceCidrIp = "0.0.0.0/0" });
        var rule = (await _s.RulesAsync(sg)).Single();
        Assert.Equal((id, "web", ""), (rule.Str("PortRangeListId"), rule.Str("PortRangeListName"), rule.Str("PortRange")));
        Assert.True(await AllowedAsync("203.0.113.9", instance, 8005));
        Assert.False(await AllowedAsync("203.0.113.9", instance, 443));

        await _s.Api.CallAsync("ModifyPortRangeList", new { RegionId = Region, PortRangeListId = id, PortRangeListName = "web2", AddEntry = new[] { new { PortRange = "443/443", Description = "https" } }, RemoveEntry = new[] { new { PortRange = "8000/8010" } } });
        Assert.Equal("80/80:http,443/443:https", await EntriesAsync());
        Assert.True(await AllowedAsync("203.0.113.9", instance, 443));
        Assert.False(await AllowedAsync("203.0.113.9", instance, 8005));

        var associations = (await _s.Api.CallAsync("DescribePortRangeListAssociations", new { RegionId = Region, PortRangeListId = id })).GetProperty("PortRangeListAssociations").EnumerateArray();
        Assert.Equal($"{sg}:SecurityGroup", string.Join(",", associations.Select(a => $"{a.Str("ResourceId")}:{a.Str("ResourceType")}")));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeletePortRangeList", new { RegionId = Region, PortRangeListId = id }), "InvalidPortRangeListId.AssociationExist", 400);

        // Bad input changes nothing.
        var before = Plane.Store.CurrentRevision();
        Task Modify(object o) => _s.Api.CallAsync("ModifyPortRangeList", Palisade.Client.EcsClient.Flatten(new { RegionId = Region, PortRangeListId = id }).Concat(Palisade.Client.EcsClient.Flatten(o)));
        await ApiAssert.FailsAsync(() => Modify(new { AddEntry = new[] { new { PortRange = "1/2" }, new { PortRange = "3/4" } } }), "InvalidOperation.EntryCountExceedMaxEntries", 400);
        await ApiAssert.FailsAsync(() => Modify(new { AddEntry = new[] { new { PortRange = "0/2" } } }), "InvalidParameter.PortRange", 400);
        await ApiAssert.FailsAsync(() => Modify(new { AddEntry = new[] { new { PortRange = "5/5" }, new { PortRange = "5/5" } } }), "InvalidParameter.PortRangeDuplicated", 400);
        await ApiAssert.FailsAsync(() => Modify(new { RemoveEntry = new[] { new { PortRange = "9/9" } } }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Modify(new { PortRangeListName = "9lives" }), "InvalidParameter.PortRangeListName", 400);
        await ApiAssert.FailsAsync(() => PortRangeListAsync(new { MaxEntries = 2001, PortRangeListName = "x1" }), "InvalidOperation.MaxEntriesCountExceed", 400);
        await ApiAssert.FailsAsync(() => PortRangeListAsync(new { MaxEntries = 1, PortRangeListName = "x1", Entry = new[] { new { PortRange = "1/1" }, new { PortRange = "2/2" } } }), "InvalidOperation.EntryCountExceedMaxEntries", 400);
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(sg, new { IpProtocol = "icmp", PortRangeListId = id, SourceCidrIp = "10.0.0.0/8" }), "InvalidParam.ProtocolNotSupportPortRangeList", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribePortRangeListEntries", new { RegionId = Region, PortRangeListId = "prl-nothere000000000" }), "InvalidPortRangeListId.NotFound", 404);
        Assert.Equal(before, Plane.Store.CurrentRevision());

        await _s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = sg, SecurityGroupRuleId = new[] { rule.Str("SecurityGroupRuleId") } });
        await _s.Api.CallAsync("DeletePortRangeList", new { RegionId = Region, PortRangeListId = id });
        Assert.Empty((await _s.Api.CallAsync("DescribePortRangeLists", new { RegionId = Region })).GetProperty("PortRangeLists").EnumerateArray());
    }
    /// <summary>Issue 16 item 5: a prefix-list edit is a change the what-if (a dry run's Impact) sees, flow by flow.</summary>
    [Fact]
    public async Task ADryRunOfAPrefixListEdit_SaysWhichFlowsItWouldClose()
    {
        var web = await _s.GroupAsync(_vpc, "web");
        var db = await _s.GroupAsync(_vpc, "db");
        var webInstance = (await _s.RunAsync(web, _vsw)).Single();
        var dbInstance = (await _s.RunAsync(db, _vsw)).Single();
        var webAddress = (await _s.InstanceAsync(webInstance)).GetProperty("VpcAttributes").Items("PrivateIpAddress", "IpAddress").Single().GetString()!;
        var pl = await PrefixListAsync(new { AddressFamily = "IPv4", MaxEntries = 5, PrefixListName = "apps", Entry = new[] { new { Cidr = webAddress } } });
        await _s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "5432/5432", SourcePrefixListId = pl });
        var revision = Plane.Store.CurrentRevision();

        var e = await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifyPrefixList", new { RegionId = Region, PrefixListId = pl, RemoveEntry = new[] { new { Cidr = webAddress } }, DryRun = true }), "DryRunOperation", 400);
        var impact = e.Response.Json.GetProperty("Impact");
        Assert.True(impact.GetProperty("Computed").GetBoolean());
        var lost = Assert.Single(impact.Items("Lost", "Flow"));
        Assert.Equal((webInstance, dbInstance, "TCP", "5432/5432"), (lost.Str("Source"), lost.Str("Target"), lost.Str("IpProtocol"), lost.Items("PortRanges", "PortRange").Single().GetString()));
        Assert.Empty(impact.Items("Gained", "Flow"));
        Assert.Equal(revision, Plane.Store.CurrentRevision());

        // The same question as DescribeChangeImpact (what the console's confirmation asks), and a port-range list's.
        var asked = await _s.Api.CallAsync("DescribeChangeImpact", new { RegionId = Region, ChangeAction = "ModifyPrefixList", PrefixListId = pl, RemoveEntry = new[] { new { Cidr = webAddress } } });
        Assert.Equal((webInstance, dbInstance, "TCP"), asked.GetProperty("Impact").Items("Lost", "Flow").Select(f => (f.Str("Source"), f.Str("Target"), f.Str("IpProtocol"))).Single());
        var ports = await PortRangeListAsync(new { MaxEntries = 3, PortRangeListName = "admin", Entry = new[] { new { PortRange = "8000/8010" } } });
        await _s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRangeListId = ports, SourceCidrIp = webAddress });
        var widened = await _s.Api.CallAsync("DescribeChangeImpact", new { RegionId = Region, ChangeAction = "ModifyPortRangeList", PortRangeListId = ports, AddEntry = new[] { new { PortRange = "9000/9000" } } });
        var gained = Assert.Single(widened.GetProperty("Impact").Items("Gained", "Flow"));
        Assert.Equal((webInstance, dbInstance, "9000/9000"), (gained.Str("Source"), gained.Str("Target"), gained.Items("PortRanges", "PortRange").Single().GetString()));
        Assert.Empty(widened.GetProperty("Impact").Items("Lost", "Flow"));
    }

    /// <summary>
    /// A dry run's states before and after a list edit are read from the store apart; they differ only
    /// in the list's entries, so the dry run compares them on one matrix (<c>ImpactAnalysis.Between</c>'s
    /// list path), not two.
    /// </summary>
    [Fact]
    public async Task AListEdit_ReadFromTheStoreBeforeAndAfter_DiffersOnlyInTheListsEntries()
    {
        var key = Plane.NewAccount("listedit");
        var s = new Scenario(Plane.Client(key));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var db = await s.GroupAsync(vpc, "db");
        await s.RunAsync(db, vsw, 2);
        var pl = (await s.Api.CallAsync("CreatePrefixList", new { RegionId = Region, AddressFamily = "IPv4", MaxEntries = 5, PrefixListName = "apps", Entry = new[] { new { Cidr = "10.0.0.0/24" } } })).Str("PrefixListId");
        await s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "5432/5432", SourcePrefixListId = pl });
        NetworkState Load() => Plane.Store.Read(session => StoredState.Load(session, key.AccountId, Region));
        var before = Load();
        Assert.Null(StateDifference.PrefixListEntriesOnly(before, Load()));

        await s.Api.CallAsync("ModifyPrefixList", new { RegionId = Region, PrefixListId = pl, AddEntry = new[] { new { Cidr = "0.0.0.0/0" } } });
        var edited = Assert.Single(StateDifference.PrefixListEntriesOnly(before, Load())!);
        Assert.Equal(pl, edited.Id.Value);
        Assert.Equal(["0.0.0.0/0", "10.0.0.0/24"], edited.Entries.Select(e => e.ToString()).Order(StringComparer.Ordinal));
    }

    /// <summary>Issue 16 item 5: a prefix list holding 0.0.0.0/0 behind a sensitive port is the internet on that port, for the audit.</summary>
    [Fact]
    public async Task TheAudit_SeesAPrefixListHoldingTheWholeInternet_BehindASensitivePort()
    {
        var pl = await PrefixListAsync(new { AddressFamily = "IPv4", MaxEntries = 2, PrefixListName = "anyone", Entry = new[] { new { Cidr = "0.0.0.0/0" } } });
        var db = await _s.GroupAsync(_vpc, "db");
        var instance = (await _s.RunAsync(db, _vsw)).Single();
        await _s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "3306/3306", SourcePrefixListId = pl });
        var findings = (await _s.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding").ToList();
        var open = Assert.Single(findings, f => f.Str("Check") is "risky-port-open" or "risky-port-exposed");
        Assert.Equal((db, instance), (open.Str("SecurityGroupId"), open.Str("InstanceId")));
        Assert.Contains("3306", open.Str("Message"), StringComparison.Ordinal);

        // The same list narrowed to a known block: no finding.
        await _s.Api.CallAsync("ModifyPrefixList", new { RegionId = Region, PrefixListId = pl, AddEntry = new[] { new { Cidr = "203.0.113.0/24" } }, RemoveEntry = new[] { new { Cidr = "0.0.0.0/0" } } });
        findings = (await _s.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding").ToList();
        Assert.DoesNotContain(findings, f => f.Str("Check") is "risky-port-open" or "risky-port-exposed");
    }
}
