using System.CommandLine;
using System.Text.Json;
using Palisade.Client;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade host bind|unbind|list</c>: which host carries which NIC, and whether its agent is in sync.</summary>
public static class HostCommands
{
    public static Command Build()
    {
        var command = new Command("host", "Bind instances' NICs to hosts' interfaces, and see whether each host's agent enforces the latest revision.");
        command.Subcommands.Add(Bind());
        command.Subcommands.Add(Unbind());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Bind()
    {
        var instance = new Option<string>("--instance") { Description = "The instance.", Required = true, HelpName = "ID" };
        var host = new Option<string>("--host") { Description = "The host's name (its agent's --host).", Required = true, HelpName = "NAME" };
        var interfaceName = new Option<string>("--interface") { Description = "The host-side interface carrying the NIC (a veth end, a tap device).", Required = true, HelpName = "IFNAME" };
        var command = new Command("bind", """
            The NIC of an instance is carried by an interface of a host; that host's agent enforces its groups.
            Binding again moves it.

            Example:
              palisade host bind --instance i-bp1abc --host node-1 --interface vnet12
            """) { instance, host, interfaceName };
        return Remote.Attach(command, async c =>
        {
            await c.CallAsync("BindHostInterface", [new("InstanceId", c.Parse.GetValue(instance)), new("HostName", c.Parse.GetValue(host)), new("InterfaceName", c.Parse.GetValue(interfaceName))]);
            c.Output.WriteLine($"{c.Parse.GetValue(instance)} is bound to {c.Parse.GetValue(interfaceName)} on {c.Parse.GetValue(host)}");
            return ExitCodes.Ok;
        }, output: false);
    }

    private static Command Unbind()
    {
        var instance = new Option<string>("--instance") { Description = "The instance.", Required = true, HelpName = "ID" };
        var command = new Command("unbind", "The instance's NIC is carried by no host any more; its agent forgets it.\n\nExample:\n  palisade host unbind --instance i-bp1abc") { instance };
        return Remote.Attach(command, async c =>
        {
            await c.CallAsync("UnbindHostInterface", [new("InstanceId", c.Parse.GetValue(instance))]);
            c.Output.WriteLine($"{c.Parse.GetValue(instance)} is bound to no host");
            return ExitCodes.Ok;
        }, output: false);
    }

    private static Command List()
    {
        var host = new Option<string?>("--host") { Description = "Only this host.", HelpName = "NAME" };
        var command = new Command("list", """
            Hosts, the NICs bound to them, the revision each host's agent says it enforces, and whether that
            is the account's latest (in sync). Exit 0 when every NIC is in sync, 1 otherwise.

            Example:
              palisade host list --host node-1
            """) { host };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("DescribeHostInterfaces", [new("HostName", c.Parse.GetValue(host))]);
            var output = c.Output;
            var items = answer.Items("HostInterfaces", "HostInterface").ToList();
            if (c.Json)
            {
                c.WriteJson(answer);
            }
            else
            {
                var rows = items.Select(i => new[]
                {
                    i.GetProperty("HostName").GetString()!, i.GetProperty("InterfaceName").GetString()!, i.GetProperty("InstanceId").GetString()!,
                    i.GetProperty("AppliedRevision").GetInt64() == 0 ? "-" : i.GetProperty("AppliedRevision").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    i.GetProperty("InSync").GetBoolean() ? "yes" : "no",
                }).ToList();
                Remote.Table(output, ["HOST", "INTERFACE", "INSTANCE", "APPLIED", "IN SYNC"], rows);
                output.WriteLine($"account revision {answer.GetProperty("AccountRevision").GetInt64()}; {rows.Count(r => r[4] == "yes")} of {rows.Count} NICs in sync");
            }
            return items.All(i => i.GetProperty("InSync").GetBoolean()) ? ExitCodes.Ok : ExitCodes.Denied;
        });
    }
}
