using System.CommandLine;
using System.Globalization;
using Palisade.Analysis.Import;
using Palisade.Analysis.Suggestions;
using Palisade.Analysis.WhatIf;
using Palisade.Cli.Evaluation;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade suggest --group G [--days N] [--apply] [--yes]</c> (issue 20 item 5): the narrowest
/// ingress accept rules that keep every flow the hosts' agents saw the group's own rules admit
/// (<c>DescribeSecurityGroupObservedFlows</c>), decided here by the pure <see cref="RuleSuggester"/>
/// on the server's state (<c>ExportSecurityState</c>), with the what-if of the replacement; with
/// <c>--apply</c>, the new rules are authorized first and the replaced ones revoked after, so that
/// no observed flow is ever cut in between.
/// </summary>
public static class SuggestCommand
{
    /// <summary>Most lines of closed reachability shown; the rest are counted.</summary>
    private const int MaxCloses = 20;

    public static Command Build()
    {
        var group = new Option<string>("--group") { Description = "The security group (ID or name).", Required = true, HelpName = "GROUP" };
        var days = new Option<int>("--days") { Description = "Look back this many days (1 to the server's flow retention).", HelpName = "N", DefaultValueFactory = _ => 7 };
        var apply = new Option<bool>("--apply") { Description = "Replace the group's ingress accept rules with the suggestion (asks first, on a terminal)." };
        var yes = new Option<bool>("--yes") { Description = "With --apply: do not ask." };
        var command = new Command("suggest", """
            Least privilege from observed flows: the narrowest ingress accept rules that keep every new
            connection the hosts' agents saw this group's own rules admit over the last days (sources
            merged into a group only when its members are exactly observed sources, into CIDR blocks only
            when a block holds nothing but observed addresses; ports into ranges only over observed
            ports; each rule at the priority of the rules that admitted its flows). Shows the rules it
            would replace (the group's ingress accept rules; drop and egress rules stay) and the what-if
            of the replacement: which observed flows it would lose (none, checked flow by flow) and what
            reachability it closes. Trust it only as far as the first line says: flows are sampled, and
            only hosts whose agents sample were watching.

            Examples:
              palisade suggest --group web --days 30
              palisade suggest --group web --days 30 --apply
            """) { group, days, apply, yes };
        return Remote.Attach(command, async c =>
        {
            var groupId = await c.Names.GroupAsync(c.Parse.GetValue(group)!);
            var n = c.Parse.GetValue(days);
            var answer = await c.CallAllAsync("DescribeSecurityGroupObservedFlows",
                [new("SecurityGroupId", groupId), new("Days", n.ToString(CultureInfo.InvariantCulture))], "ObservedFlows", "ObservedFlow");
            var state = await StateSource.FetchAsync(c);
            var flows = answer.Items("ObservedFlows", "ObservedFlow").Select(f => new ObservedConnection(
                InstanceId.Parse(f.Str("InstanceId")), IpAddress.Parse(f.Str("SourceIp")),
                IpProtocols.TryParse(f.Str("IpProtocol"), out var protocol) ? protocol : throw new UsageException($"the server named protocol '{f.Str("IpProtocol")}'"),
                f.GetProperty("Port").GetInt32(), f.GetProperty("Connections").GetInt64())
            {
                // The ENI that saw it (a server from before flows were per ENI names none: the primary's).
                NetworkInterfaceId = f.TryGetProperty("NetworkInterfaceId", out var eni) && eni.GetString() is { Length: > 0 } named ? NetworkInterfaceId.Parse(named) : null,
            }).ToList();
            var suggestion = RuleSuggester.Suggest(state, SecurityGroupId.Parse(groupId), flows);
            if (c.Json)
            {
                c.WriteJson(System.Text.Json.JsonSerializer.SerializeToElement(Json(suggestion, answer)));
            }
            else
            {
                Write(c.Output, state, suggestion, answer, n, flows.Count);
            }
            if (!c.Parse.GetValue(apply))
                return suggestion.Lost.IsEmpty ? ExitCodes.Ok : ExitCodes.Findings;
            if (!suggestion.Lost.IsEmpty)
                throw new UsageException("the suggestion would lose observed flows (a bug: it is made to keep them all); nothing applied");
            if (suggestion.Rules.IsEmpty && suggestion.Replaced.IsEmpty)
            {
                c.Output.WriteLine("nothing to apply");
                return ExitCodes.Ok;
            }
            if (Confirm.Interactive(c, c.Parse.GetValue(yes)))
            {
                c.Output.Write($"Replace {Count(suggestion.Replaced.Length, "rule")} of {groupId} with {Count(suggestion.Rules.Length, "rule")}? [y/N] ");
                c.Output.Flush();
                var reply = Console.ReadLine()?.Trim();
                if (reply is null || !(reply.Equals("y", StringComparison.OrdinalIgnoreCase) || reply.Equals("yes", StringComparison.OrdinalIgnoreCase)))
                {
                    c.Output.WriteLine("nothing applied");
                    return ExitCodes.Ok;
                }
            }
            // New rules first, then the old ones go: at no moment is an observed flow without a rule.
            foreach (var batch in suggestion.Rules.Chunk(100))
            {
                List<KeyValuePair<string, string?>> p = [new("SecurityGroupId", groupId)];
                for (var i = 0; i < batch.Length; i++)
                    p.AddRange(RuleFields.Of(batch[i], id => id).Select(f => new KeyValuePair<string, string?>($"Permissions.{i + 1}.{f.Key}", f.Value)));
                await c.CallAsync("AuthorizeSecurityGroup", p);
            }
            foreach (var batch in suggestion.Replaced.Chunk(100))
            {
                List<KeyValuePair<string, string?>> p = [new("SecurityGroupId", groupId)];
                for (var i = 0; i < batch.Length; i++)
                    p.Add(new($"SecurityGroupRuleId.{i + 1}", batch[i].Id.Value));
                await c.CallAsync("RevokeSecurityGroup", p);
            }
            c.Output.WriteLine($"applied: authorized {Count(suggestion.Rules.Length, "rule")}, revoked {Count(suggestion.Replaced.Length, "rule")}");
            return ExitCodes.Ok;
        });
    }

