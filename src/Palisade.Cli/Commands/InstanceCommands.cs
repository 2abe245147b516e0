using Palisade.Client;
using System.CommandLine;
using System.Text.Json;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade instance …</c>: instances and their groups on a server.</summary>
public static class InstanceCommands
{
    public static Command Build()
    {
        var command = new Command("instance", "Instances and the security groups they are in (ECS RunInstances, DescribeInstances, JoinSecurityGroup, …).");
        foreach (var sub in new[] { List(), Show(), Run(), Join(), Leave(), Modify(), Start(), Stop(), Delete() })
            command.Subcommands.Add(sub);
        return command;
    }

    private static Argument<string> InstanceArgument() => new("INSTANCE") { Description = "The instance: its ID (i-…), or its name when no other instance of the region has it." };

    private static Option<string> GroupOption(string description) => new("--group") { Description = $"{description}: its ID (sg-…) or its name.", Required = true, HelpName = "GROUP" };

    /// <summary>The instance the command line names, as an ID.</summary>
    private static Task<string> InstanceIdAsync(RemoteContext c, Argument<string> instance) => c.Names.InstanceAsync(c.Parse.GetValue(instance)!);

    private static async Task<string> LabelAsync(RemoteContext c, string id) => NameResolver.Label(id, await c.Names.InstanceNamesAsync());

    /// <summary>An instance's private addresses (a VPC instance's, or a classic one's inner addresses), comma-separated.</summary>
    internal static string PrivateAddresses(JsonElement i) =>
        string.Join(",", i.TryGetProperty("VpcAttributes", out var v) && v.Items("PrivateIpAddress", "IpAddress").Any()
            ? v.Items("PrivateIpAddress", "IpAddress").Select(a => a.GetString())
            : i.Items("InnerIpAddress", "IpAddress").Select(a => a.GetString()));

    private static string[] Row(JsonElement i, IReadOnlyDictionary<string, string> groupNames) =>
    [
        i.Str("InstanceId"), i.Str("InstanceName"), i.Str("Status"),
        PrivateAddresses(i),
        i.TryGetProperty("VpcAttributes", out var vpc) && vpc.Str("VpcId") is { Length: > 0 } id ? id : "classic",
        string.Join(", ", i.Items("SecurityGroupIds", "SecurityGroupId").Select(g => NameResolver.Label(g.GetString()!, groupNames))),
    ];

    private static readonly string[] Headers = ["ID", "NAME", "STATUS", "PRIVATE IP", "VPC", "SECURITY GROUPS"];

