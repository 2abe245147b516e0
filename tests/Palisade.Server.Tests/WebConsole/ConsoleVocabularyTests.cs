using System.Diagnostics;
using System.Text.Json;
using CsCheck;
using Palisade.Domain.Ecs;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.TestKit;

namespace Palisade.Server.Tests.WebConsole;

/// <summary>
/// The console's ecs.js against the server's Domain: the protocols it offers, the field a typed peer
/// goes to, and the order rules are listed in, run by Node.js on the very file the server serves.
/// </summary>
public sealed class ConsoleVocabularyTests
{
    private static readonly string Module = Path.Combine(Golden.RepositoryRoot(), "src", "Palisade.Server", "WebConsole", "wwwroot", "ecs.js");

    private static JsonElement RunNode(string script)
    {
        var start = new ProcessStartInfo("node", ["--input-type=module", "-e", $"import * as ecs from '{new Uri(Module).AbsoluteUri}';\n{script}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start (test.sh installs Node.js)");
        var output = node.StandardOutput.ReadToEnd();
        var error = node.StandardError.ReadToEnd();
        node.WaitForExit();
        Assert.True(node.ExitCode == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public void TheProtocols_AreTheDomainsWireNames()
    {
        var js = RunNode("console.log(JSON.stringify(ecs.PROTOCOLS));").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(Enum.GetValues<IpProtocol>().Select(p => p.ToWire()).Order(), js.Order());
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData(" 2001:db8::/32 ")]
    [InlineData("sg-bp1abc")]
    [InlineData("pl-bp1abc")]
    [InlineData("0.0.0.0/0")]
    public void APeer_GoesToTheFieldTheDomainPutsItIn(string text)
    {
        foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
        {
            var js = RunNode($"console.log(JSON.stringify(ecs.peerParameters({(direction == Direction.Ingress ? "true" : "false")}, {JsonSerializer.Serialize(text)})));");
            var expected = new PermissionFields().WithPeer(direction, text.Trim()).Pairs().ToDictionary();
            Assert.Equal(expected, js.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
        }
    }

    [Fact]
    public void APeersKind_IsReadFromItsField_AsTheDomainReadsIt()
    {
        // Rules as DescribeSecurityGroupAttribute answers them: every field present, "" when unset.
        var rules = new List<(Dictionary<string, string> Fields, bool Ingress, string? Kind)>();
        Gen.Select(SmallUniverse.Rule, Gen.Bool).Sample((rule, ingress) =>
        {
            var fields = PermissionFields.Of(rule);
            var wire = PermissionFields.Names.ToDictionary(n => n, _ => "");
            foreach (var (name, value) in fields.Pairs())
                wire[name] = value;
            rules.Add((wire, ingress, fields.PeerOn(ingress ? Direction.Ingress : Direction.Egress)?.ToString()));
        }, iter: 200, threads: 1);
        var js = RunNode($"const rules = {JsonSerializer.Serialize(rules.Select(r => new { r.Fields, r.Ingress }))}; console.log(JSON.stringify(rules.map(r => ecs.peerKindOf(r.Fields, r.Ingress))));")
            .EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? null : e.GetString()).ToList();
        Assert.Equal(rules.Select(r => r.Kind), js);
        Assert.Contains("Group", js);
        Assert.Contains("PrefixList", js);
    }

    [Fact]
    public void TheRuleFields_AreTheDomainsPermissionFields()
    {
        var js = RunNode("console.log(JSON.stringify(ecs.PERMISSION_FIELDS));").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(PermissionFields.Names, js);
    }

    [Fact]
    public void ARuleAsAnswered_BecomesTheFieldsThatMakeItAgain()
    {
        // Rules as DescribeSecurityGroupAttribute renders them (with the ID, direction and names it adds).
        var rules = new List<SecurityGroupRule>();
        Gen.Select(SmallUniverse.Rule, Gen.Bool).Sample((rule, ingress) => rules.Add(rule with { Direction = ingress ? Direction.Ingress : Direction.Egress }), iter: 200, threads: 1);
        var answered = rules.Select(r => JsonDocument.Parse(Palisade.Server.Responses.ResponseWriter.Json(Palisade.Server.Actions.Views.Permission(r, _ => "a group", _ => "a list"))).RootElement).ToList();
        var js = RunNode($"const rules = {JsonSerializer.Serialize(answered)}; console.log(JSON.stringify(rules.map(ecs.permissionParameters)));")
            .EnumerateArray().Select(o => o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)).ToList();
        for (var i = 0; i < rules.Count; i++)
        {
            var fields = PermissionFields.From(js[i]);
            Assert.All(js[i].Keys, k => Assert.Contains(k, PermissionFields.Names));
            var made = PermissionFields.Of(rules[i]);
            // The answer has one owner field per side (ECS's): an owner ID comes back in it.
            Assert.Equal(made with { SourceGroupOwnerId = null, SourceGroupOwnerAccount = made.SourceGroupOwnerId ?? made.SourceGroupOwnerAccount, DestGroupOwnerId = null, DestGroupOwnerAccount = made.DestGroupOwnerId ?? made.DestGroupOwnerAccount }, fields);
        }
    }

    [Fact]
    public void RulesAreListed_InTheDomainsEffectiveOrder()
    {
        var rules = Enumerable.Range(0, 40).Select(i => new { Priority = 1 + (i * 37 % 7), Policy = i % 3 == 0 ? "Drop" : "Accept", Id = i }).ToList();
        var js = RunNode($"const rules = {JsonSerializer.Serialize(rules)}; console.log(JSON.stringify(rules.sort(ecs.effectiveOrder).map(r => r.Id)));")
            .EnumerateArray().Select(e => e.GetInt32()).ToList();
        var ordered = js.Select(id => rules[id]).ToList();
        for (var i = 1; i < ordered.Count; i++)
            Assert.True(EffectiveOrder.Key(ordered[i - 1].Priority.ToString(), ordered[i - 1].Policy).CompareTo(EffectiveOrder.Key(ordered[i].Priority.ToString(), ordered[i].Policy)) <= 0);
    }

    [Theory]
    [InlineData("TCP", "9090", "9090/9090", "9090")]
    [InlineData("UDP", " 8000-8010 ", "8000/8010", "8000-8010")]
    [InlineData("TCP", "8000 - 8010", "8000/8010", "8000-8010")]
    [InlineData("TCP", "all", "1/65535", "all")]
    [InlineData("TCP", "", "1/65535", "all")]
    [InlineData("TCP", "22/22", "22/22", "22")]
    [InlineData("ICMP", "all", "-1/-1", "all")]
    [InlineData("GRE", "", "-1/-1", "all")]
    [InlineData("ALL", "-1/-1", "-1/-1", "all")]
    public void PortsAsTyped_BecomeARangeTheDomainAccepts_AndReadBackInOneNotation(string protocol, string typed, string wire, string shown)
    {
        var js = RunNode($"console.log(JSON.stringify([ecs.portRangeParameter({JsonSerializer.Serialize(protocol)}, {JsonSerializer.Serialize(typed)}), ecs.portsNotation(ecs.portRangeParameter({JsonSerializer.Serialize(protocol)}, {JsonSerializer.Serialize(typed)}))]));");
        Assert.Equal(wire, js[0].GetString());
        Assert.Equal(shown, js[1].GetString());
        Assert.True(IpProtocols.TryParse(protocol, out var p) && PortRange.ParseFor(p, wire).TryGet(out _, out _), $"{protocol} {wire} is refused by the domain");
    }

    [Theory]
    [InlineData("TCP", "22/abc")]
    [InlineData("TCP", "http")]
    [InlineData("ICMP", "22")]
    public void WhatIsNotAPort_GoesAsTyped_ForTheServerToExplain(string protocol, string typed)
    {
        var js = RunNode($"console.log(JSON.stringify(ecs.portRangeParameter({JsonSerializer.Serialize(protocol)}, {JsonSerializer.Serialize(typed)})));");
        Assert.Equal(typed, js.GetString());
        Assert.True(IpProtocols.TryParse(protocol, out var p) && !PortRange.ParseFor(p, typed).TryGet(out _, out _));
    }
}
