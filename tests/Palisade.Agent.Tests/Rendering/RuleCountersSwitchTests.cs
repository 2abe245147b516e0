using System.Text.RegularExpressions;
using Palisade.Agent.Rendering;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// Issue 20 item 6: the rule counters can be switched off (<c>palisade agent --no-rule-counters</c>).
/// Off, the kernel program is the counted one with only the counting taken out: no counter objects,
/// run sets as plain interval sets instead of maps to counters, no <c>counter name</c> on a rule.
/// </summary>
public sealed partial class RuleCountersSwitchTests
{
    [Fact]
    public void CountersOff_IsTheCountedRuleset_WithOnlyTheCountingTakenOut()
    {
        var counted = PolicyRenderer.Render(Scenario.State(), Scenario.Bindings, 42);
        var uncounted = counted with { Counters = false };
        var text = NftText.FullApply(uncounted);
        Golden.Assert("scenario-no-counters.nft", text);
        Assert.DoesNotContain("counter", text, StringComparison.Ordinal);
        Assert.Empty(NftText.Counters(uncounted));
        Assert.NotEmpty(NftText.Counters(counted));
        Assert.Equal(text, WithoutCounting(NftText.FullApply(counted)));
    }

    /// <summary>A run of same-verdict rules is a map to counters when counted, a plain interval set when not.</summary>
    [Fact]
    public void CountersOff_ARunOfRules_IsAPlainSetLookup()
    {
        var state = Domain.State.StateFileReader.Read("""
            {"SecurityGroups": [{"SecurityGroupId": "sg-db", "VpcId": "vpc-a", "Permissions": {"Permission": [
               {"SecurityGroupRuleId": "sgr-app1", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceCidrIp": "198.18.5.0/24", "Priority": 1},
               {"SecurityGroupRuleId": "sgr-app2", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5433", "SourceCidrIp": "198.18.6.0/24", "Priority": 1},
               {"SecurityGroupRuleId": "sgr-any", "Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1", "SourceCidrIp": "198.18.7.0/24", "Priority": 2},
               {"SecurityGroupRuleId": "sgr-any2", "Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1", "SourceCidrIp": "198.18.9.0/24", "Priority": 2}]}}],
             "Instances": [{"InstanceId": "i-db1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.21"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}
            """);
        var counted = PolicyRenderer.Render(state, [new(Domain.Identifiers.InstanceId.Parse("i-db1"), "vh-db1")], 5);
        Assert.Contains(counted.Nics[0].Ingress.Rules, r => r is NftRunSet);
        var text = NftText.FullApply(counted with { Counters = false });
        Golden.Assert("run-sets-no-counters.nft", text);
        Assert.DoesNotContain("counter", text, StringComparison.Ordinal);
        Assert.Equal(text, WithoutCounting(NftText.FullApply(counted)));
        // What the run decides is the same either way: the model is one, only its text differs.
        var simulator = new RulesetSimulator(counted with { Counters = false });
        Assert.True(simulator.Allows(new Engine.Flows.Flow(Domain.Networking.IpAddress.Parse("198.18.6.9"), Domain.Networking.IpAddress.Parse("198.18.1.21"), Domain.Networking.IpProtocol.Tcp, 5433)));
    }

    [Fact]
    public void CountersOff_ARuleChange_ReplacesChainsAndSetsWithoutCounters()
    {
        var before = PolicyRenderer.Render(Scenario.State(), Scenario.Bindings, 42) with { Counters = false };
        var after = PolicyRenderer.Render(Scenario.WithRedisSsh(), Scenario.Bindings, 43) with { Counters = false };
        var text = NftText.Incremental(before, after)!;
        Assert.DoesNotContain("counter", text, StringComparison.Ordinal);
        Assert.Equal(WithoutCounting(NftText.Incremental(before with { Counters = true }, after with { Counters = true })!)
                .Split('\n').Where(l => l.Length > 0 && !l.StartsWith("add counter", StringComparison.Ordinal) && !l.StartsWith("delete counter", StringComparison.Ordinal)),
            text.Split('\n').Where(l => l.Length > 0));
        // Switching the counters is a change of the program: never an element or chain update.
        Assert.False(after.SameShapeAs(after with { Counters = true }));
        Assert.Null(NftText.Incremental(before, after with { Counters = true }));
    }

    /// <summary>The counted text with the counting removed, textually: what the switch must render.</summary>
    private static string WithoutCounting(string counted)
    {
        var text = CounterObject().Replace(counted, "");
        text = CountedMap().Replace(text, "\tset $1 {\n\t\ttype $2\n");
        text = text.Replace("add map inet", "add set inet", StringComparison.Ordinal).Replace(" : counter;", ";", StringComparison.Ordinal)
            .Replace("delete map inet", "delete set inet", StringComparison.Ordinal);
        text = CounterOfElement().Replace(text, "");
        text = CountedLookup().Replace(text, "$1 $2 @");
        return CounterOfRule().Replace(text, "");
    }

    [GeneratedRegex(@"\tcounter c_\S+ \{\n\t\}\n\n")]
    private static partial Regex CounterObject();

    [GeneratedRegex(@"\tmap (\S+) \{\n\t\ttype (.*?) : counter\n")]
    private static partial Regex CountedMap();

    [GeneratedRegex(@" : ""c_[^""]+""")]
    private static partial Regex CounterOfElement();

    [GeneratedRegex(@"counter name (ip6?) (.*?) map @")]
    private static partial Regex CountedLookup();

    [GeneratedRegex(@"counter name ""c_[^""]+"" ")]
    private static partial Regex CounterOfRule();
}
