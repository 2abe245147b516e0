using Palisade.Client;
using Palisade.Domain.Rules;
using System.CommandLine;
using System.Text.Json;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade sg …</c>: security groups and their rules on a server, as the ECS console shows them.</summary>
public static class SecurityGroupCommands
{
    public static Command Build()
    {
        var command = new Command("sg", "Security groups and their rules on a Palisade server (ECS CreateSecurityGroup, DescribeSecurityGroups, AuthorizeSecurityGroup, …).");
        foreach (var sub in new[] { List(), Show(), Create(), Modify(), Policy(), Delete(), Authorize(), Revoke(), ModifyRule(), References(), Usage() })
            command.Subcommands.Add(sub);
        return command;
    }

    private static Argument<string> GroupArgument() => new("GROUP") { Description = "The group: its ID (sg-…), or its name when no other group of the region has it." };

    /// <summary>The group the command line names, as an ID.</summary>
    private static Task<string> GroupIdAsync(RemoteContext c, Argument<string> group) => c.Names.GroupAsync(c.Parse.GetValue(group)!);

    /// <summary>"web (sg-…)": how answers name a group.</summary>
    private static async Task<string> LabelAsync(RemoteContext c, string id) => NameResolver.Label(id, await c.Names.GroupNamesAsync());

