using CsCheck;
using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// Issue 16: an entry edit costs what the edit is, not what the host is. The agent re-renders only
/// the prefix lists' sets when nothing else changed (<see cref="PolicyRenderer.Rerender"/>) and sends
/// only their changed elements (<see cref="NftText.SetUpdate"/>). The slow twins hold both to the
/// whole: the re-render is the full render, and the update applied to the old sets is the new sets.
/// </summary>
public sealed class PrefixListRerenderTests
{
    /// <summary>A host of three NICs; two v4 lists (one inbound on two groups, one outbound) and a v6 list.</summary>
    private static string Text(IEnumerable<string> office, IEnumerable<string> partners, string sshPort = "22/22", string web2Address = "198.18.1.12") => $$$"""
        {"RegionId": "cn-hangzhou",
         "PrefixLists": [
           {"PrefixListId": "pl-office", "PrefixListName": "office", "AddressFamily": "IPv4", "MaxEntries": 50, "Entries": {"Entry": [{{{Entries(office)}}}]}},
           {"PrefixListId": "pl-partners", "PrefixListName": "partners", "AddressFamily": "IPv4", "MaxEntries": 50, "Entries": {"Entry": [{{{Entries(partners)}}}]}},
           {"PrefixListId": "pl-six", "PrefixListName": "six", "AddressFamily": "IPv6", "MaxEntries": 5, "Entries": {"Entry": [{"Cidr": "2001:db8:1::/48"}]}}],
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-office", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "SourcePrefixListId": "pl-office", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "{{{sshPort}}}", "SourcePrefixListId": "pl-office", "Priority": 2},
             {"SecurityGroupRuleId": "sgr-block", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "1/65535", "SourceCidrIp": "198.19.66.0/24", "Policy": "Drop", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-six", "Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1", "SourcePrefixListId": "pl-six", "Priority": 3},
             {"SecurityGroupRuleId": "sgr-out", "Direction": "egress", "IpProtocol": "UDP", "PortRange": "53/53", "DestPrefixListId": "pl-partners", "Priority": 1}]}},
           {"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-db", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourcePrefixListId": "pl-office", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-web", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceGroupId": "sg-web", "Priority": 1}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-web2", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["{{{web2Address}}}"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}},
           {"InstanceId": "i-db1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.21"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
        """;

    private static string Entries(IEnumerable<string> blocks) => string.Join(", ", blocks.Select(b => $"{{\"Cidr\": \"{b}\"}}"));

    private static readonly IReadOnlyList<HostBinding> Bindings =
        [new(InstanceId.Parse("i-web1"), "vh-web1"), new(InstanceId.Parse("i-web2"), "vh-web2"), new(InstanceId.Parse("i-db1"), "vh-db1")];

    private static IReadOnlyList<HostPart> Parts(string text) => [new HostPart(StateFileReader.Read(text), Bindings) { Source = text }];

