using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>
/// The fast path against its slow twin: on random small states (shared groups, duplicate addresses,
/// local CIDRs, inner access, prefix lists, the classic network), the matrix over instance classes
/// answers every target and every source exactly as <see cref="Reach.To"/> and <see cref="Reach.From"/>
/// do pair by pair — the same instances, addresses, witnesses and port spans, in the same order.
/// </summary>
public sealed class ReachMatrixTests
{
    private static string Show(IEnumerable<Reacher> reachers) => string.Join("\n", reachers.Select(r =>
        $"{r.Instance?.Id.Value ?? "internet"} {r.WitnessAddress} {AccessSet.FromAccesses(r.Accesses)}"));

    [Fact]
    public void MatrixAnswersEveryQuestionAsThePairByPairPathDoes()
    {
        SmallUniverse.State.Sample(state =>
        {
            foreach (var v6 in new[] { false, true })
            {
                var matrix = ReachMatrix.Build(state, v6);
                foreach (var instance in state.Instances)
                {
                    Assert.Equal(Show(Reach.To(state, instance, v6)), Show(matrix.To(instance)));
                    Assert.Equal(Show(Reach.From(state, instance, v6)), Show(matrix.From(instance)));
                }
            }
        }, iter: 300, threads: 1, print: SmallUniverse.Describe);
    }