    private static Command List()
    {
        var vpc = new Option<string?>("--vpc") { Description = "Only the groups of this VPC.", HelpName = "ID" };
        var name = new Option<string?>("--name") { Description = "Only the groups of this name.", HelpName = "NAME" };
        var command = new Command("list", "The groups of the region.\n\nExample:\n  palisade sg list --vpc vpc-bp1abc") { vpc, name };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAllAsync("DescribeSecurityGroups", [new("VpcId", c.Parse.GetValue(vpc)), new("SecurityGroupName", c.Parse.GetValue(name))], "SecurityGroups", "SecurityGroup");
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            // People look groups up by name; IDs are random.
            var rows = answer.Items("SecurityGroups", "SecurityGroup").OrderBy(g => g.Str("SecurityGroupName"), StringComparer.Ordinal).ThenBy(g => g.Str("SecurityGroupId"), StringComparer.Ordinal).Select(g => new[]
            {
                g.Str("SecurityGroupId"), g.Str("SecurityGroupName"), g.Str("SecurityGroupType"), g.Str("VpcId") is { Length: > 0 } v ? v : "classic",
                string.Join(",", g.Items("Tags", "Tag").Select(t => $"{t.Str("TagKey")}={t.Str("TagValue")}")), g.Str("Description"),
            }).ToList();
            Remote.Table(c.Output, ["ID", "NAME", "TYPE", "VPC", "TAGS", "DESCRIPTION"], rows);
            return ExitCodes.Ok;
        });
    }

    private static Command Show()
    {
        var group = GroupArgument();
        var command = new Command("show", """
            A group, its member instances and its rules, inbound and outbound, in the order they are tried:
            by priority (1 first), drop before accept at one priority. Rules naming a group show its name.

            Example:
              palisade sg show sg-bp1abc
              palisade sg show web
            """) { group };
        return Remote.Attach(command, async c =>
        {
            var answer = await AttributeAsync(c, await GroupIdAsync(c, group));
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var o = c.Output;
            o.WriteLine($"{answer.Str("SecurityGroupId")}  {answer.Str("SecurityGroupName")}");
            o.WriteLine($"  VPC {(answer.Str("VpcId") is { Length: > 0 } v ? v : "classic")}, inner access {answer.Str("InnerAccessPolicy")}{(answer.Str("Description") is { Length: > 0 } d ? $", \"{d}\"" : "")}");
            var members = (await c.CallAllAsync("DescribeInstances", [new("SecurityGroupId", answer.Str("SecurityGroupId"))], "Instances", "Instance"))
                .Items("Instances", "Instance").OrderBy(i => i.Str("InstanceName"), StringComparer.Ordinal).ThenBy(i => i.Str("InstanceId"), StringComparer.Ordinal).ToList();
            o.WriteLine();
            o.WriteLine($"Members ({members.Count})");
            if (members.Count > 0)
                Remote.Table(o, ["INSTANCE", "STATUS", "PRIVATE IP"], [.. members.Select(i => new[] { NameResolver.Label(i.Str("InstanceId"), new Dictionary<string, string> { [i.Str("InstanceId")] = i.Str("InstanceName") }), i.Str("Status"), InstanceCommands.PrivateAddresses(i) })]);
            var rules = answer.Items("Permissions", "Permission").ToList();
            var classic = answer.Str("VpcId").Length == 0;
            var names = await c.Names.GroupNamesAsync();
            foreach (var (title, direction) in new[] { ("Inbound", "ingress"), ("Outbound", "egress") })
            {
                o.WriteLine();
                var mine = rules.Where(r => r.Str("Direction") == direction)
                    .OrderBy(r => EffectiveOrder.Key(r.Str("Priority"), r.Str("Policy")))
                    .ToList();
                o.WriteLine($"{title} ({mine.Count})");
                if (mine.Count > 0 && !classic)
                    Remote.Table(o, ["PRIORITY", "POLICY", "PROTOCOL", "PORTS", direction == "ingress" ? "SOURCE" : "DESTINATION", "DESCRIPTION", "RULE"], [.. mine.Select(r => Row(r, direction, names))]);
                else if (mine.Count > 0)
                    Remote.Table(o, ["PRIORITY", "POLICY", "PROTOCOL", "PORTS", direction == "ingress" ? "SOURCE" : "DESTINATION", "NIC", "DESCRIPTION", "RULE"],
                        [.. mine.Select(r => Row(r, direction, names)).Zip(mine, (row, r) => (string[])[.. row[..5], r.Str("NicType"), .. row[5..]])]);
            }
            return ExitCodes.Ok;
        });
    }

    /// <summary>
    /// A group's attributes with every rule: all pages, and for a classic group both NICs' rules (ECS
    /// answers for one NIC type per call, the internet NIC when none is named).
    /// </summary>
    private static async Task<JsonElement> AttributeAsync(RemoteContext c, string groupId)
    {
        var first = await c.CallAllAsync("DescribeSecurityGroupAttribute", [new("SecurityGroupId", groupId)], "Permissions", "Permission");
        if (first.Str("VpcId").Length > 0)
            return first;
        var intranet = await c.CallAllAsync("DescribeSecurityGroupAttribute", [new("SecurityGroupId", groupId), new("NicType", "intranet")], "Permissions", "Permission");
        var merged = System.Text.Json.Nodes.JsonNode.Parse(first.GetRawText())!.AsObject();
        merged["Permissions"] = new System.Text.Json.Nodes.JsonObject
        {
            ["Permission"] = new System.Text.Json.Nodes.JsonArray([.. intranet.Items("Permissions", "Permission").Concat(first.Items("Permissions", "Permission"))
                .Select(r => System.Text.Json.Nodes.JsonNode.Parse(r.GetRawText()))]),
        };
        return JsonSerializer.SerializeToElement(merged);
    }

    private static string[] Row(JsonElement r, string direction, IReadOnlyDictionary<string, string> names)
    {
        var side = direction == "ingress" ? "Source" : "Dest";
        var peer = new[] { $"{side}CidrIp", $"Ipv6{side}CidrIp", $"{side}GroupId", $"{side}PrefixListId" }.Select(f => r.Str(f)).FirstOrDefault(v => v.Length > 0) ?? "";
        if (r.Str($"{side}GroupId").Length > 0)
            peer = NameResolver.Label(peer, names);
        // A port-range list stands in the ports' column, by ID: the rule's ports are its entries.
        var ports = r.Str("PortRangeListId") is { Length: > 0 } list ? list : Domain.Networking.PortRange.ForPeopleOf(r.Str("PortRange"));
        return [r.Str("Priority"), r.Str("Policy").ToLowerInvariant(), r.Str("IpProtocol"), ports, peer, r.Str("Description"), r.Str("SecurityGroupRuleId")];
    }

    private static Command Create()
    {
        var name = new Option<string>("--name") { Description = "The group's name.", Required = true, HelpName = "NAME" };
        var vpc = new Option<string?>("--vpc") { Description = "The VPC (without it: a classic-network group).", HelpName = "ID" };
        var type = new Option<string?>("--type") { Description = "normal (basic, the default) or enterprise (advanced).", HelpName = "TYPE" };
        var description = new Option<string?>("--description") { Description = "What the group is for.", HelpName = "TEXT" };
        var command = new Command("create", "A new group; prints its ID.\n\nExample:\n  palisade sg create --name web --vpc vpc-bp1abc --description \"web tier\"") { name, vpc, type, description };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("CreateSecurityGroup", [new("SecurityGroupName", c.Parse.GetValue(name)), new("VpcId", c.Parse.GetValue(vpc)),
                new("SecurityGroupType", c.Parse.GetValue(type)), new("Description", c.Parse.GetValue(description))]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine(answer.Str("SecurityGroupId"));
            return ExitCodes.Ok;
        });
    }

    private static Command Modify()
    {
        var group = GroupArgument();
        var name = new Option<string?>("--name") { Description = "The new name.", HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "The new description.", HelpName = "TEXT" };
        var command = new Command("modify", "Rename a group or change its description.\n\nExample:\n  palisade sg modify sg-bp1abc --description \"web tier, public\"") { group, name, description };
        return Remote.Attach(command, async c =>
        {
            var id = await GroupIdAsync(c, group);
            List<KeyValuePair<string, string?>> p = [new("SecurityGroupId", id), new("SecurityGroupName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description))];
            if (p.Skip(1).All(x => x.Value is null))
                throw new InvalidOperationException("say what to change: --name or --description");
            // A name or a description decides no flow: nothing to confirm.
            return await Confirm.CallAfterConfirmingAsync(c, "ModifySecurityGroupAttribute", p, yes: true, $"{await LabelAsync(c, id)} modified", what: null);
        });
    }

    private static Command Policy()
    {
        var group = GroupArgument();
        var inner = new Option<string>("--inner-access") { Description = "accept: members reach each other; drop: they do not.", Required = true, HelpName = "accept|drop" };
        inner.AcceptOnlyFromAmong("accept", "drop");
        var yes = YesOption();
        var command = new Command("policy", """
            Whether a basic group's members reach each other (InnerAccessPolicy). On a terminal it first shows
            the flows the change would stop or open (the server's dry run) and asks; --yes does not ask.

            Example:
              palisade sg policy web --inner-access drop
            """) { group, inner, yes };
        return Remote.Attach(command, async c =>
        {
            var id = await GroupIdAsync(c, group);
            var label = await LabelAsync(c, id);
            var policy = c.Parse.GetValue(inner)!;
            List<KeyValuePair<string, string?>> p = [new("SecurityGroupId", id), new("InnerAccessPolicy", Capitalized(policy))];
            return await Confirm.CallAfterConfirmingAsync(c, "ModifySecurityGroupPolicy", p, c.Parse.GetValue(yes), $"{label}: inner access {policy}", $"Set the inner access of {label} to {policy}");
        });
    }

    private static Command Delete()
    {
        var group = GroupArgument();
        var yes = YesOption();
        var command = new Command("delete", """
            Delete a group that no instance is in and no rule names. On a terminal it first shows what the
            deletion would change (the server's dry run) and asks; --yes does not ask.

            Example:
              palisade sg delete sg-bp1abc
            """) { group, yes };
        return Remote.Attach(command, async c =>
        {
            var id = await GroupIdAsync(c, group);
            var label = await LabelAsync(c, id);
            return await Confirm.CallAfterConfirmingAsync(c, "DeleteSecurityGroup", [new("SecurityGroupId", id)], c.Parse.GetValue(yes), $"{label} deleted", $"Delete {label}");
        });
    }

    private static Command Authorize()
    {
        var group = GroupArgument();
        var rules = RuleOption(required: true);
        var egress = new Option<bool>("--egress") { Description = "Outbound rules (AuthorizeSecurityGroupEgress); inbound without it." };
        var command = new Command("authorize", """
            Add rules, all or none. Each --rule is PROTOCOL PORTS PEER [accept|drop] [priority N] [desc TEXT];
            PEER is a CIDR block (IPv4 or IPv6), a group (sg-… or its name) or a prefix list (pl-…). PORTS is
            22, 8000-8010 or all. A rule the group already has is said to be there, and not added twice.

            Examples:
              palisade sg authorize sg-bp1abc --rule "tcp 443 0.0.0.0/0" --rule "tcp 22 10.0.0.0/8 priority 10"
              palisade sg authorize db --rule "tcp 3306 web"
              palisade sg authorize sg-bp1abc --egress --rule "all -1 0.0.0.0/0 drop priority 100"
            """) { group, rules, egress };
        return Remote.Attach(command, async c =>
        {
            var specs = c.Parse.GetValue(rules) ?? [];
            var isEgress = c.Parse.GetValue(egress);
            var id = await GroupIdAsync(c, group);
            var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", id) };
            for (var i = 0; i < specs.Length; i++)
                p.AddRange(RuleSpec.Fields(await WithPeerIdAsync(c, specs[i]), isEgress).Select(f => new KeyValuePair<string, string?>($"Permissions.{RuleSpec.Index(i + 1)}.{f.Key}", f.Value)));
            // ECS answers an authorization of a rule the group already has with success and adds
            // nothing; people are told so, from the rule IDs before and after.
            var before = c.Json ? null : await RuleIdsAsync(c, id);
            var answer = await c.CallAsync(isEgress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroup", p);
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var added = (await RuleIdsAsync(c, id)).Except(before!).Count();
            var there = specs.Length - added;
            var kind = isEgress ? "outbound" : "inbound";
            var label = await LabelAsync(c, id);
            c.Output.WriteLine(there == 0 ? $"{label}: {Count(added, $"{kind} rule")} authorized"
                : added == 0 ? $"{label}: {(specs.Length == 1 ? $"the {kind} rule was" : $"all {specs.Length} {kind} rules were")} already there; nothing changed"
                : $"{label}: {Count(added, $"{kind} rule")} authorized, {there} already there");
            return ExitCodes.Ok;
        });
    }

    private static Command Revoke()
    {
        var group = GroupArgument();
        var ids = new Option<string[]>("--rule-id") { Description = "A rule to remove, by its ID (repeatable).", HelpName = "sgr-…", AllowMultipleArgumentsPerToken = false };
        var rules = RuleOption(required: false);
        var egress = new Option<bool>("--egress") { Description = "Outbound rules; inbound without it." };
        var yes = YesOption();
        var command = new Command("revoke", """
            Remove rules, by ID or by their fields. On a terminal it first shows the connections that would
            be lost (the server's dry run) and asks; --yes does not ask.

            Examples:
              palisade sg revoke sg-bp1abc --rule-id sgr-bp1xyz
              palisade sg revoke web --rule "tcp 22 0.0.0.0/0" --yes
            """) { group, ids, rules, egress, yes };
        return Remote.Attach(command, async c =>
        {
            var isEgress = c.Parse.GetValue(egress);
            var id = await GroupIdAsync(c, group);
            var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", id) };
            var byId = c.Parse.GetValue(ids) ?? [];
            var specs = c.Parse.GetValue(rules) ?? [];
            if (byId.Length == 0 && specs.Length == 0)
                throw new InvalidOperationException("say which rules: --rule-id ID or --rule SPEC");
            for (var i = 0; i < byId.Length; i++)
                p.Add(new($"SecurityGroupRuleId.{RuleSpec.Index(i + 1)}", byId[i]));
            for (var i = 0; i < specs.Length; i++)
                p.AddRange(RuleSpec.Fields(await WithPeerIdAsync(c, specs[i]), isEgress).Select(f => new KeyValuePair<string, string?>($"Permissions.{RuleSpec.Index(i + 1)}.{f.Key}", f.Value)));
            var action = isEgress ? "RevokeSecurityGroupEgress" : "RevokeSecurityGroup";
            var label = await LabelAsync(c, id);
            var n = Count(byId.Length + specs.Length, "rule");
            return await Confirm.CallAfterConfirmingAsync(c, action, p, c.Parse.GetValue(yes), $"{label}: {n} revoked", $"Revoke {n} of {label}");
        });
    }

    private static Command ModifyRule()
    {
        var group = GroupArgument();
        var id = new Option<string>("--rule-id") { Description = "The rule to change.", HelpName = "sgr-…", Required = true };
        var rule = new Option<string>("--rule") { Description = "What the rule becomes: PROTOCOL PORTS PEER [accept|drop] [priority N] [nic intranet|internet] [desc TEXT], quoted.", HelpName = "SPEC", Required = true };
        var egress = new Option<bool>("--egress") { Description = "An outbound rule (ModifySecurityGroupEgressRule); inbound without it." };
        var yes = YesOption();
        var command = new Command("modify-rule", """
            Change one rule in place, keeping its ID (ECS ModifySecurityGroupRule). On a terminal it first
            shows the connections the change would cut (the server's dry run) and asks; --yes does not ask.

            Examples:
              palisade sg modify-rule sg-bp1abc --rule-id sgr-bp1xyz --rule "tcp 22 10.1.0.0/16 priority 5 desc ssh from the VPN"
              palisade sg modify-rule sg-bp1abc --egress --rule-id sgr-bp1out --rule "tcp 443 0.0.0.0/0" --yes
            """) { group, id, rule, egress, yes };
        return Remote.Attach(command, async c =>
        {
            var isEgress = c.Parse.GetValue(egress);
            var groupId = await GroupIdAsync(c, group);
            var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", groupId), new("SecurityGroupRuleId", c.Parse.GetValue(id)) };
            p.AddRange(RuleSpec.Fields(await WithPeerIdAsync(c, c.Parse.GetValue(rule)!), isEgress).Select(f => new KeyValuePair<string, string?>(f.Key, f.Value)));
            var action = isEgress ? "ModifySecurityGroupEgressRule" : "ModifySecurityGroupRule";
            var label = await LabelAsync(c, groupId);
            return await Confirm.CallAfterConfirmingAsync(c, action, p, c.Parse.GetValue(yes), $"{label}: rule {c.Parse.GetValue(id)} modified", $"Modify rule {c.Parse.GetValue(id)} of {label}");
        });
    }

    private static Command References()
    {
        var groups = new Argument<string[]>("GROUP") { Description = "Groups, by ID (sg-…) or name (up to 10).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("references", """
            Which other groups' rules name these groups (ECS DescribeSecurityGroupReferences): a group
            so named cannot be deleted.

            Example:
              palisade sg references sg-bp1abc sg-bp1def
            """) { groups };
        return Remote.Attach(command, async c =>
        {
            var ids = await c.Names.GroupsAsync(c.Parse.GetValue(groups) ?? []);
            var answer = await c.CallAsync("DescribeSecurityGroupReferences", [.. ids.Select((g, i) => new KeyValuePair<string, string?>($"SecurityGroupId.{RuleSpec.Index(i + 1)}", g))]);
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var names = await c.Names.GroupNamesAsync();
            var rows = answer.Items("SecurityGroupReferences", "SecurityGroupReference")
                .SelectMany(r => r.Items("ReferencingSecurityGroups", "ReferencingSecurityGroup").Select(by => new[] { NameResolver.Label(r.Str("SecurityGroupId"), names), NameResolver.Label(by.Str("SecurityGroupId"), names) }))
                .ToList();
            if (rows.Count == 0)
                c.Output.WriteLine("no other group's rules name them");
            else
                Remote.Table(c.Output, ["GROUP", "NAMED BY"], rows);
            return ExitCodes.Ok;
        });
    }

    private static Command Usage()
    {
        var group = GroupArgument();
        var days = new Option<int>("--days") { Description = "Look back this many days (1 to the server's usage retention).", HelpName = "N", DefaultValueFactory = _ => 7 };
        var command = new Command("usage", """
            What each rule of a group decided over the last days, as the hosts' agents counted it
            (DescribeSecurityGroupRuleUsage, a Palisade extension): packets and bytes, the last hit, how many
            hosts saw hits. A rule with none says "no traffic in N days" — trustworthy only when every host
            carrying the group counted the whole time, which the first line says.

            Example:
              palisade sg usage web --days 30
            """) { group, days };
        return Remote.Attach(command, async c =>
        {
            var id = await GroupIdAsync(c, group);
            var n = c.Parse.GetValue(days);
            var answer = await c.CallAsync("DescribeSecurityGroupRuleUsage",
                [new("SecurityGroupId", id), new("Days", n.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var counting = answer.GetProperty("HostsCounting").GetInt32();
            var since = answer.Str("CountingSince");
            c.Output.WriteLine(since.Length > 0
                ? $"{await LabelAsync(c, id)}: counted by {Count(counting, "host")}, all of them since {since}"
                : $"{await LabelAsync(c, id)}: counted by {Count(counting, "host")}; not every host carrying the group counts, so a rule without hits may still be used");
            var rows = answer.Items("RuleUsages", "RuleUsage").Select(r => new[]
            {
                r.Str("SecurityGroupRuleId"), r.Str("Direction"), r.Str("Policy"), r.GetProperty("Packets").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.GetProperty("Bytes").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.Str("LastHitTime") is { Length: > 0 } last ? last : $"no traffic in {Count(n, "day")}",
                r.GetProperty("HostsWithHits").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            }).ToList();
            if (rows.Count == 0)
                c.Output.WriteLine("the group has no rules");
            else
                Remote.Table(c.Output, ["RULE", "DIRECTION", "POLICY", "PACKETS", "BYTES", "LAST HIT", "HOSTS"], rows);
            return ExitCodes.Ok;
        });
    }

    private static Option<string[]> RuleOption(bool required) => new("--rule")
    {
        Description = "PROTOCOL PORTS PEER [accept|drop] [priority N] [nic intranet|internet] [desc TEXT], quoted (repeatable).",
        HelpName = "SPEC",
        Required = required,
    };

    private static string? Capitalized(string? text) => string.IsNullOrEmpty(text) ? text : char.ToUpperInvariant(text[0]) + text[1..].ToLowerInvariant();

    public static Option<bool> YesOption() => new("--yes", "-y") { Description = "Do not ask for confirmation." };

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    /// <summary>The rule IDs a group holds now, both directions.</summary>
    private static async Task<HashSet<string>> RuleIdsAsync(RemoteContext c, string groupId) =>
        [.. (await AttributeAsync(c, groupId)).Items("Permissions", "Permission").Select(r => r.Str("SecurityGroupRuleId"))];

    /// <summary>A rule spec whose PEER names a group by its name, with the name replaced by the group's ID (CIDR blocks, IDs and prefix lists stay).</summary>
    private static async Task<string> WithPeerIdAsync(RemoteContext c, string spec)
    {
        var words = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || !RuleSpec.IsGroupName(words[2]))
            return spec;
        words[2] = await c.Names.GroupAsync(words[2]);
        return string.Join(' ', words);
    }
}
