using System.Text;
using Palisade.Analysis.Audit;
using Palisade.Analysis.Audit.Checks;
using Palisade.Analysis.Internet;
using Palisade.Domain.State;

namespace Palisade.Analysis.Tests.Audit;

/// <summary>
/// Each check with cases that must be found and cases that must not, including the known false
/// positives and false negatives of existing checkers (peers.md §A.4): a drop in front of an
/// accept, `-1/-1`, UDP, IPv6 `::/0`, a port opened by one group and closed by another.
/// </summary>
public sealed class AuditTests
{
    /// <summary>A state with one VPC instance (public address 47.1.1.1, IPv6 2408:4000::10) in the given groups.</summary>
    private static NetworkState State(string groups, string memberships = "\"sg-web\"", bool publicAddress = true, string extraInstances = "")
    {
        var json = new StringBuilder();
        json.Append("{\"RegionId\":\"cn-hangzhou\",\"SecurityGroups\":[").Append(groups).Append("],\"Instances\":[");
        json.Append("{\"InstanceId\":\"i-web1\",\"InstanceName\":\"web-1\",\"VpcAttributes\":{\"VpcId\":\"vpc-a\",\"PrivateIpAddress\":{\"IpAddress\":[\"10.0.1.10\"]}},");
        if (publicAddress)
            json.Append("\"EipAddress\":{\"IpAddress\":\"47.1.1.1\"},\"NetworkInterfaces\":{\"NetworkInterface\":[{\"Ipv6Sets\":{\"Ipv6Set\":[{\"Ipv6Address\":\"2408:4000::10\"}]}}]},");
        json.Append("\"SecurityGroupIds\":{\"SecurityGroupId\":[").Append(memberships).Append("]}}").Append(extraInstances).Append("]}");
        return StateFileReader.Read(json.ToString());
    }

    private static string Group(string id, string rules, string extra = "") =>
        $"{{\"SecurityGroupId\":\"{id}\",\"SecurityGroupName\":\"{id[3..]}-tier\",\"Description\":\"tier\",\"VpcId\":\"vpc-a\",\"InnerAccessPolicy\":\"Drop\"{extra},\"Permissions\":{{\"Permission\":[{rules}]}}}}";

    private static string Rule(string id, string protocol, string ports, string peer, string policy = "Accept", int priority = 1, string direction = "ingress") =>
        $"{{\"SecurityGroupRuleId\":\"{id}\",\"Direction\":\"{direction}\",\"IpProtocol\":\"{protocol}\",\"PortRange\":\"{ports}\",{peer},\"Policy\":\"{policy}\",\"Priority\":\"{priority}\"}}";

    private const string Anywhere = "\"SourceCidrIp\":\"0.0.0.0/0\"";

    private static List<Finding> Exposed(NetworkState state, int port) =>
        [.. Auditor.Run(state).Where(f => f.Evidence is RiskyPortExposure { Port: var p } && p == port)];

    private static T Evidence<T>(Finding f) where T : Evidence => Assert.IsType<T>(f.Evidence);

