using Palisade.Agent.Rendering;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// Issue 16 item 6: a prefix-list peer becomes a named interval set of the list's blocks, so that
/// editing the list's entries reaches the kernel as a set-element update, not a rule rewrite.
/// </summary>
public sealed class PrefixListSetTests
{
    private static NetworkState State(params string[] entries) => StateFileReader.Read("""
        {"PrefixLists": [{"PrefixListId": "pl-office", "PrefixListName": "office", "AddressFamily": "IPv4", "MaxEntries": 10,
            "Entries": {"Entry": [ENTRIES]}}],
         "PortRangeLists": [{"PortRangeListId": "prl-web", "Entries": {"Entry": [{"PortRange": "80/80"}, {"PortRange": "443/443"}]}}],
         "SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-office", "Direction": "ingress", "IpProtocol": "TCP", "PortRangeListId": "prl-web", "SourcePrefixListId": "pl-office", "Priority": 1},
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourcePrefixListId": "pl-office", "Priority": 1}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}}]}
        """.Replace("ENTRIES", string.Join(", ", entries.Select(e => $"{{\"Cidr\": \"{e}\"}}")), StringComparison.Ordinal));

    private static readonly IReadOnlyList<HostBinding> Bindings = [new(Domain.Identifiers.InstanceId.Parse("i-web1"), "vh-web1")];

    private static bool Allows(HostRuleset ruleset, string source, int port) =>
        new RulesetSimulator(ruleset).Allows(new Flow(IpAddress.Parse(source), IpAddress.Parse("198.18.1.11"), IpProtocol.Tcp, port));

    [Fact]
    public void APrefixListPeer_IsOneNamedIntervalSet_SharedByTheRulesThatNameIt()
    {
        var ruleset = PolicyRenderer.Render(State("198.19.0.0/16", "198.18.2.0/24", "198.19.5.0/24"), Bindings, 7);
        var set = Assert.Single(ruleset.Sets, s => s.Name == "pl4_pl-office");
        Assert.True(set.Interval);
        // A block inside another is left out: the kernel refuses overlapping intervals.
        Assert.Equal(["198.18.2.0/24", "198.19.0.0/16"], set.Elements.Select(e => e.ToString()));
        Assert.True(Allows(ruleset, "198.19.5.9", 443));
        Assert.True(Allows(ruleset, "198.18.2.9", 22));
        Assert.False(Allows(ruleset, "198.18.3.9", 443));
        Assert.False(Allows(ruleset, "198.19.5.9", 8080));
        Golden.Assert("prefix-list.nft", NftText.FullApply(ruleset));
    }

    [Fact]
    public void AnEntryEdit_IsASetElementUpdate_ThatOpensAndClosesFlows()
    {
        var before = PolicyRenderer.Render(State("198.19.0.0/16"), Bindings, 7);
        var after = PolicyRenderer.Render(State("198.18.2.0/24"), Bindings, 8);
        Assert.True(after.SameShapeAs(before));
        Assert.Equal(["pl4_pl-office"], after.SetsChangedSince(before).Select(s => s.Name));
        Assert.True(Allows(before, "198.19.0.9", 80));
        Assert.False(Allows(after, "198.19.0.9", 80));
        Assert.True(Allows(after, "198.18.2.9", 80));
        Golden.Assert("prefix-list-edit.nft", NftText.SetUpdate(before, after));
    }

    /// <summary>
    /// Only the difference reaches the kernel: the entries removed as <c>delete element</c> (first, so a
    /// wider block may replace narrower ones), the entries added as <c>add element</c>; the entries that
    /// stay, the rules, the chains and every other set are not named.
    /// </summary>
    [Fact]
    public void AnEntryEdit_NamesOnlyTheEntriesThatChanged()
    {
        var before = PolicyRenderer.Render(State("198.18.2.0/24", "198.18.3.0/24", "198.19.7.0/24"), Bindings, 7);
        var after = PolicyRenderer.Render(State("198.18.2.0/24", "198.19.7.0/24", "198.19.8.0/24", "198.19.9.0/24"), Bindings, 8);
        var text = NftText.SetUpdate(before, after);
        Assert.Equal(
            [
                "# palisade: revision 7 -> 8, set elements only",
                "delete element inet palisade pl4_pl-office { 198.18.3.0/24 }",
                "add element inet palisade pl4_pl-office { 198.19.8.0/24, 198.19.9.0/24 }",
            ],
            text.TrimEnd().Split('\n'));
        Golden.Assert("prefix-list-delta.nft", text);
        // A block replaced by a wider one that covers it: the narrow one leaves before the wide one comes.
        var widened = PolicyRenderer.Render(State("198.18.0.0/16", "198.19.7.0/24"), Bindings, 9);
        var lines = NftText.SetUpdate(before, widened).TrimEnd().Split('\n');
        Assert.Equal("delete element inet palisade pl4_pl-office { 198.18.2.0/24, 198.18.3.0/24 }", lines[1]);
        Assert.Equal("add element inet palisade pl4_pl-office { 198.18.0.0/16 }", lines[2]);
        Assert.DoesNotContain(lines, l => l.Contains("rule", StringComparison.Ordinal) || l.Contains("chain", StringComparison.Ordinal) || l.StartsWith("flush", StringComparison.Ordinal));
    }
}
