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
        var connection = new ServerConnection();
        var instance = new Option<string>("--instance") { Description = "The instance.", Required = true, HelpName = "ID" };
        var host = new Option<string>("--host") { Description = "The host's name (its agent's --host).", Required = true, HelpName = "NAME" };
        var interfaceName = new Option<string>("--interface") { Description = "The host-side interface carrying the NIC (a veth end, a tap device).", Required = true, HelpName = "IFNAME" };
        var command = new Command("bind", """
            The NIC of an instance is carried by an interface of a host; that host's agent enforces its groups.
            Binding again moves it.

            Example:
              palisade host bind --instance i-bp1abc --host node-1 --interface vnet12
            """) { instance, host, interfaceName };
        return Remote(command, connection, async (client, parse, cancel) =>
        {
            await client.CallAsync("BindHostInterface", [new("RegionId", parse.GetValue(connection.Region)!), new("InstanceId", parse.GetValue(instance)!),
                new("HostName", parse.GetValue(host)!), new("InterfaceName", parse.GetValue(interfaceName)!)], cancel: cancel);
            parse.InvocationConfiguration.Output.WriteLine($"{parse.GetValue(instance)} is bound to {parse.GetValue(interfaceName)} on {parse.GetValue(host)}");
        });
    }

    private static Command Unbind()
    {
        var connection = new ServerConnection();
        var instance = new Option<string>("--instance") { Description = "The instance.", Required = true, HelpName = "ID" };
        var command = new Command("unbind", "The instance's NIC is carried by no host any more; its agent forgets it.\n\nExample:\n  palisade host unbind --instance i-bp1abc") { instance };
        return Remote(command, connection, async (client, parse, cancel) =>
        {
            await client.CallAsync("UnbindHostInterface", [new("RegionId", parse.GetValue(connection.Region)!), new("InstanceId", parse.GetValue(instance)!)], cancel: cancel);
            parse.InvocationConfiguration.Output.WriteLine($"{parse.GetValue(instance)} is bound to no host");
        });
    }

    private static Command List()
    {
        var connection = new ServerConnection();
        var host = new Option<string?>("--host") { Description = "Only this host.", HelpName = "NAME" };
        var json = new Option<bool>("--json") { Description = "The DescribeHostInterfaces answer as JSON." };
        var command = new Command("list", """
            Hosts, the NICs bound to them, the revision each host's agent says it enforces, and whether that
            is the account's latest (in sync). Exit 0 when every NIC is in sync, 1 otherwise.

            Example:
              palisade host list --host node-1
            """) { host, json };
        return Remote(command, connection, async (client, parse, cancel) =>
        {
            List<KeyValuePair<string, string>> p = [new("RegionId", parse.GetValue(connection.Region)!)];
            if (parse.GetValue(host) is { } h)
                p.Add(new("HostName", h));
            var answer = await client.CallAsync("DescribeHostInterfaces", p, cancel: cancel);
            var output = parse.InvocationConfiguration.Output;
            var items = answer.GetProperty("HostInterfaces").GetProperty("HostInterface").EnumerateArray().ToList();
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(answer, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                var rows = items.Select(i => new[]
                {
                    i.GetProperty("HostName").GetString()!, i.GetProperty("InterfaceName").GetString()!, i.GetProperty("InstanceId").GetString()!,
                    i.GetProperty("AppliedRevision").GetInt64() == 0 ? "-" : i.GetProperty("AppliedRevision").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    i.GetProperty("InSync").GetBoolean() ? "yes" : "no",
                }).ToList();
                Table(output, ["HOST", "INTERFACE", "INSTANCE", "APPLIED", "IN SYNC"], rows);
                output.WriteLine($"account revision {answer.GetProperty("AccountRevision").GetInt64()}; {rows.Count(r => r[4] == "yes")} of {rows.Count} NICs in sync");
            }
            return items.All(i => i.GetProperty("InSync").GetBoolean()) ? ExitCodes.Ok : ExitCodes.Denied;
        });
    }

    private static void Table(TextWriter output, string[] headers, List<string[]> rows)
    {
        var widths = headers.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine(string.Join("  ", headers.Select((h, c) => h.PadRight(widths[c]))).TrimEnd());
        foreach (var r in rows)
            output.WriteLine(string.Join("  ", r.Select((v, c) => v.PadRight(widths[c]))).TrimEnd());
    }

    private static Command Remote(Command command, ServerConnection connection, Func<EcsClient, ParseResult, CancellationToken, Task> work) =>
        Remote(command, connection, async (client, parse, cancel) =>
        {
            await work(client, parse, cancel);
            return ExitCodes.Ok;
        });

    /// <summary>Runs a command against the server: ECS errors in one line with their code (exit 2), nothing else printed.</summary>
    private static Command Remote(Command command, ServerConnection connection, Func<EcsClient, ParseResult, CancellationToken, Task<int>> work)
    {
        foreach (var o in connection.Options)
            command.Options.Add(o);
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var (client, _) = connection.Connect(parse);
                return await work(client, parse, cancel);
            }
            catch (EcsApiException e)
            {
                error.WriteLine($"error: {e.Code}: {e.EcsMessage} (RequestId {e.RequestId})");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }
}