    private static Command List()
    {
        var vpc = new Option<string?>("--vpc") { Description = "Only the instances of this VPC.", HelpName = "ID" };
        var group = new Option<string?>("--group") { Description = "Only the instances in this security group (its ID or name).", HelpName = "GROUP" };
        var command = new Command("list", "The instances of the region.\n\nExample:\n  palisade instance list --group sg-bp1abc") { vpc, group };
        return Remote.Attach(command, async c =>
        {
            var groupId = c.Parse.GetValue(group) is { } g ? await c.Names.GroupAsync(g) : null;
            var answer = await c.CallAllAsync("DescribeInstances", [new("VpcId", c.Parse.GetValue(vpc)), new("SecurityGroupId", groupId)], "Instances", "Instance");
            if (c.Json)
            {
                c.WriteJson(answer);
                return ExitCodes.Ok;
            }
            var names = await c.Names.GroupNamesAsync();
            Remote.Table(c.Output, Headers, [.. answer.Items("Instances", "Instance").Select(i => Row(i, names)).OrderBy(r => r[1], StringComparer.Ordinal).ThenBy(r => r[0], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        });
    }

    private static Command Show()
    {
        var instance = InstanceArgument();
        var command = new Command("show", """
            One instance as its groups treat it: its addresses, its security groups, and the rules of all its
            groups pooled per direction in the order they are tried (the engine's order: priority, drop before
            accept), each with the group it came from, between what inner access decides and the defaults.

            Examples:
              palisade instance show i-bp1abc
              palisade instance show web-1
            """) { instance };
        return Remote.Attach(command, async c =>
        {
            var id = await InstanceIdAsync(c, instance);
            var answer = await c.CallAsync("DescribeInstances", [new("InstanceIds", JsonSerializer.Serialize(new[] { id }))]);
            var found = answer.Items("Instances", "Instance").ToList();
            if (found.Count == 0)
                throw new InvalidOperationException($"no instance {id} in {c.Region}");
            if (c.Json)
            {
                c.WriteJson(found[0]);
                return ExitCodes.Ok;
            }
            var state = await StateSource.FetchAsync(c);
            InstanceView.Write(c.Output, found[0], state);
            return ExitCodes.Ok;
        });
    }

    private static Command Run()
    {
        var group = new Option<string[]>("--group") { Description = "A security group, by ID or name (repeatable, up to 5).", Required = true, HelpName = "GROUP" };
        var vswitch = new Option<string?>("--vswitch") { Description = "The vSwitch (a VPC instance); without it a classic one.", HelpName = "ID" };
        var name = new Option<string?>("--name") { Description = "The instance's name.", HelpName = "NAME" };
        var ip = new Option<string?>("--private-ip") { Description = "Its private address (default: the next free one).", HelpName = "ADDRESS" };
        var command = new Command("run", """
            Create an instance (no machine runs: Palisade keeps its address and groups); prints its ID.

            Example:
              palisade instance run --group sg-bp1abc --vswitch vsw-bp1xyz --name web-1
            """) { group, vswitch, name, ip };
        return Remote.Attach(command, async c =>
        {
            var groups = await c.Names.GroupsAsync(c.Parse.GetValue(group) ?? []);
            var p = new List<KeyValuePair<string, string?>>
            {
                new("ImageId", "palisade"), new("InstanceType", "ecs.palisade"), new("VSwitchId", c.Parse.GetValue(vswitch)),
                new("InstanceName", c.Parse.GetValue(name)), new("PrivateIpAddress", c.Parse.GetValue(ip)),
            };
            for (var i = 0; i < groups.Length; i++)
                p.Add(new($"SecurityGroupIds.{RuleSpec.Index(i + 1)}", groups[i]));
            var answer = await c.CallAsync("RunInstances", p);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine(string.Join("\n", answer.Items("InstanceIdSets", "InstanceIdSet").Select(e => e.GetString())));
            return ExitCodes.Ok;
        });
    }

    private static Command Join()
    {
        var instance = InstanceArgument();
        var group = GroupOption("The security group to join");
        var command = new Command("join", "Put an instance in one more security group (up to 5).\n\nExample:\n  palisade instance join i-bp1abc --group sg-bp1web") { instance, group };
        return Remote.Attach(command, async c =>
        {
            var id = await InstanceIdAsync(c, instance);
            var groupId = await c.Names.GroupAsync(c.Parse.GetValue(group)!);
            var answer = await c.CallAsync("JoinSecurityGroup", [new("InstanceId", id), new("SecurityGroupId", groupId)]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{await LabelAsync(c, id)} joined {NameResolver.Label(groupId, await c.Names.GroupNamesAsync())}");
            return ExitCodes.Ok;
        });
    }

    private static Command Leave()
    {
        var instance = InstanceArgument();
        var group = GroupOption("The security group to leave");
        var yes = SecurityGroupCommands.YesOption();
        var command = new Command("leave", """
            Take an instance out of a security group (it keeps at least one). On a terminal it first shows the
            connections the instance would lose (the server's dry run) and asks; --yes does not ask.

            Example:
              palisade instance leave i-bp1abc --group sg-bp1web
            """) { instance, group, yes };
        return Remote.Attach(command, async c =>
        {
            var id = await InstanceIdAsync(c, instance);
            var groupId = await c.Names.GroupAsync(c.Parse.GetValue(group)!);
            var label = await LabelAsync(c, id);
            var groupLabel = NameResolver.Label(groupId, await c.Names.GroupNamesAsync());
            List<KeyValuePair<string, string?>> p = [new("InstanceId", id), new("SecurityGroupId", groupId)];
            return await Confirm.CallAfterConfirmingAsync(c, "LeaveSecurityGroup", p, c.Parse.GetValue(yes), $"{label} left {groupLabel}", $"Take {label} out of {groupLabel}");
        });
    }

    private static Command Modify()
    {
        var instance = InstanceArgument();
        var name = new Option<string?>("--name") { Description = "The new name.", HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "The new description.", HelpName = "TEXT" };
        var groups = new Option<string[]>("--groups") { Description = "Replace the instance's security groups with these, by ID or name (repeatable, 1 to 5).", HelpName = "GROUP" };
        var yes = SecurityGroupCommands.YesOption();
        var command = new Command("modify", """
            Rename an instance, change its description, or replace all its security groups at once (ECS
            ModifyInstanceAttribute). A change of groups on a terminal first shows the connections it would
            cut (the server's dry run) and asks; --yes does not ask.

            Examples:
              palisade instance modify i-bp1abc --name web-1
              palisade instance modify i-bp1abc --groups sg-bp1web --groups sg-bp1ops
            """) { instance, name, description, groups, yes };
        return Remote.Attach(command, async c =>
        {
            var ids = await c.Names.GroupsAsync(c.Parse.GetValue(groups) ?? []);
            var id = await InstanceIdAsync(c, instance);
            var label = await LabelAsync(c, id);
            var p = new List<KeyValuePair<string, string?>>
            {
                new("InstanceId", id), new("InstanceName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description)),
            };
            for (var i = 0; i < ids.Length; i++)
                p.Add(new($"SecurityGroupIds.{RuleSpec.Index(i + 1)}", ids[i]));
            if (p.Skip(1).All(x => x.Value is null))
                throw new InvalidOperationException("say what to change: --name, --description or --groups");
            var names = await c.Names.GroupNamesAsync();
            // A name or a description decides no flow; a change of groups does.
            return await Confirm.CallAfterConfirmingAsync(c, "ModifyInstanceAttribute", p, c.Parse.GetValue(yes), $"{label} modified",
                ids.Length > 0 ? $"Put {label} in {string.Join(", ", ids.Select(g => NameResolver.Label(g, names)))} only" : null);
        });
    }

    private static Command Start() => Power("start", "StartInstance", "Start a stopped instance (ECS StartInstance).", "started");

    private static Command Stop() => Power("stop", "StopInstance", "Stop a running instance (ECS StopInstance); its groups and rules stay.", "stopped");

    private static Command Power(string verb, string action, string description, string done)
    {
        var instance = InstanceArgument();
        var command = new Command(verb, $"{description}\n\nExample:\n  palisade instance {verb} i-bp1abc") { instance };
        return Remote.Attach(command, async c =>
        {
            var id = await InstanceIdAsync(c, instance);
            var answer = await c.CallAsync(action, [new("InstanceId", id)]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{await LabelAsync(c, id)} {done}");
            return ExitCodes.Ok;
        });
    }

    private static Command Delete()
    {
        var instance = InstanceArgument();
        var yes = SecurityGroupCommands.YesOption();
        var command = new Command("delete", """
            Delete an instance (stopped or not). On a terminal it first shows the flows that would stop (the
            server's dry run) and asks; --yes does not ask.

            Example:
              palisade instance delete web-1
            """) { instance, yes };
        return Remote.Attach(command, async c =>
        {
            var id = await InstanceIdAsync(c, instance);
            var label = await LabelAsync(c, id);
            return await Confirm.CallAfterConfirmingAsync(c, "DeleteInstance", [new("InstanceId", id), new("Force", "true")], c.Parse.GetValue(yes), $"{label} deleted", $"Delete {label}");
        });
    }
}
