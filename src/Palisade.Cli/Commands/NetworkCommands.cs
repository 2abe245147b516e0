using System.CommandLine;
using Palisade.Client;
using Palisade.Domain.Ecs;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade vpc …</c>, <c>palisade vswitch …</c> and <c>palisade tag …</c> against a server.</summary>
public static class NetworkCommands
{
    /// <summary><c>palisade region list</c> and <c>palisade zone list</c>: where resources can be made.</summary>
    public static Command Region()
    {
        var command = new Command("region", "Regions (ECS DescribeRegions).");
        command.Subcommands.Add(Remote.Attach(new Command("list", "The regions the server serves.\n\nExample:\n  palisade region list"), async c =>
        {
            var answer = await c.CallAsync("DescribeRegions", []);
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, ["ID", "NAME", "STATUS"], [.. answer.Items("Regions", "Region").Select(r => new[] { r.Str("RegionId"), r.Str("LocalName"), r.Str("Status") })]);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Zone()
    {
        var command = new Command("zone", "Zones of a region (ECS DescribeZones).");
        command.Subcommands.Add(Remote.Attach(new Command("list", "The zones of the region (--region, or the profile's).\n\nExample:\n  palisade zone list --region cn-shanghai"), async c =>
        {
            var answer = await c.CallAsync("DescribeZones", []);
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, ["ID", "NAME"], [.. answer.Items("Zones", "Zone").Select(z => new[] { z.Str("ZoneId"), z.Str("LocalName") })]);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Vpc()
    {
        var command = new Command("vpc", "VPCs (the VPC API 2016-04-28: CreateVpc, DescribeVpcs, DeleteVpc).");
        var cidr = new Option<string>("--cidr") { Description = "The VPC's block, e.g. 192.168.0.0/16.", Required = true, HelpName = "CIDR" };
        var name = new Option<string?>("--name") { Description = "The VPC's name.", HelpName = "NAME" };
        command.Subcommands.Add(Remote.Attach(new Command("create", "A new VPC; prints its ID.\n\nExample:\n  palisade vpc create --cidr 192.168.0.0/16 --name prod") { cidr, name }, async c =>
        {
            var answer = await c.CallAsync("CreateVpc", [new("CidrBlock", c.Parse.GetValue(cidr)), new("VpcName", c.Parse.GetValue(name))], ApiVersions.Vpc);
            return Print(c, answer, answer.Str("VpcId"));
        }));
        command.Subcommands.Add(Remote.Attach(new Command("list", "The VPCs of the region.\n\nExample:\n  palisade vpc list"), async c =>
        {
            var answer = await c.CallAllAsync("DescribeVpcs", [], "Vpcs", "Vpc", ApiVersions.Vpc);
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, ["ID", "NAME", "CIDR", "STATUS"], [.. answer.Items("Vpcs", "Vpc").Select(v => new[] { v.Str("VpcId"), v.Str("VpcName"), v.Str("CidrBlock"), v.Str("Status") })
                    .OrderBy(r => r[1], StringComparer.Ordinal).ThenBy(r => r[0], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        }));
        var id = new Argument<string>("VPC_ID") { Description = "The VPC, vpc-…" };
        command.Subcommands.Add(Remote.Attach(new Command("delete", "Delete a VPC without vSwitches or security groups.\n\nExample:\n  palisade vpc delete vpc-bp1abc") { id }, async c =>
        {
            var answer = await c.CallAsync("DeleteVpc", [new("VpcId", c.Parse.GetValue(id))], ApiVersions.Vpc);
            return Print(c, answer, $"{c.Parse.GetValue(id)} deleted");
        }));
        return command;
    }

    public static Command VSwitch()
    {
        var command = new Command("vswitch", "vSwitches (CreateVSwitch, DescribeVSwitches, DeleteVSwitch).");
        var vpc = new Option<string>("--vpc") { Description = "The VPC.", Required = true, HelpName = "ID" };
        var zone = new Option<string>("--zone") { Description = "The zone, e.g. cn-hangzhou-h.", Required = true, HelpName = "ID" };
        var cidr = new Option<string>("--cidr") { Description = "The vSwitch's block, inside the VPC's.", Required = true, HelpName = "CIDR" };
        var name = new Option<string?>("--name") { Description = "The vSwitch's name.", HelpName = "NAME" };
        command.Subcommands.Add(Remote.Attach(new Command("create", "A new vSwitch; prints its ID.\n\nExample:\n  palisade vswitch create --vpc vpc-bp1abc --zone cn-hangzhou-h --cidr 192.168.1.0/24") { vpc, zone, cidr, name }, async c =>
        {
            var answer = await c.CallAsync("CreateVSwitch", [new("VpcId", c.Parse.GetValue(vpc)), new("ZoneId", c.Parse.GetValue(zone)), new("CidrBlock", c.Parse.GetValue(cidr)),
                new("VSwitchName", c.Parse.GetValue(name))], ApiVersions.Vpc);
            return Print(c, answer, answer.Str("VSwitchId"));
        }));
        var ofVpc = new Option<string?>("--vpc") { Description = "Only this VPC's.", HelpName = "ID" };
        command.Subcommands.Add(Remote.Attach(new Command("list", "The vSwitches of the region.\n\nExample:\n  palisade vswitch list --vpc vpc-bp1abc") { ofVpc }, async c =>
        {
            var answer = await c.CallAllAsync("DescribeVSwitches", [new("VpcId", c.Parse.GetValue(ofVpc))], "VSwitches", "VSwitch", ApiVersions.Vpc);
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, ["ID", "NAME", "VPC", "ZONE", "CIDR"], [.. answer.Items("VSwitches", "VSwitch")
                    .Select(v => new[] { v.Str("VSwitchId"), v.Str("VSwitchName"), v.Str("VpcId"), v.Str("ZoneId"), v.Str("CidrBlock") })
                    .OrderBy(r => r[1], StringComparer.Ordinal).ThenBy(r => r[0], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        }));
        var id = new Argument<string>("VSWITCH_ID") { Description = "The vSwitch, vsw-…" };
        command.Subcommands.Add(Remote.Attach(new Command("delete", "Delete a vSwitch without instances.\n\nExample:\n  palisade vswitch delete vsw-bp1abc") { id }, async c =>
        {
            var answer = await c.CallAsync("DeleteVSwitch", [new("VSwitchId", c.Parse.GetValue(id))], ApiVersions.Vpc);
            return Print(c, answer, $"{c.Parse.GetValue(id)} deleted");
        }));
        return command;
    }

    public static Command Tag()
    {
        var command = new Command("tag", "Tags of security groups and instances (TagResources, UntagResources, ListTagResources).");
        Option<string> Type() => new("--type") { Description = "securitygroup or instance.", Required = true, HelpName = "TYPE" };
        var resource = new Argument<string>("RESOURCE_ID") { Description = "The group or instance." };
        var type = Type();
        var tags = new Option<string[]>("--tag") { Description = "KEY=VALUE (repeatable).", Required = true, HelpName = "KEY=VALUE" };
        command.Subcommands.Add(Remote.Attach(new Command("add", "Tag a resource.\n\nExample:\n  palisade tag add sg-bp1abc --type securitygroup --tag owner=web-team --tag env=prod") { resource, type, tags }, async c =>
        {
            var p = new List<KeyValuePair<string, string?>> { new("ResourceType", c.Parse.GetValue(type)), new("ResourceId.1", c.Parse.GetValue(resource)) };
            var given = c.Parse.GetValue(tags) ?? [];
            for (var i = 0; i < given.Length; i++)
            {
                var pair = given[i].Split('=', 2);
                p.Add(new($"Tag.{RuleSpec.Index(i + 1)}.Key", pair[0]));
                p.Add(new($"Tag.{RuleSpec.Index(i + 1)}.Value", pair.Length > 1 ? pair[1] : ""));
            }
            var answer = await c.CallAsync("TagResources", p);
            return Print(c, answer, $"{c.Parse.GetValue(resource)}: {given.Length} tag{(given.Length == 1 ? "" : "s")} set");
        }));
        var keyResource = new Argument<string>("RESOURCE_ID") { Description = "The group or instance." };
        var keyType = Type();
        var keys = new Option<string[]>("--key") { Description = "A tag key to remove (repeatable).", Required = true, HelpName = "KEY" };
        command.Subcommands.Add(Remote.Attach(new Command("remove", "Remove tags from a resource.\n\nExample:\n  palisade tag remove sg-bp1abc --type securitygroup --key env") { keyResource, keyType, keys }, async c =>
        {
            var p = new List<KeyValuePair<string, string?>> { new("ResourceType", c.Parse.GetValue(keyType)), new("ResourceId.1", c.Parse.GetValue(keyResource)) };
            var given = c.Parse.GetValue(keys) ?? [];
            for (var i = 0; i < given.Length; i++)
                p.Add(new($"TagKey.{RuleSpec.Index(i + 1)}", given[i]));
            var answer = await c.CallAsync("UntagResources", p);
            return Print(c, answer, $"{c.Parse.GetValue(keyResource)}: {given.Length} tag{(given.Length == 1 ? "" : "s")} removed");
        }));
        var listType = Type();
        var listResource = new Option<string>("--resource") { Description = "The resource whose tags to list (ECS asks for one).", Required = true, HelpName = "ID" };
        command.Subcommands.Add(Remote.Attach(new Command("list", "The tags of a resource.\n\nExample:\n  palisade tag list --type instance --resource i-bp1abc") { listType, listResource }, async c =>
        {
            var answer = await c.CallAsync("ListTagResources", [new("ResourceType", c.Parse.GetValue(listType)), new("ResourceId.1", c.Parse.GetValue(listResource))]);
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, ["RESOURCE", "KEY", "VALUE"], [.. answer.Items("TagResources", "TagResource").Select(t => new[] { t.Str("ResourceId"), t.Str("TagKey"), t.Str("TagValue") })
                    .OrderBy(r => r[0], StringComparer.Ordinal).ThenBy(r => r[1], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int Print(RemoteContext c, System.Text.Json.JsonElement answer, string line)
    {
        if (c.Json)
            c.WriteJson(answer);
        else
            c.Output.WriteLine(line);
        return ExitCodes.Ok;
    }
}