    private static void Write(TextWriter o, NetworkState state, Suggestion s, System.Text.Json.JsonElement answer, int days, int records)
    {
        var names = NameResolver.NamesOf(state);
        string Label(string id) => NameResolver.Label(id, names);
        var sampling = answer.GetProperty("HostsSampling").GetInt32();
        var since = answer.Str("SamplingSince");
        var dropped = answer.GetProperty("DroppedConnections").GetInt64();
        o.WriteLine($"{Label(s.GroupId.Value)}: {Count(records, "observed flow")} in {Count(days, "day")}, sampled by {Count(sampling, "host")}"
            + (since.Length > 0 ? $", all of them since {since}" : "; not every host carrying the group samples, so some flows may be missing")
            + (dropped > 0 ? $"; {Count(dropped, "connection")} seen but not kept (over the agents' rate cap)" : ""));
        var aside = s.FlowsSetAside.Where(a => a.Value > 0).Select(a => a.Key switch
        {
            SetAside.NotAMember => $"{a.Value} to NICs no longer in the group",
            SetAside.NoLongerAdmitted => $"{a.Value} the rules drop today",
            _ => $"{a.Value} admitted by another group's rule or inner access",
        }).ToList();
        o.WriteLine($"kept: {Count(s.FlowsKept, "flow")} the group's own rules admit" + (aside.Count > 0 ? $"; set aside: {string.Join(", ", aside)}" : ""));
        o.WriteLine($"replace {Count(s.Replaced.Length, "ingress accept rule")}:");
        foreach (var r in s.Replaced.OrderBy(r => r.Priority).ThenBy(r => Describe(r, Label), StringComparer.Ordinal))
            o.WriteLine($"  {r.Id} {Describe(r, Label)}");
        o.WriteLine($"with {Count(s.Rules.Length, "rule")}:");
        foreach (var line in s.Rules.Select(r => Describe(r, Label)).Order(StringComparer.Ordinal))
            o.WriteLine($"  {line}");
        o.WriteLine(s.Lost.IsEmpty
            ? "what-if: no observed flow lost"
            : $"what-if: {Count(s.Lost.Length, "observed flow")} LOST: {string.Join(", ", s.Lost.Take(5).Select(f => $"{f.Protocol.ToWire()} {f.Source} -> {Label(f.InstanceId.Value)}:{f.Port}"))}");
        Deltas(o, "closes", s.Closes, Label);
        if (s.Opens.Count > 0)
            Deltas(o, "opens", s.Opens, Label);
    }

    private static void Deltas(TextWriter o, string verb, IReadOnlyList<FlowDelta> deltas, Func<string, string> label)
    {
        if (deltas.Count == 0)
        {
            o.WriteLine($"{verb}: nothing between the region's instances or from the internet");
            return;
        }
        var lines = deltas.Select(d => $"  {(d.Source == "internet" ? "internet" : label(d.Source))} -> {label(d.Target)}: {d.Protocol.ToWire()} {string.Join(",", d.Ports.Select(Ports))}")
            .Order(StringComparer.Ordinal).ToList();
        o.WriteLine($"{verb}:");
        foreach (var line in lines.Take(MaxCloses))
            o.WriteLine(line);
        if (lines.Count > MaxCloses)
            o.WriteLine($"  … and {lines.Count - MaxCloses} more");
    }

    private static string Ports(PortRange p) => p.IsAny ? "all" : p.Low == p.High ? p.Low.ToString(CultureInfo.InvariantCulture) : $"{p.Low}-{p.High}";

    /// <summary>A rule as one line: protocol, ports, peer, policy and priority.</summary>
    public static string Describe(SecurityGroupRule r, Func<string, string> label) =>
        $"{r.Policy.ToLower()} {r.Protocol.ToWire()} {r.Ports} from {r.Peer switch { RulePeer.Group g => label(g.GroupId.Value), var p => p.ToString() }} priority {r.Priority}";

    private static object Json(Suggestion s, System.Text.Json.JsonElement answer) => new
    {
        SecurityGroupId = s.GroupId.Value,
        HostsSampling = answer.GetProperty("HostsSampling").GetInt32(),
        SamplingSince = answer.Str("SamplingSince"),
        FlowsKept = s.FlowsKept,
        FlowsSetAside = s.FlowsSetAside.ToDictionary(a => a.Key.ToString(), a => a.Value),
        Replaced = s.Replaced.Select(r => r.Id.Value).ToList(),
        Rules = s.Rules.Select(r => RuleFields.Of(r, id => id).Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value)).ToList(),
        Lost = s.Lost.Select(f => new { InstanceId = f.InstanceId.Value, SourceIp = f.Source.ToString(), IpProtocol = f.Protocol.ToWire(), f.Port }).ToList(),
        Closes = s.Closes.Select(d => new { d.Source, d.Target, IpProtocol = d.Protocol.ToWire(), Ports = d.Ports.Select(p => p.ToString()).ToList() }).ToList(),
        Opens = s.Opens.Select(d => new { d.Source, d.Target, IpProtocol = d.Protocol.ToWire(), Ports = d.Ports.Select(p => p.ToString()).ToList() }).ToList(),
    };

    private static string Count(long n, string what) => n == 1 ? $"1 {what}" : $"{n.ToString(CultureInfo.InvariantCulture)} {what}s";
}
