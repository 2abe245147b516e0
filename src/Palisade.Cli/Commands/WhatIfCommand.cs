using System.CommandLine;
using System.Text;
using System.Text.Json;
using Palisade.Client;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;
using Palisade.Cli.Evaluation;
using Palisade.Domain.Ecs;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade whatif</c>: what a change would open and close, before it is made: on a state file, or on a server.</summary>
public static partial class WhatIfCommand
{
    public static Command Build()
    {
        var command = new Command("whatif", """
            Show the flows a change would open (gains) and close (losses) before it is made: every instance's
            reachability before and after, compared port by port. On a state file (--state), or without one
            on the server (--server, $PALISADE_SERVER or the profile): it checks the change as the ECS action
            would (its errors are the answer), makes it and rolls it back (DescribeChangeImpact; IPv4 only).

            Examples:
              palisade whatif leave --state prod.json --instance i-web1 --group sg-web
              palisade whatif revoke --state prod.json --rule sgr-ssh
              palisade whatif authorize --state prod.json --group sg-db --protocol tcp --ports 5432/5432 --peer sg-app
              palisade whatif modify --state prod.json --rule sgr-ssh --peer 203.0.113.0/24
              palisade whatif prefix-list --state prod.json --list pl-apps --add 0.0.0.0/0 --remove 10.0.1.0/24
              palisade whatif leave --server http://127.0.0.1:8080 --instance i-bp1… --group sg-bp1…
            """);
        var json = new Option<bool>("--json") { Description = "Print the impact as JSON.", Recursive = true };
        command.Add(json);
        var ipv6 = new Option<bool>("--ipv6") { Description = "Flows between the instances' IPv6 addresses (and the IPv6 internet) instead of IPv4.", Recursive = true };
        command.Add(ipv6);

        Command Sub(string name, string description, Option[] options, Func<ParseResult, Domain.State.NetworkState, Change> change)
        {
            var state = new StateSource();
            var sub = new Command(name, description);
            foreach (var o in options)
                sub.Add(o);
            state.AddTo(sub);
            sub.SetAction((parse, cancel) => state.Run(parse, async () =>
            {
                try
                {
                    Impact impact;
                    Domain.State.NetworkState networkState;
                    if (state.IsRemote(parse))
                    {
                        if (parse.GetValue(ipv6))
                            throw new UsageException("--ipv6 needs a state file (palisade export --out FILE): the server's DescribeChangeImpact compares IPv4 flows");
                        var c = state.Remote(parse, cancel);
                        // The state names the group and direction of a rule given by ID, and checks the change as offline.
                        networkState = await StateSource.FetchAsync(c);
                        impact = await ServerImpactAsync(c, networkState, change(parse, networkState));
                    }
                    else
                    {
                        networkState = StateFileOption.Load(parse.GetValue(state.File)!);
                        impact = ImpactAnalysis.Of(ReachMatrix.Build(networkState, parse.GetValue(ipv6)), change(parse, networkState));
                    }
                    parse.InvocationConfiguration.Output.Write(parse.GetValue(json) ? Json(impact) : Text(impact, NameResolver.NamesOf(networkState)));
                    return ExitCodes.Ok;
                }
                catch (ArgumentException e)
                {
                    throw new UsageException(e.Message);
                }
            }));
            return sub;
        }

        Option<string> Required(string name, string description) => new(name) { Description = description, Required = true };
        var instance = Required("--instance", "The instance, by ID or name, or one of its network interfaces (eni-…).");
        var group = Required("--group", "The security group, by ID or name.");
        command.Add(Sub("join", "An instance or network interface joins a group (JoinSecurityGroup).", [instance, group], (p, state) =>
        {
            var (id, eni) = Interface(state, p.GetValue(instance)!);
            return new Change.Join(id, Group(state, p.GetValue(group)!), eni);
        }));
        var leaveInstance = Required("--instance", "The instance, by ID or name, or one of its network interfaces (eni-…).");
        var leaveGroup = Required("--group", "The security group, by ID or name.");
        command.Add(Sub("leave", "An instance or network interface leaves a group (LeaveSecurityGroup): the connections it would lose.", [leaveInstance, leaveGroup], (p, state) =>
        {
            var (id, eni) = Interface(state, p.GetValue(leaveInstance)!);
            return new Change.Leave(id, Group(state, p.GetValue(leaveGroup)!), eni);
        }));
        var rule = Required("--rule", "The rule, by SecurityGroupRuleId.");
        command.Add(Sub("revoke", "A rule is revoked (RevokeSecurityGroup / RevokeSecurityGroupEgress).", [rule],
            (p, _) => new Change.Revoke(SecurityGroupRuleId.TryParse(p.GetValue(rule), out var id) ? id : throw new UsageException($"--rule '{p.GetValue(rule)}' is not a rule ID (sgr-…)"))));
        var deleteGroup = Required("--group", "The security group, by ID or name.");
        command.Add(Sub("delete-group", "A group is deleted (DeleteSecurityGroup).", [deleteGroup], (p, state) => new Change.DeleteGroup(Group(state, p.GetValue(deleteGroup)!))));
        var policyGroup = Required("--group", "The security group, by ID or name.");
        var inner = Required("--inner-access", "Accept or Drop.");
        command.Add(Sub("policy", "A group's InnerAccessPolicy changes (ModifySecurityGroupPolicy).", [policyGroup, inner],
            (p, state) => new Change.SetInnerAccessPolicy(Group(state, p.GetValue(policyGroup)!),
                InnerAccessPolicies.TryParse(p.GetValue(inner), out var policy) ? policy : throw new UsageException($"--inner-access '{p.GetValue(inner)}' is not Accept or Drop"))));

        var authGroup = Required("--group", "The security group the rule goes into.");
        var direction = new Option<string>("--direction") { Description = "ingress or egress.", DefaultValueFactory = _ => "ingress" };
        var protocol = Required("--protocol", "TCP, UDP, ICMP, ICMPv6, GRE or ALL.");
        var ports = new Option<string>("--ports") { Description = "start/end; -1/-1 for protocols without ports.", DefaultValueFactory = _ => "-1/-1" };
        var peer = Required("--peer", "A CIDR block, an IPv6 block or a group ID.");
        var policyOption = new Option<string>("--policy") { Description = "accept or drop.", DefaultValueFactory = _ => "accept" };
        var priority = new Option<string>("--priority") { Description = "1 to 100.", DefaultValueFactory = _ => "1" };
        command.Add(Sub("authorize", "A rule is added (AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress).", [authGroup, direction, protocol, ports, peer, policyOption, priority], (p, state) =>
        {
            var directionText = p.GetValue(direction)!;
            if (!Directions.TryParse(directionText, out var dir))
                throw new UsageException($"--direction '{directionText}' is not ingress or egress");
            var fields = new PermissionFields
            {
                IpProtocol = p.GetValue(protocol),
                PortRange = p.GetValue(ports),
                Policy = p.GetValue(policyOption),
                Priority = p.GetValue(priority),
            }.WithPeer(dir, p.GetValue(peer)!);
            var groupId = Group(state, p.GetValue(authGroup)!);
            var target = state.FindGroup(groupId) ?? throw new UsageException($"--group {groupId}: no such group in the state file");
            var parsed = PermissionParser.Parse(dir, fields, new RuleContext(target.IsClassic, target.Type, state.FindPrefixList), SecurityGroupRuleId.Parse("sgr-whatif"), DateTimeOffset.UnixEpoch);
            return parsed.TryGet(out var newRule, out var error)
                ? new Change.Authorize(groupId, newRule)
                : throw new UsageException($"{error.Code}: {error.Message}");
        }));

        var modifyRule = Required("--rule", "The rule, by SecurityGroupRuleId.");
        var newProtocol = new Option<string>("--protocol") { Description = "The new protocol (unchanged when not given)." };
        var newPorts = new Option<string>("--ports") { Description = "The new port range, start/end." };
        var newPeer = new Option<string>("--peer") { Description = "The new peer: a CIDR block, an IPv6 block or a group ID." };
        var newPolicy = new Option<string>("--policy") { Description = "accept or drop." };
        var newPriority = new Option<string>("--priority") { Description = "1 to 100." };
        command.Add(Sub("modify", "A rule's attributes change, keeping its ID (ModifySecurityGroupRule / ModifySecurityGroupEgressRule).",
            [modifyRule, newProtocol, newPorts, newPeer, newPolicy, newPriority], (p, state) =>
        {
            var ruleText = p.GetValue(modifyRule)!;
            var ruleId = SecurityGroupRuleId.TryParse(ruleText, out var id) ? id : throw new UsageException($"--rule '{ruleText}' is not a rule ID (sgr-…)");
            var owner = state.Groups.FirstOrDefault(g => g.Rules.Any(r => r.Id == ruleId)) ?? throw new UsageException($"--rule {ruleId}: no such rule in the state file");
            var old = owner.Rules.First(r => r.Id == ruleId);
            // What is not given stays as it is; the result is checked as ECS checks a rule.
            var fields = new PermissionFields
            {
                IpProtocol = p.GetValue(newProtocol) ?? old.Protocol.ToWire(),
                PortRange = p.GetValue(newPorts) ?? old.Ports.ToString(),
                Policy = p.GetValue(newPolicy) ?? old.Policy.ToWire(),
                Priority = p.GetValue(newPriority) ?? old.Priority.ToString(),
                NicType = old.NicType.ToWire(),
                Description = old.Description,
            }.WithPeer(old.Direction, p.GetValue(newPeer) ?? old.Peer.ToString());
            var parsed = PermissionParser.Parse(old.Direction, fields, new RuleContext(owner.IsClassic, owner.Type, state.FindPrefixList), ruleId, old.CreateTime);
            if (!parsed.TryGet(out var rule, out var error))
                throw new UsageException($"{error.Code}: {error.Message}");
            rule = rule with
            {
                // A peer not given is the old one, with its owner; source ports, local CIDR and a port list stay where they still apply.
                Peer = p.GetValue(newPeer) is null ? old.Peer : rule.Peer,
                SourcePorts = rule.Protocol.HasPorts() ? old.SourcePorts : null,
                LocalCidr = old.LocalCidr,
                PortRangeListId = p.GetValue(newPorts) is null && rule.Protocol.HasPorts() ? old.PortRangeListId : null,
            };
            return new Change.Modify(ruleId, rule);
        }));

        var list = Required("--list", "The prefix list, by PrefixListId.");
        var addEntry = new Option<string[]>("--add") { Description = "A CIDR block to add (repeatable).", HelpName = "CIDR" };
        var removeEntry = new Option<string[]>("--remove") { Description = "A CIDR block to remove (repeatable).", HelpName = "CIDR" };
        command.Add(Sub("prefix-list", "A prefix list's entries change (ModifyPrefixList): every rule naming it follows.", [list, addEntry, removeEntry], (p, _) =>
        {
            var listText = p.GetValue(list)!;
            var listId = PrefixListId.TryParse(listText, out var parsedList) ? parsedList : throw new UsageException($"--list '{listText}' is not a prefix list ID (pl-…)");
            System.Collections.Immutable.ImmutableArray<Cidr> Blocks(Option<string[]> option) => [.. (p.GetValue(option) ?? []).Select(text =>
                Cidr.TryParse(text, out var block) ? block : throw new UsageException($"{option.Name} '{text}' is not a CIDR block"))];
            return new Change.ModifyPrefixList(listId, Blocks(addEntry), Blocks(removeEntry));
        }));
        return command;
    }

