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

    private static Argument<string> InstanceArgument() => new("INSTANCE_ID") { Description = "The instance, i-…" };

    private static string[] Row(JsonElement i) =>
    [
        i.Str("InstanceId"), i.Str("InstanceName"), i.Str("Status"),
        string.Join(",", i.TryGetProperty("VpcAttributes", out var v) ? v.Items("PrivateIpAddress", "IpAddress").Select(a => a.GetString()) : []),
        i.TryGetProperty("VpcAttributes", out var vpc) && vpc.Str("VpcId") is { Length: > 0 } id ? id : "classic",
        string.Join(",", i.Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString())),
    ];

    private static readonly string[] Headers = ["ID", "NAME", "STATUS", "PRIVATE IP", "VPC", "SECURITY GROUPS"];

    private static Command List()
    {
        var vpc = new Option<string?>("--vpc") { Description = "Only the instances of this VPC.", HelpName = "ID" };
        var group = new Option<string?>("--group") { Description = "Only the instances in this security group.", HelpName = "ID" };
        var command = new Command("list", "The instances of the region.\n\nExample:\n  palisade instance list --group sg-bp1abc") { vpc, group };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAllAsync("DescribeInstances", [new("VpcId", c.Parse.GetValue(vpc)), new("SecurityGroupId", c.Parse.GetValue(group))], "Instances", "Instance");
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, Headers, [.. answer.Items("Instances", "Instance").Select(Row).OrderBy(r => r[1], StringComparer.Ordinal).ThenBy(r => r[0], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        });
    }

    private static Command Show()
    {
        var instance = InstanceArgument();
        var command = new Command("show", "One instance.\n\nExample:\n  palisade instance show i-bp1abc") { instance };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("DescribeInstances", [new("InstanceIds", JsonSerializer.Serialize(new[] { c.Parse.GetValue(instance) }))]);
            var found = answer.Items("Instances", "Instance").ToList();
            if (found.Count == 0)
                throw new InvalidOperationException($"no instance {c.Parse.GetValue(instance)} in {c.Region}");
            if (c.Json)
                c.WriteJson(found[0]);
            else
                Remote.Table(c.Output, Headers, [Row(found[0])]);
            return ExitCodes.Ok;
        });
    }

    private static Command Run()
    {
        var group = new Option<string[]>("--group") { Description = "A security group (repeatable, up to 5).", Required = true, HelpName = "ID" };
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
            var groups = c.Parse.GetValue(group) ?? [];
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
        var group = new Option<string>("--group") { Description = "The security group to join.", Required = true, HelpName = "ID" };
        var command = new Command("join", "Put an instance in one more security group (up to 5).\n\nExample:\n  palisade instance join i-bp1abc --group sg-bp1web") { instance, group };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("JoinSecurityGroup", [new("InstanceId", c.Parse.GetValue(instance)), new("SecurityGroupId", c.Parse.GetValue(group))]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{c.Parse.GetValue(instance)} joined {c.Parse.GetValue(group)}");
            return ExitCodes.Ok;
        });
    }

    private static Command Leave()
    {
        var instance = InstanceArgument();
        var group = new Option<string>("--group") { Description = "The security group to leave.", Required = true, HelpName = "ID" };
        var yes = SecurityGroupCommands.YesOption();
        var command = new Command("leave", """
            Take an instance out of a security group (it keeps at least one). On a terminal it first shows the
            connections the instance would lose (the server's dry run) and asks; --yes does not ask.

            Example:
              palisade instance leave i-bp1abc --group sg-bp1web
            """) { instance, group, yes };
        return Remote.Attach(command, async c =>
        {
            List<KeyValuePair<string, string?>> p = [new("InstanceId", c.Parse.GetValue(instance)), new("SecurityGroupId", c.Parse.GetValue(group))];
            return await Confirm.CallAfterConfirmingAsync(c, "LeaveSecurityGroup", p, c.Parse.GetValue(yes), $"{c.Parse.GetValue(instance)} left {c.Parse.GetValue(group)}");
        });
    }

    private static Command Modify()
    {
        var instance = InstanceArgument();
        var name = new Option<string?>("--name") { Description = "The new name.", HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "The new description.", HelpName = "TEXT" };
        var groups = new Option<string[]>("--groups") { Description = "Replace the instance's security groups with these (repeatable, 1 to 5).", HelpName = "ID" };
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
            var ids = c.Parse.GetValue(groups) ?? [];
            var p = new List<KeyValuePair<string, string?>>
            {
                new("InstanceId", c.Parse.GetValue(instance)), new("InstanceName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description)),
            };
            for (var i = 0; i < ids.Length; i++)
                p.Add(new($"SecurityGroupIds.{RuleSpec.Index(i + 1)}", ids[i]));
            if (p.Skip(1).All(x => x.Value is null))
                throw new InvalidOperationException("say what to change: --name, --description or --groups");
            return await Confirm.CallAfterConfirmingAsync(c, "ModifyInstanceAttribute", p, c.Parse.GetValue(yes), $"{c.Parse.GetValue(instance)} modified", ask: ids.Length > 0);
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
            var answer = await c.CallAsync(action, [new("InstanceId", c.Parse.GetValue(instance))]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{c.Parse.GetValue(instance)} {done}");
            return ExitCodes.Ok;
        });
    }

    private static Command Delete()
    {
        var instance = InstanceArgument();
        var command = new Command("delete", "Delete an instance (stopped or not).\n\nExample:\n  palisade instance delete i-bp1abc") { instance };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("DeleteInstance", [new("InstanceId", c.Parse.GetValue(instance)), new("Force", "true")]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{c.Parse.GetValue(instance)} deleted");
            return ExitCodes.Ok;
        });
    }
}
