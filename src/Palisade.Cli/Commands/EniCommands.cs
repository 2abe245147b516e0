using System.CommandLine;
using System.Text.Json;
using Palisade.Client;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade eni …</c>: network interfaces (ENIs) and their groups on a server.</summary>
public static class EniCommands
{
    public static Command Build()
    {
        var command = new Command("eni", "Network interfaces: an instance's primary one and the ones made on their own, each with its own addresses and security groups (ECS CreateNetworkInterface, AttachNetworkInterface, …).");
        foreach (var sub in new[] { List(), Show(), Create(), Attach(), Detach(), Delete(), Modify() })
            command.Subcommands.Add(sub);
        return command;
    }

    private static Argument<string> EniArgument() => new("ENI_ID") { Description = "The network interface, eni-…" };

    private static string[] Row(JsonElement e) =>
    [
        e.Str("NetworkInterfaceId"), e.Str("NetworkInterfaceName"), e.Str("Type"), e.Str("Status"), e.Str("InstanceId") is { Length: > 0 } i ? i : "-",
        string.Join(",", e.Items("PrivateIpSets", "PrivateIpSet").Select(a => a.Str("PrivateIpAddress"))),
        string.Join(",", e.Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString())),
    ];

    private static readonly string[] Headers = ["ID", "NAME", "TYPE", "STATUS", "INSTANCE", "PRIVATE IP", "SECURITY GROUPS"];

    private static async Task<JsonElement> DescribeOneAsync(RemoteContext c, string id)
    {
        var answer = await c.CallAsync("DescribeNetworkInterfaces", [new("NetworkInterfaceId.1", id)]);
        var found = answer.Items("NetworkInterfaceSets", "NetworkInterfaceSet").ToList();
        return found.Count == 1 ? found[0] : throw new InvalidOperationException($"no network interface {id} in {c.Region}");
    }

    private static Command List()
    {
        var instance = new Option<string?>("--instance") { Description = "Only the network interfaces attached to this instance.", HelpName = "ID" };
        var vpc = new Option<string?>("--vpc") { Description = "Only those of this VPC.", HelpName = "ID" };
        var group = new Option<string?>("--group") { Description = "Only those in this security group.", HelpName = "ID" };
        var command = new Command("list", "The network interfaces of the region, primary and secondary.\n\nExample:\n  palisade eni list --instance i-bp1abc") { instance, vpc, group };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAllAsync("DescribeNetworkInterfaces",
                [new("InstanceId", c.Parse.GetValue(instance)), new("VpcId", c.Parse.GetValue(vpc)), new("SecurityGroupId", c.Parse.GetValue(group))],
                "NetworkInterfaceSets", "NetworkInterfaceSet");
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, Headers, [.. answer.Items("NetworkInterfaceSets", "NetworkInterfaceSet").Select(Row)
                    .OrderBy(r => r[4], StringComparer.Ordinal).ThenBy(r => r[2], StringComparer.Ordinal).ThenBy(r => r[5], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        });
    }

    private static Command Show()
    {
        var eni = EniArgument();
        var command = new Command("show", "One network interface: its addresses, MAC address, groups and instance.\n\nExample:\n  palisade eni show eni-bp1abc") { eni };
        return Remote.Attach(command, async c =>
        {
            var e = await DescribeOneAsync(c, c.Parse.GetValue(eni)!);
            if (c.Json)
            {
                c.WriteJson(e);
                return ExitCodes.Ok;
            }
            Remote.Table(c.Output, Headers, [Row(e)]);
            c.Output.WriteLine($"VPC {e.Str("VpcId")}, vSwitch {e.Str("VSwitchId")}, zone {e.Str("ZoneId")}, MAC {e.Str("MacAddress")}");
            if (e.GetProperty("AssociatedPublicIp").Str("PublicIpAddress") is { Length: > 0 } eip)
                c.Output.WriteLine($"EIP {eip} ({e.GetProperty("AssociatedPublicIp").Str("AllocationId")})");
            if (e.Str("Description") is { Length: > 0 } description)
                c.Output.WriteLine(description);
            return ExitCodes.Ok;
        });
    }

    private static Command Create()
    {
        var vswitch = new Option<string>("--vswitch") { Description = "The vSwitch it takes its addresses from.", Required = true, HelpName = "ID" };
        var group = new Option<string[]>("--group") { Description = "A security group of the vSwitch's VPC (repeatable, up to 5).", Required = true, HelpName = "ID" };
        var name = new Option<string?>("--name") { Description = "Its name.", HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "Its description.", HelpName = "TEXT" };
        var ip = new Option<string?>("--private-ip") { Description = "Its primary private address (default: the next free one).", HelpName = "ADDRESS" };
        var secondary = new Option<int>("--secondary-ips") { Description = "How many more private addresses to give it.", HelpName = "COUNT" };
        var command = new Command("create", """
            Create a network interface (Available, attached to nothing); prints its ID.

            Example:
              palisade eni create --vswitch vsw-bp1xyz --group sg-bp1db --name db-leg
            """) { vswitch, group, name, description, ip, secondary };
        return Remote.Attach(command, async c =>
        {
            var groups = c.Parse.GetValue(group) ?? [];
            var p = new List<KeyValuePair<string, string?>>
            {
                new("VSwitchId", c.Parse.GetValue(vswitch)), new("NetworkInterfaceName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description)),
                new("PrimaryIpAddress", c.Parse.GetValue(ip)),
                new("SecondaryPrivateIpAddressCount", c.Parse.GetValue(secondary) is > 0 and var n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : null),
            };
            for (var i = 0; i < groups.Length; i++)
                p.Add(new($"SecurityGroupIds.{RuleSpec.Index(i + 1)}", groups[i]));
            var answer = await c.CallAsync("CreateNetworkInterface", p);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine(answer.Str("NetworkInterfaceId"));
            return ExitCodes.Ok;
        });
    }

    private static Command Attach()
    {
        var eni = EniArgument();
        var instance = new Option<string>("--instance") { Description = "The instance (of the same VPC and zone).", Required = true, HelpName = "ID" };
        var command = new Command("attach", "Attach a network interface to an instance.\n\nExample:\n  palisade eni attach eni-bp1abc --instance i-bp1xyz") { eni, instance };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("AttachNetworkInterface", [new("NetworkInterfaceId", c.Parse.GetValue(eni)), new("InstanceId", c.Parse.GetValue(instance))]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{c.Parse.GetValue(eni)} attached to {c.Parse.GetValue(instance)}");
            return ExitCodes.Ok;
        });
    }

    private static Command Detach()
    {
        var eni = EniArgument();
        var instance = new Option<string?>("--instance") { Description = "The instance it is attached to (default: the one it is).", HelpName = "ID" };
        var yes = SecurityGroupCommands.YesOption();
        var command = new Command("detach", """
            Detach a network interface from its instance (never an instance's primary one); it keeps its
            addresses and groups. On a terminal it first shows the connections that would stop (the
            server's dry run) and asks; --yes does not ask.

            Example:
              palisade eni detach eni-bp1abc
            """) { eni, instance, yes };
        return Remote.Attach(command, async c =>
        {
            var id = c.Parse.GetValue(eni)!;
            var owner = c.Parse.GetValue(instance) ?? (await DescribeOneAsync(c, id)).Str("InstanceId");
            if (owner.Length == 0)
                throw new InvalidOperationException($"{id} is not attached to an instance");
            return await Confirm.CallAfterConfirmingAsync(c, "DetachNetworkInterface", [new("NetworkInterfaceId", id), new("InstanceId", owner)], c.Parse.GetValue(yes), $"{id} detached from {owner}", $"Detach {id} from {owner}");
        });
    }

    private static Command Delete()
    {
        var eni = EniArgument();
        var command = new Command("delete", "Delete a detached network interface.\n\nExample:\n  palisade eni delete eni-bp1abc") { eni };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("DeleteNetworkInterface", [new("NetworkInterfaceId", c.Parse.GetValue(eni))]);
            if (c.Json)
                c.WriteJson(answer);
            else
                c.Output.WriteLine($"{c.Parse.GetValue(eni)} deleted");
            return ExitCodes.Ok;
        });
    }

    private static Command Modify()
    {
        var eni = EniArgument();
        var name = new Option<string?>("--name") { Description = "The new name.", HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "The new description.", HelpName = "TEXT" };
        var groups = new Option<string[]>("--groups") { Description = "Replace its security groups with these (repeatable, 1 to 5).", HelpName = "ID" };
        var yes = SecurityGroupCommands.YesOption();
        var command = new Command("modify", """
            Rename a network interface, change its description, or replace all its security groups at once
            (ECS ModifyNetworkInterfaceAttribute; a primary one's groups are its instance's). A change of
            groups on a terminal first shows the connections it would cut and asks; --yes does not ask.

            Examples:
              palisade eni modify eni-bp1abc --name db-leg
              palisade eni modify eni-bp1abc --groups sg-bp1db --groups sg-bp1ops
            """) { eni, name, description, groups, yes };
        return Remote.Attach(command, async c =>
        {
            var ids = c.Parse.GetValue(groups) ?? [];
            var p = new List<KeyValuePair<string, string?>>
            {
                new("NetworkInterfaceId", c.Parse.GetValue(eni)), new("NetworkInterfaceName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description)),
            };
            for (var i = 0; i < ids.Length; i++)
                p.Add(new($"SecurityGroupId.{RuleSpec.Index(i + 1)}", ids[i]));
            if (p.Skip(1).All(x => x.Value is null))
                throw new InvalidOperationException("say what to change: --name, --description or --groups");
            return await Confirm.CallAfterConfirmingAsync(c, "ModifyNetworkInterfaceAttribute", p, c.Parse.GetValue(yes), $"{c.Parse.GetValue(eni)} modified", ids.Length > 0 ? $"Change the groups of {c.Parse.GetValue(eni)}" : null);
        });
    }
}