    /// <summary>
    /// The server's own what-if (DescribeChangeImpact): the change as the ECS request that would make
    /// it, checked by the server as that action checks it, made and rolled back. Past the server's
    /// size limit for it, the impact is worked out here from the server's state instead.
    /// </summary>
    private static async Task<Impact> ServerImpactAsync(RemoteContext c, Domain.State.NetworkState state, Change change)
    {
        var (action, parameters) = Request(change, state);
        var answer = await c.CallAsync("DescribeChangeImpact", [new("ChangeAction", action), .. parameters]);
        var impact = answer.GetProperty("Impact");
        if (!impact.TryGetProperty("Computed", out var computed) || !computed.GetBoolean())
        {
            c.Error.WriteLine($"note: the server did not work out the impact ({impact.Str("Reason")}); worked out here from its state");
            return ImpactAnalysis.Of(ReachMatrix.Build(state), change);
        }
        static List<FlowDelta> Flows(JsonElement impact, string name) => [.. impact.Items(name, "Flow").Select(f =>
        {
            IpProtocols.TryParse(f.Str("IpProtocol"), out var protocol);
            var ports = f.Items("PortRanges", "PortRange").Select(p => PortRange.TryParseSyntax(p.GetString(), out var from, out var to) && from > 0 ? PortRange.Create(from, to) : PortRange.Any);
            return new FlowDelta(f.Str("Source"), f.Str("Target"), protocol, [.. ports]);
        })];
        return new Impact(change, Flows(impact, "Gained"), Flows(impact, "Lost"));
    }

