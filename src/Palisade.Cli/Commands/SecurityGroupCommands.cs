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
        foreach (var sub in new[] { List(), Show(), Create(), Modify(), Policy(), Delete(), Authorize(), Revoke(), ModifyRule(), References() })
            command.Subcommands.Add(sub);
        return command;
    }

    private static Argument<string> GroupArgument() => new("SECURITY_GROUP_ID") { Description = "The group, sg-…" };

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
            A group and its rules, inbound and outbound, in the order they are tried: by priority (1 first),
            drop before accept at one priority.

            Example:
              palisade sg show sg-bp1abc
            """) { group };
        return Remote.Attach(command, async c =>
        {
            var answer = await AttributeAsync(c, c.Parse.GetValue(group)!);
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var o = c.Output;
            o.WriteLine($"{answer.Str("SecurityGroupId")}  {answer.Str("SecurityGroupName")}");
            o.WriteLine($"  VPC {(answer.Str("VpcId") is { Length: > 0 } v ? v : "classic")}, inner access {answer.Str("InnerAccessPolicy")}{(answer.Str("Description") is { Length: > 0 } d ? $", \"{d}\"" : "")}");
            var rules = answer.Items("Permissions", "Permission").ToList();
            var classic = answer.Str("VpcId").Length == 0;
            foreach (var (title, direction) in new[] { ("Inbound", "ingress"), ("Outbound", "egress") })
            {
                o.WriteLine();
                var mine = rules.Where(r => r.Str("Direction") == direction)
                    .OrderBy(r => EffectiveOrder.Key(r.Str("Priority"), r.Str("Policy")))
                    .ToList();
                o.WriteLine($"{title} ({mine.Count})");
                if (mine.Count > 0 && !classic)
                    Remote.Table(o, ["PRIORITY", "POLICY", "PROTOCOL", "PORTS", direction == "ingress" ? "SOURCE" : "DESTINATION", "DESCRIPTION", "RULE"], [.. mine.Select(r => Row(r, direction))]);
                else if (mine.Count > 0)
                    Remote.Table(o, ["PRIORITY", "POLICY", "PROTOCOL", "PORTS", direction == "ingress" ? "SOURCE" : "DESTINATION", "NIC", "DESCRIPTION", "RULE"],
                        [.. mine.Select(r => Row(r, direction)).Zip(mine, (row, r) => (string[])[.. row[..5], r.Str("NicType"), .. row[5..]])]);
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

    private static string[] Row(JsonElement r, string direction)
    {
        var side = direction == "ingress" ? "Source" : "Dest";
        var peer = new[] { $"{side}CidrIp", $"Ipv6{side}CidrIp", $"{side}GroupId", $"{side}PrefixListId" }.Select(f => r.Str(f)).FirstOrDefault(v => v.Length > 0) ?? "";
        // A port-range list stands in the ports' column, by ID: the rule's ports are its entries.
        var ports = r.Str("PortRangeListId") is { Length: > 0 } list ? list : r.Str("PortRange");
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
        return Simple(command, "ModifySecurityGroupAttribute", c => [new("SecurityGroupId", c.Parse.GetValue(group)), new("SecurityGroupName", c.Parse.GetValue(name)),
            new("Description", c.Parse.GetValue(description))], c => $"{c.Parse.GetValue(group)} modified");
    }

    private static Command Policy()
    {
        var group = GroupArgument();
        var inner = new Option<string>("--inner-access") { Description = "accept: members reach each other; drop: they do not.", Required = true, HelpName = "accept|drop" };
        var command = new Command("policy", "Whether a basic group's members reach each other (InnerAccessPolicy).\n\nExample:\n  palisade sg policy sg-bp1abc --inner-access drop") { group, inner };
        return Simple(command, "ModifySecurityGroupPolicy", c => [new("SecurityGroupId", c.Parse.GetValue(group)),
            new("InnerAccessPolicy", Capitalized(c.Parse.GetValue(inner)))],
            c => $"{c.Parse.GetValue(group)}: inner access {c.Parse.GetValue(inner)}");
    }

    private static Command Delete()
    {
        var group = GroupArgument();
        var command = new Command("delete", "Delete a group that no instance is in and no rule names.\n\nExample:\n  palisade sg delete sg-bp1abc") { group };
        return Simple(command, "DeleteSecurityGroup", c => [new("SecurityGroupId", c.Parse.GetValue(group))], c => $"{c.Parse.GetValue(group)} deleted");
    }

    private static Command Authorize()
    {
        var group = GroupArgument();
        var rules = RuleOption(required: true);
        var egress = new Option<bool>("--egress") { Description = "Outbound rules (AuthorizeSecurityGroupEgress); inbound without it." };
        var command = new Command("authorize", """
            Add rules, all or none. Each --rule is PROTOCOL PORTS PEER [accept|drop] [priority N] [desc TEXT];
            PEER is a CIDR block (IPv4 or IPv6), a group (sg-…) or a prefix list (pl-…).

            Examples:
              palisade sg authorize sg-bp1abc --rule "tcp 443 0.0.0.0/0" --rule "tcp 22 10.0.0.0/8 priority 10"
              palisade sg authorize sg-bp1abc --egress --rule "all -1 0.0.0.0/0 drop priority 100"
            """) { group, rules, egress };
        return Remote.Attach(command, async c =>
        {
            var specs = c.Parse.GetValue(rules) ?? [];
            var isEgress = c.Parse.GetValue(egress);
            var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", c.Parse.GetValue(group)) };
            for (var i = 0; i < specs.Length; i++)
                p.AddRange(RuleSpec.Fields(specs[i], isEgress).Select(f => new KeyValuePair<string, string?>($"Permissions.{RuleSpec.Index(i + 1)}.{f.Key}", f.Value)));
            var answer = await c.CallAsync(isEgress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroup", p);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{c.Parse.GetValue(group)}: {specs.Length} {(isEgress ? "outbound" : "inbound")} rule{(specs.Length == 1 ? "" : "s")} authorized");
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
              palisade sg revoke sg-bp1abc --rule "tcp 22 0.0.0.0/0" --yes
            """) { group, ids, rules, egress, yes };
        return Remote.Attach(command, async c =>
        {
            var isEgress = c.Parse.GetValue(egress);
            var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", c.Parse.GetValue(group)) };
            var byId = c.Parse.GetValue(ids) ?? [];
            var specs = c.Parse.GetValue(rules) ?? [];
            if (byId.Length == 0 && specs.Length == 0)
                throw new InvalidOperationException("say which rules: --rule-id ID or --rule SPEC");
            for (var i = 0; i < byId.Length; i++)
                p.Add(new($"SecurityGroupRuleId.{RuleSpec.Index(i + 1)}", byId[i]));
            for (var i = 0; i < specs.Length; i++)
                p.AddRange(RuleSpec.Fields(specs[i], isEgress).Select(f => new KeyValuePair<string, string?>($"Permissions.{RuleSpec.Index(i + 1)}.{f.Key}", f.Value)));
            var action = isEgress ? "RevokeSecurityGroupEgress" : "RevokeSecurityGroup";
            return await Confirm.CallAfterConfirmingAsync(c, action, p, c.Parse.GetValue(yes), $"{c.Parse.GetValue(group)}: {byId.Length + specs.Length} rule{(byId.Length + specs.Length == 1 ? "" : "s")} revoked");
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
            var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", c.Parse.GetValue(group)), new("SecurityGroupRuleId", c.Parse.GetValue(id)) };
            p.AddRange(RuleSpec.Fields(c.Parse.GetValue(rule)!, isEgress).Select(f => new KeyValuePair<string, string?>(f.Key, f.Value)));
            var action = isEgress ? "ModifySecurityGroupEgressRule" : "ModifySecurityGroupRule";
            return await Confirm.CallAfterConfirmingAsync(c, action, p, c.Parse.GetValue(yes), $"{c.Parse.GetValue(group)}: rule {c.Parse.GetValue(id)} modified");
        });
    }

    private static Command References()
    {
        var groups = new Argument<string[]>("SECURITY_GROUP_ID") { Description = "Groups, sg-… (up to 10).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("references", """
            Which other groups' rules name these groups (ECS DescribeSecurityGroupReferences): a group
            so named cannot be deleted.

            Example:
              palisade sg references sg-bp1abc sg-bp1def
            """) { groups };
        return Remote.Attach(command, async c =>
        {
            var ids = c.Parse.GetValue(groups) ?? [];
            var answer = await c.CallAsync("DescribeSecurityGroupReferences", [.. ids.Select((g, i) => new KeyValuePair<string, string?>($"SecurityGroupId.{RuleSpec.Index(i + 1)}", g))]);
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var rows = answer.Items("SecurityGroupReferences", "SecurityGroupReference")
                .SelectMany(r => r.Items("ReferencingSecurityGroups", "ReferencingSecurityGroup").Select(by => new[] { r.Str("SecurityGroupId"), by.Str("SecurityGroupId") }))
                .ToList();
            if (rows.Count == 0)
                c.Output.WriteLine("no other group's rules name them");
            else
                Remote.Table(c.Output, ["GROUP", "NAMED BY"], rows);
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

    /// <summary>One action, one line of output (or its JSON).</summary>
    private static Command Simple(Command command, string action, Func<RemoteContext, IEnumerable<KeyValuePair<string, string?>>> parameters, Func<RemoteContext, string> done) =>
        Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync(action, parameters(c));
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine(done(c));
            return ExitCodes.Ok;
        });
}