    /// <summary>Blocks of a list: overlapping, nested, adjacent and repeated blocks all come up.</summary>
    private static readonly Gen<string[]> Blocks =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 255], Gen.Int[16, 28])
            .Select((third, fourth, length) => Cidr.Create(IpAddress.Parse($"198.19.{third * 60}.{fourth}"), length).ToString())
            .Array[0, 12];

    [Fact]
    public void TheReRender_AfterAnyEntryEdit_IsTheFullRender()
    {
        Gen.Select(Blocks, Blocks, Blocks, Blocks).Sample((office, partners, office2, partners2) =>
        {
            var (before, after) = (Parts(Text(office, partners)), Parts(Text(office2, partners2)));
            var applied = PolicyRenderer.Render(before, 7);
            var rerendered = PolicyRenderer.Rerender(applied, before, after, 8);
            var full = PolicyRenderer.Render(after, 8);
            Assert.Equal(NftText.FullApply(full), NftText.FullApply(rerendered));
            Assert.True(rerendered.SameShapeAs(applied));
            Assert.Equal(full.Problems, rerendered.Problems);
        }, iter: 200);
    }

    /// <summary>The fast path is taken for an entry edit: the chains are the applied ruleset's own objects, not compiled again.</summary>
    [Fact]
    public void AnEntryEdit_KeepsTheAppliedChains_AndRebuildsOnlyTheListsSets()
    {
        var before = Parts(Text(["198.19.0.0/16"], ["198.19.60.0/24"]));
        var applied = PolicyRenderer.Render(before, 7);
        var rerendered = PolicyRenderer.Rerender(applied, before, Parts(Text(["198.19.0.0/16", "198.18.200.0/24"], ["198.19.60.0/24"])), 8);
        Assert.Equal(8, rerendered.Revision);
        Assert.True(applied.Nics.Zip(rerendered.Nics).All(p => ReferenceEquals(p.First, p.Second)));
        Assert.Equal(["pl4_pl-office"], rerendered.SetsChangedSince(applied).Select(s => s.Name));
        Assert.Equal(["198.18.200.0/24", "198.19.0.0/16"], rerendered.Sets.Single(s => s.Name == "pl4_pl-office").Elements.Select(e => e.ToString()).Order(StringComparer.Ordinal));
    }

    /// <summary>Anything but entries renders whole: a rule, an instance's address, a binding, a state without its text.</summary>
    [Fact]
    public void AnyOtherChange_RendersWhole()
    {
        var before = Parts(Text(["198.19.0.0/16"], []));
        var applied = PolicyRenderer.Render(before, 7);
        foreach (var (what, after) in new (string, IReadOnlyList<HostPart>)[]
        {
            ("a rule's ports", Parts(Text(["198.19.0.0/16"], [], sshPort: "2222/2222"))),
            ("a member's address", Parts(Text(["198.19.0.0/16"], [], web2Address: "198.18.1.13"))),
            ("a binding", [new HostPart(StateFileReader.Read(Text(["198.19.0.0/16"], [])), Bindings.Take(2).ToList()) { Source = Text(["198.19.0.0/16"], []) }]),
            ("no source text", [new HostPart(StateFileReader.Read(Text(["198.19.1.0/24"], [])), Bindings)]),
        })
        {
            var rerendered = PolicyRenderer.Rerender(applied, before, after, 8);
            var full = PolicyRenderer.Render(after, 8);
            Assert.True(NftText.FullApply(full) == NftText.FullApply(rerendered), what);
            Assert.False(applied.Nics.Zip(rerendered.Nics).All(p => ReferenceEquals(p.First, p.Second)), what);
        }
    }

    /// <summary>
    /// The slow twin of the kernel step: the update's <c>delete element</c> and <c>add element</c>
    /// lines, applied in order to the sets of the old ruleset, give exactly the sets a full apply of the
    /// new one loads; and no line names anything but a set's elements.
    /// </summary>
    [Fact]
    public void TheUpdate_AppliedToTheOldSets_GivesTheNewSets()
    {
        Gen.Select(Blocks, Blocks, Blocks, Blocks).Sample((office, partners, office2, partners2) =>
        {
            var before = PolicyRenderer.Render(Parts(Text(office, partners)), 7);
            var after = PolicyRenderer.Render(Parts(Text(office2, partners2)), 8);
            var kernel = before.Sets.ToDictionary(s => s.Name, s => s.Elements.Select(e => e.ToString()).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
            foreach (var line in NftText.SetUpdate(before, after).TrimEnd().Split('\n').Skip(1))
            {
                var words = line.Split(' ', 6);
                Assert.Equal(["element", "inet", "palisade"], words[1..4]);
                var elements = words[5].Trim('{', '}', ' ').Split(", ");
                var set = kernel[words[4]];
                if (words[0] == "delete")
                {
                    // The kernel refuses to delete what the set does not hold.
                    Assert.All(elements, e => Assert.True(set.Remove(e), $"{e} is not in {words[4]}"));
                }
                else
                {
                    Assert.Equal("add", words[0]);
                    Assert.All(elements, e => Assert.True(set.Add(e), $"{e} is already in {words[4]}"));
                }
            }
            Assert.Equal(after.Sets.Select(s => s.Name), kernel.Keys);
            foreach (var set in after.Sets)
                Assert.True(kernel[set.Name].SetEquals(set.Elements.Select(e => e.ToString())), set.Name);
        }, iter: 200);
    }
}