    /// <summary>The ECS request that makes <paramref name="change"/>.</summary>
    private static (string Action, List<KeyValuePair<string, string?>> Parameters) Request(Change change, Domain.State.NetworkState state)
    {
        try
        {
            return ChangeRequest.Of(change, state);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>An instance by ID or by its name in the state (<see cref="NameResolver"/>).</summary>
    /// <summary>An instance by ID or name (its primary ENI), or a secondary ENI by its ID with the instance it is attached to.</summary>
    private static (InstanceId Instance, NetworkInterfaceId? Eni) Interface(Domain.State.NetworkState state, string text)
    {
        if (!text.StartsWith(NetworkInterfaceId.Prefix, StringComparison.Ordinal))
            return (Instance(state, text), null);
        if (!NetworkInterfaceId.TryParse(text, out var eni))
            throw new UsageException($"--instance '{text}' is not a network interface ID (eni-…)");
        foreach (var i in state.Instances)
        {
            if (i.SecondaryInterfaces.Any(e => e.Id == eni))
                return (i.Id, eni);
            if (i.NetworkInterfaceId == eni)
                return (i.Id, null);
        }
        throw new UsageException($"--instance {text}: no instance in the state file has this network interface");
    }

    private static InstanceId Instance(Domain.State.NetworkState state, string text)
    {
        var resolved = NameResolver.Resolve(NameResolver.Instance, text, NameResolver.InstancesOf(state), "in the state file");
        return InstanceId.TryParse(resolved, out var id) ? id : throw new UsageException($"'{text}' is not an instance ID (i-…)");
    }

    /// <summary>A group by ID or by its name in the state (<see cref="NameResolver"/>).</summary>
    private static SecurityGroupId Group(Domain.State.NetworkState state, string text)
    {
        var resolved = NameResolver.Resolve(NameResolver.Group, text, NameResolver.GroupsOf(state), "in the state file");
        return SecurityGroupId.TryParse(resolved, out var id) ? id : throw new UsageException($"'{text}' is not a security group ID (sg-…)");
    }

    private static string Ports(FlowDelta d) => d.Protocol.HasPorts()
        ? $"{d.Protocol.ToWire()} {string.Join(", ", d.Ports.Select(p => p.ForPeople))}"
        : d.Protocol.ToWire();

    private static string Who(string source, IReadOnlyDictionary<string, string> names) => source == "internet" ? "the internet" : NameResolver.Label(source, names);

    private static string Text(Impact impact, IReadOnlyDictionary<string, string> names)
    {
        // The change names its group, instance or ENI by ID: each gets its name beside it, as every answer does.
        var change = ResourceIds().Replace(impact.Change.Describe(), m => NameResolver.Label(m.Value, names));
        var sb = new StringBuilder($"what if: {change}\n");
        foreach (var (title, deltas) in new[] { ("gains", impact.Gained), ("loses", impact.Lost) })
        {
            if (deltas.Count == 0)
            {
                sb.Append($"{title}: nothing\n");
                continue;
            }
            sb.Append($"{title}:\n");
            foreach (var group in deltas.GroupBy(d => (d.Source, d.Target)))
                sb.Append($"  {Who(group.Key.Source, names)} -> {NameResolver.Label(group.Key.Target, names)}: {string.Join("; ", group.Select(Ports))}\n");
        }
        return sb.ToString();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(?:sg|i|eni)-[0-9a-z]+\b")]
    private static partial System.Text.RegularExpressions.Regex ResourceIds();

    private static string Json(Impact impact)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("change", impact.Change.Describe());
            foreach (var (name, deltas) in new[] { ("gained", impact.Gained), ("lost", impact.Lost) })
            {
                w.WriteStartArray(name);
                foreach (var d in deltas)
                {
                    w.WriteStartObject();
                    w.WriteString("source", d.Source);
                    w.WriteString("target", d.Target);
                    w.WriteString("protocol", d.Protocol.ToWire());
                    w.WriteStartArray("ports");
                    foreach (var p in d.Ports)
                        w.WriteStringValue(p.ToString());
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