    [Fact]
    public void SshOpenToTheWorld_IsExposed_WithAWitnessPacket()
    {
        var finding = Assert.Single(Exposed(State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere))), 22));
        Assert.Equal((Severity.High, "sgr-ssh", "i-web1"), (finding.Severity, finding.SecurityGroupRuleId?.Value, finding.InstanceId?.Value));
        Assert.Equal(Domain.Networking.IpProtocol.Tcp, Evidence<RiskyPortExposure>(finding).Protocol);
        Assert.True(InternetExposure.IsInternet(Evidence<RiskyPortExposure>(finding).SourceIp));
    }

    [Fact]
    public void ADropAtAHigherPriority_ClosesIt_AndIsNotFlaggedItself()
    {
        // Checkov flags the drop rule; Steampipe does not see that the drop wins.
        var state = State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere, priority: 5) + "," + Rule("sgr-nossh", "TCP", "22/22", Anywhere, "Drop", priority: 1)));
        Assert.Empty(Exposed(state, 22));
        Assert.Empty(Exposed(State(Group("sg-web", Rule("sgr-nossh", "TCP", "22/22", Anywhere, "Drop"))), 22));
    }

    [Fact]
    public void AllProtocolsAllPorts_ExposesEverySensitivePort()
    {
        // Checkov reads -1/-1 as the range -1..-1 and misses it.
        var findings = Auditor.Run(State(Group("sg-web", Rule("sgr-all", "ALL", "-1/-1", Anywhere)))).Where(f => f.Check == "risky-port-exposed").ToList();
        Assert.Equal(RiskyPorts.All.Count, findings.Count);
    }

    [Fact]
    public void UdpMemcached_IsExposed()
    {
        // Prowler checks TCP and "all" only.
        var finding = Assert.Single(Exposed(State(Group("sg-web", Rule("sgr-mc", "UDP", "11211/11211", Anywhere))), 11211));
        Assert.Equal(Domain.Networking.IpProtocol.Udp, Evidence<RiskyPortExposure>(finding).Protocol);
    }

    [Fact]
    public void Ipv6Anywhere_IsExposed()
    {
        var finding = Assert.Single(Exposed(State(Group("sg-web", Rule("sgr-rdp6", "TCP", "3389/3389", "\"Ipv6SourceCidrIp\":\"::/0\""))), 3389));
        Assert.True(Evidence<RiskyPortExposure>(finding).SourceIp.IsV6);
        Assert.Equal("2408:4000::10", Evidence<RiskyPortExposure>(finding).DestinationIp.ToString());
    }

    [Fact]
    public void OpenedByOneGroup_ClosedByAnother_OnTheSameNic_IsNotExposed()
    {
        // Every checker that looks at one group at a time gets this wrong.
        var state = State(
            Group("sg-web", Rule("sgr-db", "TCP", "3306/3306", Anywhere, priority: 10)) + "," +
            Group("sg-guard", Rule("sgr-guard", "TCP", "1/65535", Anywhere, "Drop", priority: 1)),
            "\"sg-web\",\"sg-guard\"");
        Assert.Empty(Exposed(state, 3306));
    }

    [Fact]
    public void AnAllowlistedOffice_OrAnInstanceWithoutPublicAddress_IsNotExposed()
    {
        Assert.Empty(Exposed(State(Group("sg-web", Rule("sgr-office", "TCP", "22/22", "\"SourceCidrIp\":\"203.0.113.0/24\""))), 22));
        Assert.Empty(Exposed(State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere)), publicAddress: false), 22));
        // Private peers are not the internet.
        Assert.Empty(Exposed(State(Group("sg-web", Rule("sgr-lan", "TCP", "22/22", "\"SourceCidrIp\":\"10.0.0.0/8\""))), 22));
    }

    private static List<Finding> Open(NetworkState state, int port) =>
        [.. Auditor.Run(state).Where(f => f.Evidence is RiskyPortOpenEvidence { Port: var p } && p == port)];

    [Fact]
    public void WithoutAPublicAddress_ASensitivePortOpenToTheInternet_IsLatent()
    {
        // Issue 20: one EIP away from exposure, and every private peer is admitted now.
        var finding = Assert.Single(Open(State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere)), publicAddress: false), 22));
        Assert.Equal(("risky-port-open", Severity.Medium, "sgr-ssh", "i-web1"), (finding.Check, finding.Severity, finding.SecurityGroupRuleId?.Value, finding.InstanceId?.Value));
        var evidence = Evidence<RiskyPortOpenEvidence>(finding);
        Assert.Equal(("10.0.1.10", Domain.Networking.IpProtocol.Tcp, (int?)1), (evidence.DestinationIp.ToString(), evidence.Protocol, evidence.Priority));
        Assert.True(InternetExposure.IsInternet(evidence.SourceIp));
        // UDP counts as well.
        Assert.Equal(Domain.Networking.IpProtocol.Udp, Evidence<RiskyPortOpenEvidence>(Assert.Single(Open(State(Group("sg-web", Rule("sgr-mc", "UDP", "11211/11211", Anywhere)), publicAddress: false), 11211))).Protocol);
    }

    [Fact]
    public void ADropThatClosesThePort_AnOffice_OrAnExposureReportedAlready_IsNotLatent()
    {
        var closed = State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere, priority: 5) + "," + Rule("sgr-nossh", "TCP", "22/22", Anywhere, "Drop", priority: 1)), publicAddress: false);
        Assert.Empty(Open(closed, 22));
        // A drop at the same priority wins too.
        Assert.Empty(Open(State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere) + "," + Rule("sgr-nossh", "TCP", "1/1024", Anywhere, "Drop")), publicAddress: false), 22));
        Assert.Empty(Open(State(Group("sg-web", Rule("sgr-office", "TCP", "22/22", "\"SourceCidrIp\":\"203.0.113.0/24\"")), publicAddress: false), 22));
        Assert.Empty(Open(State(Group("sg-web", Rule("sgr-lan", "TCP", "22/22", "\"SourceCidrIp\":\"10.0.0.0/8\"")), publicAddress: false), 22));
        // With a public address it is exposed (high), not latent.
        var now = State(Group("sg-web", Rule("sgr-ssh", "TCP", "22/22", Anywhere)));
        Assert.Single(Exposed(now, 22));
        Assert.Empty(Open(now, 22));
    }

    [Fact]
    public void AWideBlockOfPublicAddresses_IsTheInternetToo_AndIpv6CountsOnItsOwn()
    {
        // A /8 of public addresses is wider than the audit's internet threshold (a /16).
        Assert.Single(Open(State(Group("sg-web", Rule("sgr-wide", "TCP", "3306/3306", "\"SourceCidrIp\":\"47.0.0.0/8\"")), publicAddress: false), 3306));
        // IPv6 ::/0 on an instance whose only IPv6 address is not global: latent over IPv6.
        var v4 = State(Group("sg-web", Rule("sgr-rdp6", "TCP", "3389/3389", "\"Ipv6SourceCidrIp\":\"::/0\"")), publicAddress: false);
        var state = new NetworkState(v4.RegionId, v4.Groups, v4.Instances.Select(i => i with { PrivateAddresses = [.. i.PrivateAddresses, Domain.Networking.IpAddress.Parse("fd00::10")] }));
        var finding = Assert.Single(Open(state, 3389));
        Assert.Equal("fd00::10", Evidence<RiskyPortOpenEvidence>(finding).DestinationIp.ToString());
    }

    [Fact]
    public void AWideBlockCutIntoPiecesByDrops_IsStillExposed()
    {
        var state = State(Group("sg-web",
            Rule("sgr-open", "TCP", "22/22", "\"SourceCidrIp\":\"64.0.0.0/2\"", priority: 10) + "," +
            Rule("sgr-hole", "TCP", "22/22", "\"SourceCidrIp\":\"96.0.0.0/4\"", "Drop", priority: 1)));
        Assert.Single(Exposed(state, 22));
    }

    [Fact]
    public void InternalRules_AllPorts_WideBlocks_AndBlocksWhereAGroupWouldDo()
    {
        var state = State(
            Group("sg-web",
                Rule("sgr-lanall", "ALL", "-1/-1", "\"SourceCidrIp\":\"10.0.0.0/16\"") + "," +
                Rule("sgr-peerall", "TCP", "1/65535", "\"SourceGroupId\":\"sg-app\"") + "," +
                Rule("sgr-wide", "TCP", "8080/8080", "\"SourceCidrIp\":\"10.0.0.0/8\"") + "," +
                Rule("sgr-host", "TCP", "9000/9000", "\"SourceCidrIp\":\"10.0.2.20\"") + "," +
                Rule("sgr-web", "TCP", "443/443", Anywhere) + "," +
                Rule("sgr-narrow", "TCP", "80/80", "\"SourceCidrIp\":\"10.0.0.0/16\"")) + "," +
            Group("sg-app", ""),
            extraInstances: ",{\"InstanceId\":\"i-app1\",\"InstanceName\":\"app\",\"VpcAttributes\":{\"VpcId\":\"vpc-a\",\"PrivateIpAddress\":{\"IpAddress\":[\"10.0.2.20\"]}},\"SecurityGroupIds\":{\"SecurityGroupId\":[\"sg-app\"]}}");
        var findings = Auditor.Run(state);
        Assert.Equal(["sgr-lanall", "sgr-peerall"], findings.Where(f => f.Check == "internal-all-ports").Select(f => f.SecurityGroupRuleId!.Value.Value).Order());
        Assert.Equal(["sgr-wide"], findings.Where(f => f.Check == "internal-wide-cidr").Select(f => f.SecurityGroupRuleId!.Value.Value));
        var suggestion = Assert.Single(findings, f => f.Check == "internal-cidr-instead-of-group");
        Assert.Equal(("sgr-host", "sg-app"), (suggestion.SecurityGroupRuleId!.Value.Value, Evidence<CidrInsteadOfGroupEvidence>(suggestion).SuggestedGroup.Value));
    }

    [Fact]
    public void ClassicIntranetRules_OpenToEveryone_AreHigh()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups":[{"SecurityGroupId":"sg-c","SecurityGroupName":"classic-web","Description":"d","Permissions":{"Permission":[
              {"SecurityGroupRuleId":"sgr-in","Direction":"ingress","IpProtocol":"TCP","PortRange":"80/80","SourceCidrIp":"0.0.0.0/0","NicType":"intranet"},
              {"SecurityGroupRuleId":"sgr-out","Direction":"ingress","IpProtocol":"TCP","PortRange":"80/80","SourceCidrIp":"0.0.0.0/0","NicType":"internet"}]}}],
             "Instances":[{"InstanceId":"i-c","InstanceNetworkType":"classic","InnerIpAddress":{"IpAddress":["10.116.0.9"]},"PublicIpAddress":{"IpAddress":["198.51.100.9"]},"SecurityGroupIds":{"SecurityGroupId":["sg-c"]}}]}
            """);
        var finding = Assert.Single(Auditor.Run(state), f => f.Check == "internal-wide-cidr");
        Assert.Equal((Severity.High, "sgr-in"), (finding.Severity, finding.SecurityGroupRuleId!.Value.Value));
    }

    [Fact]
    public void OverlappingAcceptAndDrop_AtOnePriority_AreAConflict()
    {
        var conflict = State(Group("sg-web", Rule("sgr-a", "TCP", "80/80", Anywhere) + "," + Rule("sgr-d", "TCP", "1/1024", "\"SourceCidrIp\":\"198.51.100.0/24\"", "Drop")));
        var finding = Assert.Single(Auditor.Run(conflict), f => f.Check == "same-priority-conflict");
        Assert.Equal(("sgr-a", "sgr-d"), (finding.SecurityGroupRuleId!.Value.Value, Evidence<SamePriorityConflictEvidence>(finding).DropRule.Value));
        var ordered = State(Group("sg-web", Rule("sgr-a", "TCP", "80/80", Anywhere, priority: 2) + "," + Rule("sgr-d", "TCP", "1/1024", "\"SourceCidrIp\":\"198.51.100.0/24\"", "Drop")));
        Assert.DoesNotContain(Auditor.Run(ordered), f => f.Check == "same-priority-conflict");
        var apart = State(Group("sg-web", Rule("sgr-a", "TCP", "80/80", Anywhere) + "," + Rule("sgr-d", "UDP", "1/1024", "\"SourceCidrIp\":\"198.51.100.0/24\"", "Drop")));
        Assert.DoesNotContain(Auditor.Run(apart), f => f.Check == "same-priority-conflict");
    }

    [Fact]
    public void GroupHygiene()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups":[
               {"SecurityGroupId":"sg-used","SecurityGroupName":"web","Description":"front end","VpcId":"vpc-a","Permissions":{"Permission":[
                 {"SecurityGroupRuleId":"sgr-gone","Direction":"ingress","IpProtocol":"TCP","PortRange":"5432/5432","SourceGroupId":"sg-deleted"},
                 {"SecurityGroupRuleId":"sgr-far","Direction":"ingress","IpProtocol":"TCP","PortRange":"5433/5433","SourceGroupId":"sg-other","SourceGroupOwnerId":"1234"}]}},
               {"SecurityGroupId":"sg-idle","SecurityGroupName":"idle","Description":"kept for later","VpcId":"vpc-a"},
               {"SecurityGroupId":"sg-bare","VpcId":"vpc-a"},
               {"SecurityGroupId":"sg-referenced","SecurityGroupName":"peers","Description":"d","VpcId":"vpc-a"}],
             "Instances":[
               {"InstanceId":"i-a","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.0.1"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-used"]}},
               {"InstanceId":"i-none","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.0.2"]}}}]}
            """);
        var findings = Auditor.Run(state);
        Assert.Equal(["sg-bare", "sg-idle", "sg-referenced"], findings.Where(f => f.Check == "unused-group").Select(f => f.SecurityGroupId!.Value.Value).Order());
        Assert.Equal(["sg-bare"], findings.Where(f => f.Check == "undocumented-group").Select(f => f.SecurityGroupId!.Value.Value));
        Assert.Equal(["sgr-gone"], findings.Where(f => f.Check == "dangling-reference").Select(f => f.SecurityGroupRuleId!.Value.Value));
        Assert.Equal(["i-none"], findings.Where(f => f.Check == "instance-without-group").Select(f => f.InstanceId!.Value.Value));
        Assert.Equal(Severity.High, findings[0].Severity);
    }

    /// <summary>
    /// Issue 16: a prefix list no rule names is reported (low), with its entries; one named by an
    /// ingress or an egress rule is not, nor one under a name Alibaba Cloud keeps for its own lists.
    /// </summary>
    [Fact]
    public void APrefixListNoRuleNames_IsUnused()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups":[
               {"SecurityGroupId":"sg-app","SecurityGroupName":"app","Description":"d","VpcId":"vpc-a","Permissions":{"Permission":[
                 {"SecurityGroupRuleId":"sgr-in","Direction":"ingress","IpProtocol":"TCP","PortRange":"443/443","SourcePrefixListId":"pl-offices"},
                 {"SecurityGroupRuleId":"sgr-out","Direction":"egress","IpProtocol":"TCP","PortRange":"443/443","DestPrefixListId":"pl-mirrors"}]}}],
             "Instances":[
               {"InstanceId":"i-a","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.0.1"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-app"]}}],
             "PrefixLists":[
               {"PrefixListId":"pl-offices","PrefixListName":"offices","AddressFamily":"IPv4","MaxEntries":10,"Entries":{"Entry":[{"Cidr":"198.51.100.0/24"}]}},
               {"PrefixListId":"pl-mirrors","PrefixListName":"mirrors","AddressFamily":"IPv4","MaxEntries":10,"Entries":{"Entry":[{"Cidr":"203.0.113.0/24"}]}},
               {"PrefixListId":"pl-oldvpn","PrefixListName":"old-vpn","AddressFamily":"IPv4","MaxEntries":20,"Entries":{"Entry":[{"Cidr":"192.0.2.0/25"},{"Cidr":"192.0.2.128/25"}]}},
               {"PrefixListId":"pl-empty","PrefixListName":"spare","AddressFamily":"IPv6","MaxEntries":5},
               {"PrefixListId":"pl-cloud","PrefixListName":"com.aliyun.cn-hangzhou.oss","AddressFamily":"IPv4","MaxEntries":5,"Entries":{"Entry":[{"Cidr":"100.118.0.0/16"}]}}]}
            """);
        var unused = Auditor.Run(state).Where(f => f.Check == "unused-prefix-list").ToList();
        Assert.Equal(["pl-empty", "pl-oldvpn"], unused.Select(f => f.PrefixListId!.Value.Value));
        Assert.All(unused, f => Assert.Equal((Severity.Low, null, null, null), (f.Severity, f.SecurityGroupId, f.SecurityGroupRuleId, f.InstanceId)));
        Assert.Equal(new UnusedPrefixListEvidence("old-vpn", 2, 20), unused[1].Evidence);
        Assert.Equal("pl-oldvpn holds 2 entries and no rule references it. Delete it, or name it in the rule it was made for.", unused[1].Message);
        Assert.Equal(new UnusedPrefixListEvidence("spare", 0, 5), unused[0].Evidence);
    }

    [Fact]
    public void ACleanState_HasNoFindings()
    {
        var state = State(Group("sg-web", Rule("sgr-https", "TCP", "443/443", Anywhere) + "," + Rule("sgr-ssh", "TCP", "22/22", "\"SourceCidrIp\":\"203.0.113.7\"")));
        Assert.Empty(Auditor.Run(state));
    }

    [Fact]
    public void ARuleBehindAWiderDrop_IsShadowed_WithItsBlockers()
    {
        var state = State(Group("sg-web",
            Rule("sgr-lan22", "TCP", "22/22", "\"SourceCidrIp\":\"10.0.0.0/8\"", priority: 5) + "," +
            Rule("sgr-block", "TCP", "1/65535", Anywhere, "Drop", priority: 1)));
        var finding = Assert.Single(Auditor.Run(state), f => f.Check == "shadowed-rule");
        Assert.Equal("sgr-lan22", finding.SecurityGroupRuleId!.Value.Value);
        Assert.Equal(["sgr-block"], Evidence<ShadowedRuleEvidence>(finding).CoveredBy.Select(r => r.Value));
        Assert.True(Evidence<ShadowedRuleEvidence>(finding).VerdictDiffers);
    }

    [Fact]
    public void ARuleWhoseFallbackSaysTheSame_IsRedundant_ButOnlyThen()
    {
        var state = State(Group("sg-web",
            Rule("sgr-narrow", "TCP", "80/80", "\"SourceCidrIp\":\"10.0.0.0/8\"", priority: 1) + "," +
            Rule("sgr-wide", "TCP", "1/65535", "\"SourceCidrIp\":\"10.0.0.0/8\"", priority: 2) + "," +
            Rule("sgr-dropdefault", "UDP", "53/53", Anywhere, "Drop", priority: 1)));
        var redundant = Auditor.Run(state).Where(f => f.Check == "redundant-rule").ToDictionary(f => f.SecurityGroupRuleId!.Value.Value);
        Assert.Equal(["sgr-dropdefault", "sgr-narrow"], redundant.Keys.Order());
        Assert.Equal(["sgr-wide"], Evidence<RedundantRuleEvidence>(redundant["sgr-narrow"]).CoveredBy.Select(r => r.Value));
        Assert.True(Evidence<RedundantRuleEvidence>(redundant["sgr-dropdefault"]).ByDefault);
        Assert.DoesNotContain(Auditor.Run(state), f => f.Check is "shadowed-rule" or "redundant-rule" && f.SecurityGroupRuleId!.Value.Value == "sgr-wide");
    }

    [Fact]
    public void ARuleUsefulOnOneInstance_IsNeitherShadowedNorRedundant()
    {
        // On i-web1 the guard drops everything first; on i-api1 (same group, no guard) the rule decides.
        var state = State(
            Group("sg-web", Rule("sgr-app", "TCP", "8080/8080", "\"SourceCidrIp\":\"10.0.0.0/8\"", priority: 5)) + "," +
            Group("sg-guard", Rule("sgr-all", "ALL", "-1/-1", Anywhere, "Drop", priority: 1)),
            "\"sg-web\",\"sg-guard\"",
            extraInstances: ",{\"InstanceId\":\"i-api1\",\"VpcAttributes\":{\"VpcId\":\"vpc-a\",\"PrivateIpAddress\":{\"IpAddress\":[\"10.0.5.5\"]}},\"SecurityGroupIds\":{\"SecurityGroupId\":[\"sg-web\"]}}");
        Assert.DoesNotContain(Auditor.Run(state), f => f.Check is "shadowed-rule" or "redundant-rule" && f.SecurityGroupRuleId!.Value.Value == "sgr-app");
    }
    /// <summary><paramref name="count"/> instances of vpc-a, the first <paramref name="inAll"/> in sg-all as well as sg-own.</summary>
    private static NetworkState Fleet(int count, int inAll, int inOtherVpc = 0)
    {
        var instances = Enumerable.Range(0, count + inOtherVpc).Select(i =>
            $"{{\"InstanceId\":\"i-n{i}\",\"VpcAttributes\":{{\"VpcId\":\"{(i < count ? "vpc-a" : "vpc-b")}\",\"PrivateIpAddress\":{{\"IpAddress\":[\"10.0.0.{i + 1}\"]}}}}," +
            $"\"SecurityGroupIds\":{{\"SecurityGroupId\":[\"{(i < count ? "sg-own" : "sg-b")}\"{(i < inAll ? ",\"sg-all\"" : "")}]}}}}");
        return StateFileReader.Read($$"""
            {"SecurityGroups":[
               {"SecurityGroupId":"sg-all","SecurityGroupName":"everything","Description":"d","VpcId":"vpc-a"},
               {"SecurityGroupId":"sg-own","SecurityGroupName":"own","Description":"d","VpcId":"vpc-a"},
               {"SecurityGroupId":"sg-b","SecurityGroupName":"b","Description":"d","VpcId":"vpc-b"}],
             "Instances":[{{string.Join(",", instances)}}]}
            """);
    }

    [Fact]
    public void AGroupHoldingMostInstancesOfAVpc_IsOversized()
    {
        var findings = Auditor.Run(Fleet(10, 6)).Where(f => f.Check == "oversized-group").ToList();
        // sg-own holds all ten as well: both are flagged, each with its share as evidence.
        Assert.Equal(["sg-all", "sg-own"], findings.Select(f => f.SecurityGroupId!.Value.Value).Order());
        var all = findings.Single(f => f.SecurityGroupId!.Value.Value == "sg-all");
        var evidence = Evidence<OversizedGroupEvidence>(all);
        Assert.Equal((6, 10, "vpc-a"), (evidence.Members, evidence.NetworkInstances, evidence.VpcId?.Value));
        Assert.Equal(Severity.Low, all.Severity);
    }

    [Fact]
    public void HalfTheInstances_OrASmallVpc_IsNotOversized()
    {
        Assert.DoesNotContain(Auditor.Run(Fleet(10, 5)), f => f.Check == "oversized-group" && f.SecurityGroupId!.Value.Value == "sg-all");
        // Nine instances in one group: too small a network to call that a problem.
        Assert.DoesNotContain(Auditor.Run(Fleet(9, 9)), f => f.Check == "oversized-group");
        // Instances of another VPC do not count towards vpc-a, and its one group holds 2 of 2 there (too few).
        var mixed = Auditor.Run(Fleet(10, 5, inOtherVpc: 2)).Where(f => f.Check == "oversized-group").Select(f => f.SecurityGroupId!.Value.Value);
        Assert.Equal(["sg-own"], mixed);
    }
    [Fact]
    public void GroupLimitNear_WarnsWithinATenthOfTheGivenLimits()
    {
        var rules = string.Join(",", Enumerable.Range(1, 9).Select(p => Rule($"sgr-r{p}", "TCP", $"{p}/{p}", "\"SourceCidrIp\":\"10.0.0.0/16\"")));
        var state = State(Group("sg-web", rules));
        // The defaults (200 per group, 1,000 per NIC, 5 groups): nothing close.
        Assert.DoesNotContain(Auditor.Run(state), f => f.Check == "group-limit-near");
        var near = Auditor.Run(state, new Domain.Quotas.Limits { RulesPerGroup = 10, RulesPerNic = 10 }).Where(f => f.Check == "group-limit-near").ToList();
        Assert.Equal((9, 10), (Evidence<GroupRuleLimitEvidence>(near.Single(f => f.SecurityGroupId is not null)).Rules, Evidence<GroupRuleLimitEvidence>(near.Single(f => f.SecurityGroupId is not null)).Limit));
        var nic = near.Single(f => f.InstanceId is not null);
        Assert.Equal((1, 9), (Evidence<NicLimitEvidence>(nic).Groups, Evidence<NicLimitEvidence>(nic).Rules));
        Assert.EndsWith("with 9 of at most 10 rules over them.", nic.Message);
        // 8 of 10 is not within a tenth.
        Assert.DoesNotContain(Auditor.Run(state, new Domain.Quotas.Limits { RulesPerGroup = 11, RulesPerNic = 11 }), f => f.Check == "group-limit-near");
    }

    /// <summary>
    /// inner-access-spans-tiers judges a member ENI by its own addresses: i-db's secondary ENI is in the
    /// monitoring group (inner access Accept) and a db tier that accepts nothing, its primary ENI in the
    /// web tier that accepts TCP from 10.0.0.0/8. What the monitoring group opens to the ENI is every
    /// protocol, TCP included — though i-src reaches the instance on TCP through its primary ENI anyway
    /// (the instance's union would hide it: the fast path that read the what-if's per-instance flows
    /// left TCP out, 8 flows instead of 9, and disagreed with its slow twin).
    /// </summary>
    [Fact]
    public void InnerAccessSpansTiers_JudgesASecondaryEni_ByItsOwnAddresses()
    {
        static Domain.Networking.IpAddress Ip(string a) => Domain.Networking.IpAddress.Parse(a);
        static Domain.Identifiers.SecurityGroupId Sg(string id) => Domain.Identifiers.SecurityGroupId.Parse(id);
        var groups = State(string.Join(",",
            Group("sg-mon", "").Replace("\"Drop\"", "\"Accept\""),
            Group("sg-web", Rule("sgr-tcp", "TCP", "1/65535", "\"SourceCidrIp\":\"10.0.0.0/8\"")),
            Group("sg-db", "")), publicAddress: false).Groups;
        var vpc = Domain.Identifiers.VpcId.Parse("vpc-a");
        var source = new Domain.Instances.Instance(Domain.Identifiers.InstanceId.Parse("i-src"), "src", Domain.Instances.NetworkType.Vpc, vpc, null,
            [Ip("10.0.1.10")], [], [Sg("sg-mon"), Sg("sg-web")]);
        var db = new Domain.Instances.Instance(Domain.Identifiers.InstanceId.Parse("i-db"), "db", Domain.Instances.NetworkType.Vpc, vpc, null,
            [Ip("10.0.2.10")], [], [Sg("sg-web")])
        {
            SecondaryInterfaces = [new Domain.Instances.NetworkInterface(Domain.Identifiers.NetworkInterfaceId.Parse("eni-db"), [Ip("10.0.2.20")], [], [Sg("sg-mon"), Sg("sg-db")])],
        };
        var state = new NetworkState("cn-hangzhou", groups, [source, db]);
        var slow = Assert.Single(Auditor.RunPerInstance(state), f => f.Check == InnerAccessSpansTiers.Info.Id);
        var fast = Assert.Single(Auditor.Run(state), f => f.Check == InnerAccessSpansTiers.Info.Id);
        // To the secondary ENI every protocol, TCP included; to i-src's primary all but TCP (its web tier accepts TCP from 10.0.0.0/8).
        Assert.Equal(["i-db -> i-src: UDP all; ICMP; GRE; ALL", "i-src -> i-db: TCP all; UDP all; ICMP; GRE; ALL"], Evidence<InnerAccessSpansTiersEvidence>(slow).Examples);
        Assert.Equal(9, Evidence<InnerAccessSpansTiersEvidence>(slow).Flows);
        Assert.Equal(slow.Message, fast.Message);
        Assert.Equal(Evidence<InnerAccessSpansTiersEvidence>(slow).Examples, Evidence<InnerAccessSpansTiersEvidence>(fast).Examples);
    }

    /// <summary>
    /// The fast audit (one compiled policy and one judgement per policy class and local-CIDR signature)
    /// against its slow twin (every NIC on its own): the same findings, in the same order, with the
    /// same messages and evidence, on random states.
    /// </summary>
    [Fact]
    public void SharingPoliciesBetweenInstances_ChangesNoFinding()
    {
        static string Show(IEnumerable<Finding> findings) => string.Join("\n", findings.Select(f =>
            $"{f.Check} {f.Severity} {f.SecurityGroupId} {f.SecurityGroupRuleId} {f.InstanceId} {f.PrefixListId} {f.Message} " +
            string.Join(",", f.Evidence.Fields.Select(e => $"{e.Name}={(e.Value is IReadOnlyList<string> a ? string.Join("+", a) : e.Value)}"))));
        CsCheck.Check.Sample(Palisade.TestKit.SmallUniverse.State, state =>
        {
            Assert.Equal(Show(Auditor.RunPerInstance(state)), Show(Auditor.Run(state)));
        }, iter: 300, threads: 1, print: Palisade.TestKit.SmallUniverse.Describe);
    }
}