    /// <summary>
    /// The group picture (DescribeReachability, <c>reach --matrix</c>) against its slow twin: the union
    /// over member pairs of what <see cref="Reach.From"/> answers, and the internet's cells from
    /// <see cref="Reach.To"/>; around one group, exactly the cells that touch it.
    /// </summary>
    [Fact]
    public void TheGroupPicture_IsTheUnionOverMemberPairs_AndAroundOneGroupItsOwnCells()
    {
        SmallUniverse.State.Sample(state =>
        {
            var expected = new Dictionary<(string, string), AccessSet>();
            void Add(string g, string h, AccessSet access) => expected[(g, h)] = expected.TryGetValue((g, h), out var had) ? had.Union(access) : access;
            // A group's members are ENIs: what each ENI of an instance reaches of each ENI of another
            // counts for the groups of those two ENIs.
            IEnumerable<string> GroupsOf(Domain.Instances.Instance nic) => nic.SecurityGroupIds.Distinct().Where(g => state.FindGroup(g) is not null).Select(g => g.Value);
            var evaluator = new Engine.Flows.FlowEvaluator(state);
            foreach (var source in state.Instances)
            {
                foreach (var target in state.Instances.Where(t => t.Id != source.Id && t.VpcId == source.VpcId))
                {
                    foreach (var from in ReferenceEvaluator.Enis(source))
                    {
                        foreach (var to in ReferenceEvaluator.Enis(target))
                        {
                            var access = Reach.BetweenInterfaces(state, evaluator, from, to, v6: false);
                            if (access.IsEmpty)
                                continue;
                            foreach (var g in GroupsOf(from))
                            {
                                foreach (var h in GroupsOf(to))
                                    Add(g, h, access);
                            }
                        }
                    }
                }
            }
            foreach (var target in state.Instances)
            {
                foreach (var nic in ReferenceEvaluator.Enis(target))
                {
                    if (Reach.FromInternetToInterface(state, evaluator, nic, v6: false) is { } fromInternet)
                    {
                        foreach (var h in GroupsOf(nic))
                            Add("internet", h, AccessSet.FromAccesses(fromInternet.Accesses));
                    }
                }
            }
            static string Cells(IEnumerable<(string Source, string Target, AccessSet Access)> cells) => string.Join("\n", cells
                .Where(c => !c.Access.IsEmpty).OrderBy(c => c.Source, StringComparer.Ordinal).ThenBy(c => c.Target, StringComparer.Ordinal)
                .Select(c => $"{c.Source} -> {c.Target}: {c.Access}"));
            var matrix = ReachMatrix.Build(state);
            var picture = matrix.ByGroup();
            Assert.Equal(Cells(expected.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value))), Cells(picture));
            foreach (var group in state.Groups)
                Assert.Equal(Cells(picture.Where(c => c.Source == group.Id.Value || c.Target == group.Id.Value)), Cells(matrix.ByGroup(group.Id)));
        }, iter: 200, threads: 1, print: SmallUniverse.Describe);
    }

    [Fact]
    public void FromIsToTransposed()
    {
        SmallUniverse.State.Sample(state =>
        {
            foreach (var source in state.Instances)
            {
                foreach (var reached in Reach.From(state, source).Where(r => !r.IsInternet))
                {
                    var back = Reach.To(state, reached.Instance!).Single(r => r.Instance?.Id == source.Id);
                    Assert.Equal(AccessSet.FromAccesses(reached.Accesses), AccessSet.FromAccesses(back.Accesses));
                }
            }
        }, iter: 100, threads: 1, print: SmallUniverse.Describe);
    }

    [Fact]
    public void InstancesWithTheSameGroupsAndIndistinctAddresses_ShareAClass()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups": [
               {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
                 {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "10.0.0.0/8"}]}},
               {"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
                 {"SecurityGroupRuleId": "sgr-pg", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceGroupId": "sg-web"},
                 {"SecurityGroupRuleId": "sgr-admin", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.0.1.11/32"}]}}],
             "Instances": [
               {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
               {"InstanceId": "i-web2", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
               {"InstanceId": "i-web3", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.12"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
               {"InstanceId": "i-db1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.10"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
            """);
        var matrix = ReachMatrix.Build(state);
        // i-web2 is named by sgr-admin, so it stands apart from i-web1 and i-web3.
        Assert.Equal(["i-web1 i-web3", "i-web2", "i-db1"], matrix.Classes.Select(c => string.Join(" ", c.Members.Select(m => m.Id.Value))));
        Assert.Equal(2, matrix.PolicyCount);
        var web1 = state.Instances[0];
        var web3 = state.Instances[2];
        Assert.Equal("TCP 80", matrix.Between(web1, web3).ToString());
        Assert.Equal("TCP 22, 5432", matrix.Between(state.Instances[1], state.Instances[3]).ToString());
        Assert.Equal("TCP 5432", matrix.Between(web1, state.Instances[3]).ToString());
        Assert.True(matrix.Between(web1, web1).IsEmpty);
    }

    /// <summary>
    /// i-web has a secondary private address, 10.0.1.20; i-db has one too, 10.0.2.11. Rules that name
    /// only a secondary address still open the instance: sgr-pg admits i-web by its secondary address
    /// only, sgr-ssh admits it only at i-db's secondary address. i-app, with one address, gets neither.
    /// </summary>
    internal static readonly NetworkState Secondary = StateFileReader.Read("""
        {"SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": []}},
           {"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-pg", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceCidrIp": "10.0.1.20/32"},
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8", "DestCidrIp": "10.0.2.11/32"},
             {"SecurityGroupRuleId": "sgr-nobody", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "9000/9000", "SourceCidrIp": "10.0.1.21/32"}]}}],
         "Instances": [
           {"InstanceId": "i-web", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}},
            "NetworkInterfaces": {"NetworkInterface": [{"PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.1.10", "Primary": true}, {"PrivateIpAddress": "10.0.1.20", "Primary": false}]}}]},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-app", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.30"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-db", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.10"]}},
            "NetworkInterfaces": {"NetworkInterface": [{"PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.2.11", "Primary": false}]}}]},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
        """);

    [Fact]
    public void ARuleNamingOnlyASecondaryAddress_StillOpensTheInstance()
    {
        var matrix = ReachMatrix.Build(Secondary);
        var (web, app, db) = (Secondary.Instances[0], Secondary.Instances[1], Secondary.Instances[2]);
        // From its secondary address to db's primary (5432), from its primary to db's secondary (22).
        Assert.Equal("TCP 22, 5432", matrix.Between(web, db).ToString());
        // The answer names the first address of the other end that takes part.
        Assert.Equal("i-web 10.0.1.10 TCP 22, 5432\ni-app 10.0.1.30 TCP 22", Show(matrix.To(db)));
        Assert.Equal("i-db 10.0.2.10 TCP 22, 5432", Show(matrix.From(web).Where(r => r.Instance?.Id == db.Id)));
        Assert.Equal(Show(Reach.To(Secondary, db)), Show(matrix.To(db)));
        Assert.Equal(Show(Reach.From(Secondary, web)), Show(matrix.From(web)));
    }

    [Fact]
    public void AnAddressNoInstanceHas_OpensNothing_AndOneAddressGetsOnlyWhatNamesIt()
    {
        var matrix = ReachMatrix.Build(Secondary);
        var (app, db) = (Secondary.Instances[1], Secondary.Instances[2]);
        // i-app is neither 10.0.1.20 nor 10.0.1.21: only the rule open to all of 10.0.0.0/8, at db's secondary address.
        Assert.Equal("TCP 22", matrix.Between(app, db).ToString());
        Assert.Equal("i-db 10.0.2.11 TCP 22", Show(matrix.From(app).Where(r => r.Instance?.Id == db.Id)));
        Assert.DoesNotContain(matrix.To(db), r => r.Accesses.Any(a => a.Ports.Any(p => p.Contains(9000))));
        // Over IPv6 none of them has an address: nobody takes part.
        Assert.Empty(ReachMatrix.Build(Secondary, v6: true).To(db));
    }
}
