using Palisade.Client;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The console's two questions on the live control plane: ExplainFlow (one flow, one decision and
/// why, as <c>palisade eval</c>) and DescribeReachability (the group picture, as <c>reach --matrix</c>).
/// </summary>
public sealed class FlowAndReachabilityActionTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    private async Task<(string Web, string Redis, string WebInstance, string RedisInstance, string DropRule)> RedisBehindWebAsync()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var redis = await _s.GroupAsync(vpc, "redis");
        await _s.AuthorizeAsync(redis, new { IpProtocol = "tcp", PortRange = "6379/6379", SourceGroupId = web, Priority = "10" });
        await _s.AuthorizeAsync(redis, new { IpProtocol = "tcp", PortRange = "1/65535", SourceCidrIp = "192.168.0.0/16", Policy = "drop", Priority = "20" });
        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        var drop = (await _s.RulesAsync(redis, "ingress")).Single(r => r.Str("Policy") == "Drop").Str("SecurityGroupRuleId");
        return (web, redis, (await _s.RunAsync(web, vsw)).Single(), (await _s.RunAsync(redis, vsw)).Single(), drop);
    }

    [Fact]
    public async Task ExplainFlow_NamesTheDecidingRule_AndTheRulesItBeat()
    {
        var (web, redis, webInstance, redisInstance, drop) = await RedisBehindWebAsync();

        var allowed = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "tcp", DestinationPort = 6379 });
        Assert.True(allowed.GetProperty("Allowed").GetBoolean());
        var ingress = allowed.GetProperty("Ingress");
        Assert.Equal((true, redisInstance, "accept", "rule"), (ingress.GetProperty("Checked").GetBoolean(), ingress.Str("InstanceId"), ingress.Str("Verdict"), ingress.Str("Reason")));
        Assert.Equal((redis, 10), (ingress.GetProperty("DecidedBy").Str("SecurityGroupId"), ingress.GetProperty("DecidedBy").GetProperty("Priority").GetInt32()));
        var beaten = Assert.Single(ingress.Items("Beaten", "Rule"));
        Assert.Equal((drop, "drop"), (beaten.Str("SecurityGroupRuleId"), beaten.Str("Policy")));
        Assert.StartsWith("accept by rule sgr-", ingress.Str("Explanation"));
        var egress = allowed.GetProperty("Egress");
        Assert.Equal(("accept", "default"), (egress.Str("Verdict"), egress.Str("Reason")));

        // The same two instances on another port: the drop at priority 20 decides.
        var denied = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "TCP", DestinationPort = 22 });
        Assert.False(denied.GetProperty("Allowed").GetBoolean());
        Assert.Equal(drop, denied.GetProperty("Ingress").GetProperty("DecidedBy").Str("SecurityGroupRuleId"));

        // From an address outside the region: only the destination's ingress is asked.
        var outside = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = "203.0.113.7", Destination = webInstance, IpProtocol = "tcp", DestinationPort = 443 });
        Assert.True(outside.GetProperty("Allowed").GetBoolean());
        Assert.False(outside.GetProperty("Egress").GetProperty("Checked").GetBoolean());
        Assert.Equal(web, outside.GetProperty("Ingress").GetProperty("DecidedBy").Str("SecurityGroupId"));
    }

    /// <summary>
    /// Issue 16: an instance with a secondary ENI in another group answers by the ENI that owns the
    /// flow's address, and ExplainFlow names that ENI at each end (as <c>palisade eval</c> does).
    /// </summary>
    [Fact]
    public async Task ExplainFlow_NamesTheEniWhoseGroupsDecided_AtEachEnd()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var mgmt = await _s.GroupAsync(vpc, "mgmt");
        var admin = await _s.GroupAsync(vpc, "admin");
        await _s.AuthorizeAsync(mgmt, new { IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = admin });
        var gateway = (await _s.RunAsync(web, vsw)).Single();
        var adminInstance = (await _s.RunAsync(admin, vsw)).Single();
        var eni = (await _s.Api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = mgmt, PrimaryIpAddress = "192.168.1.200" })).Str("NetworkInterfaceId");
        await _s.Api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = gateway });
        var gatewayNics = (await _s.InstanceAsync(gateway)).Items("NetworkInterfaces", "NetworkInterface").ToList();
        var primary = gatewayNics.Single(n => n.Str("Type") == "Primary");
        var primaryAddress = primary.Str("PrimaryIpAddress");
        var adminEni = (await _s.InstanceAsync(adminInstance)).Items("NetworkInterfaces", "NetworkInterface").Single().Str("NetworkInterfaceId");

        // SSH to the secondary ENI's address: its group (mgmt) admits the admin group.
        var toEni = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = adminInstance, Destination = "192.168.1.200", IpProtocol = "tcp", DestinationPort = 22 });
        Assert.True(toEni.GetProperty("Allowed").GetBoolean());
        var ingress = toEni.GetProperty("Ingress");
        Assert.Equal((gateway, eni, mgmt), (ingress.Str("InstanceId"), ingress.Str("NetworkInterfaceId"), ingress.GetProperty("DecidedBy").Str("SecurityGroupId")));
        Assert.Equal((adminInstance, adminEni), (toEni.GetProperty("Egress").Str("InstanceId"), toEni.GetProperty("Egress").Str("NetworkInterfaceId")));

        // The same instance at its primary address: the primary ENI (group web) decides, and drops.
        var toPrimary = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = adminInstance, Destination = primaryAddress, IpProtocol = "tcp", DestinationPort = 22 });
        Assert.False(toPrimary.GetProperty("Allowed").GetBoolean());
        Assert.Equal((gateway, primary.Str("NetworkInterfaceId"), "default"),
            (toPrimary.GetProperty("Ingress").Str("InstanceId"), toPrimary.GetProperty("Ingress").Str("NetworkInterfaceId"), toPrimary.GetProperty("Ingress").Str("Reason")));

        // From the secondary ENI's address as the source: its egress is the ENI's.
        var fromEni = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = "192.168.1.200", Destination = adminInstance, IpProtocol = "icmp" });
        Assert.Equal((gateway, eni), (fromEni.GetProperty("Egress").Str("InstanceId"), fromEni.GetProperty("Egress").Str("NetworkInterfaceId")));

        // An end outside the region names no ENI.
        var outside = await _s.Api.CallAsync("ExplainFlow", new { RegionId = Region, Source = "203.0.113.7", Destination = "192.168.1.200", IpProtocol = "tcp", DestinationPort = 22 });
        Assert.Equal(("", eni), (outside.GetProperty("Egress").Str("NetworkInterfaceId"), outside.GetProperty("Ingress").Str("NetworkInterfaceId")));
    }

    [Fact]
    public async Task ExplainFlow_RefusesWhatItCannotAsk()
    {
        var (_, _, webInstance, redisInstance, _) = await RedisBehindWebAsync();
        var revision = Plane.Store.CurrentRevision();
        async Task Fails(object parameters, string code, int status) =>
            await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ExplainFlow", EcsClient.Flatten(parameters)), code, status);

        await Fails(new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "tcp" }, "MissingParameter", 400);
        await Fails(new { RegionId = Region, Source = webInstance, Destination = redisInstance }, "MissingParameter", 400);
        await Fails(new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "tcp", DestinationPort = 70000 }, "InvalidParameter", 400);
        await Fails(new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "sctp" }, "InvalidParameter", 400);
        await Fails(new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "icmp", DestinationPort = 1 }, "InvalidParameter", 400);
        await Fails(new { RegionId = Region, Source = "i-doesnotexist00000000", Destination = redisInstance, IpProtocol = "icmp" }, "InvalidInstanceId.NotFound", 404);
        await Fails(new { RegionId = Region, Source = "not an address", Destination = redisInstance, IpProtocol = "icmp" }, "InvalidParameter", 400);
        await Fails(new { RegionId = Region, Source = "203.0.113.7", Destination = "198.51.100.1", IpProtocol = "icmp" }, "InvalidParameter", 400);
        await Fails(new { RegionId = Region, Source = "2001:db8::1", Destination = "203.0.113.1", IpProtocol = "icmp" }, "InvalidParameter", 400);
        await Fails(new { RegionId = Region, Source = webInstance, Destination = redisInstance, IpProtocol = "icmp", NicType = "wifi" }, "InvalidNicType.ValueNotSupported", 400);
        await Fails(new { Source = webInstance, Destination = redisInstance, IpProtocol = "icmp" }, "MissingParameter.RegionId", 400);
        Assert.Equal(revision, Plane.Store.CurrentRevision());
    }

    [Fact]
    public async Task DescribeReachability_DrawsGroupsAsNodes_AndAllowedFlowsAsEdges()
    {
        var (web, redis, _, _, _) = await RedisBehindWebAsync();
        var vpc = await _s.VpcAsync("172.16.0.0/16");
        var unused = await _s.GroupAsync(vpc, "unused");

        var picture = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region });
        var nodes = picture.Items("Nodes", "Node").ToDictionary(n => n.Str("Id"), n => n);
        Assert.Equal(new[] { redis, unused, web }.Order(StringComparer.Ordinal).Prepend("internet"), picture.Items("Nodes", "Node").Select(n => n.Str("Id")));
        Assert.Equal(("web", "group", 1), (nodes[web].Str("Name"), nodes[web].Str("Kind"), nodes[web].GetProperty("InstanceCount").GetInt32()));
        Assert.Equal(0, nodes[unused].GetProperty("InstanceCount").GetInt32());
        var edges = picture.Items("Edges", "Edge").ToDictionary(e => (e.Str("Source"), e.Str("Target")), e => e.Str("Label"));
        // web → redis only on 6379 (the drop closes the rest); redis → web on 443 (0.0.0.0/0 holds the VPC);
        // the internet reaches nothing (no instance has a public address).
        Assert.Equal("TCP 6379", edges[(web, redis)]);
        Assert.Equal("TCP 443", edges[(redis, web)]);
        Assert.DoesNotContain(edges.Keys, k => k.Item1 == "internet");
        Assert.DoesNotContain(edges.Keys, k => k.Item1 == unused || k.Item2 == unused);
        var access = Assert.Single(picture.Items("Edges", "Edge").Single(e => e.Str("Source") == web).Items("Accesses", "Access"));
        Assert.Equal(("TCP", "6379/6379"), (access.Str("IpProtocol"), access.Items("PortRanges", "PortRange").Single().GetString()));

        var narrowed = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, IpProtocol = "tcp", Port = 443 });
        Assert.Equal([(redis, web)], narrowed.Items("Edges", "Edge").Select(e => (e.Str("Source"), e.Str("Target"))));

        // Around one group: only the edges into and out of it.
        var around = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, SecurityGroupId = redis });
        Assert.Equal(new[] { (redis, web), (web, redis) }.Order(), around.Items("Edges", "Edge").Select(e => (e.Str("Source"), e.Str("Target"))).Order());
        Assert.Empty((await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, SecurityGroupId = unused })).Items("Edges", "Edge"));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, SecurityGroupId = "sg-bp1nothere000000" }), "InvalidSecurityGroupId.NotFound", 404);

        var other = NewScenario();
        await ApiAssert.FailsAsync(() => other.Api.CallAsync("DescribeReachability", new { RegionId = Region, SecurityGroupId = web }), "InvalidSecurityGroupId.NotFound", 404);
        var empty = await other.Api.CallAsync("DescribeReachability", new { RegionId = Region });
        Assert.Equal(["internet"], empty.Items("Nodes", "Node").Select(n => n.Str("Id")));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, IpProtocol = "icmp", Port = 1 }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, Port = 0 }), "InvalidParameter", 400);
    }

    /// <summary>
    /// Issue 21: an IPv4 answer lists the protocols of IPv4 only. A rule of every protocol between two
    /// groups opens ICMP between their IPv4 addresses, never ICMPv6: neither the picture nor the
    /// dry run's impact may say so.
    /// </summary>
    [Fact]
    public async Task AnIpv4Answer_ListsNoIcmpv6_InThePictureOrTheImpact()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var app = await _s.GroupAsync(vpc, "app");
        var db = await _s.GroupAsync(vpc, "db");
        await _s.RunAsync(app, vsw);
        await _s.RunAsync(db, vsw);
        var everything = new { RegionId = Region, SecurityGroupId = db, IpProtocol = "all", PortRange = "-1/-1", SourceGroupId = app };
        await _s.AuthorizeAsync(db, new { IpProtocol = "all", PortRange = "-1/-1", SourceGroupId = app });

        var picture = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region });
        var edge = picture.Items("Edges", "Edge").Single(e => e.Str("Source") == app && e.Str("Target") == db);
        var protocols = edge.Items("Accesses", "Access").Select(a => a.Str("IpProtocol")).ToList();
        Assert.Contains("ICMP", protocols);
        Assert.DoesNotContain("ICMPv6", protocols);
        Assert.DoesNotContain("ICMPv6", edge.Str("Label"));

        var rehearsal = await _s.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            everything.RegionId, ChangeAction = "RevokeSecurityGroup", everything.SecurityGroupId, everything.IpProtocol, everything.PortRange, everything.SourceGroupId,
        }));
        var lost = rehearsal.GetProperty("Impact").Items("Lost", "Flow").Select(f => f.Str("IpProtocol")).ToList();
        Assert.Contains("ICMP", lost);
        Assert.DoesNotContain("ICMPv6", lost);
    }

    /// <summary>
    /// Around one group each edge says which instances make it: here an instance in both groups is
    /// the whole reason web and db reach each other (each group's inner access admits it), and every
    /// pair names it.
    /// </summary>
    [Fact]
    public async Task DescribeReachability_AroundOneGroup_NamesTheInstancesThatMakeEachEdge()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var db = await _s.GroupAsync(vpc, "db");
        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        var both = (await _s.RunAsync(web, vsw)).Single();
        await _s.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = both, SecurityGroupId = db });
        var dbOnly = (await _s.RunAsync(db, vsw)).Single();
        var webOnly = (await _s.RunAsync(web, vsw)).Single();

        var around = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, SecurityGroupId = web });
        var edges = around.Items("Edges", "Edge").ToDictionary(e => (e.Str("Source"), e.Str("Target")));
        (string, string)[] PairsOf(string source, string target) =>
            [.. edges[(source, target)].Items("Pairs", "Pair").Select(p => (p.Str("SourceInstanceId"), p.Str("TargetInstanceId"))).Order()];
        Assert.Equal(new[] { (both, dbOnly), (webOnly, both) }.Order(), PairsOf(web, db));
        Assert.Equal(2, edges[(web, db)].GetProperty("PairCount").GetInt32());
        // db's members reach web's by the same two inner accesses, and dbOnly reaches webOnly on 443 (open to all).
        Assert.Equal(new[] { (dbOnly, both), (both, webOnly), (dbOnly, webOnly) }.Order(), PairsOf(db, web));
        // web's members reach each other by inner access; with no public address, the internet reaches none.
        Assert.False(edges.ContainsKey(("internet", web)));
        Assert.Equal(new[] { (both, webOnly), (webOnly, both) }.Order(), PairsOf(web, web));
        // Narrowed to a port, only the pairs that port joins.
        var https = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region, SecurityGroupId = web, IpProtocol = "tcp", Port = 443 });
        Assert.All(https.Items("Edges", "Edge"), e => Assert.True(e.GetProperty("PairCount").GetInt32() > 0));
        // The whole picture does not pair instances (too many for a large account).
        var whole = await _s.Api.CallAsync("DescribeReachability", new { RegionId = Region });
        Assert.All(whole.Items("Edges", "Edge"), e => Assert.False(e.TryGetProperty("Pairs", out _)));
    }
}
