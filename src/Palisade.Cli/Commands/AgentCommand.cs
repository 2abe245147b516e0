using System.CommandLine;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade agent</c>: this host enforces the groups of the NICs bound to it, with nftables.</summary>
public static class AgentCommand
{
    public static Command Build()
    {
        var connection = new ServerConnection();
        var host = new Option<string>("--host") { Description = "This host's name, as the bindings give it (palisade host bind).", Required = true, HelpName = "NAME" };
        var netns = new Option<string?>("--netns") { Description = "The network namespace to program (default: the agent's own).", HelpName = "NAME" };
        var cut = new Option<bool>("--cut-established")
        {
            Description = "Delete tracked connections that a revoked rule or a leave no longer allows. ECS keeps them, and so does the default.",
        };
        var poll = new Option<int>("--poll-seconds") { Description = "Longest wait on the change feed, and how often the kernel is checked for drift.", DefaultValueFactory = _ => 5 };
        var command = new Command("agent", """
            Enforce security groups on this Linux host: follow the control plane's change feed and keep the
            nftables tables 'inet palisade' and 'bridge palisade' (and no other) in step with every NIC bound to
            this host. Needs root, nftables (and conntrack for --cut-established). Runs until stopped.

            Safe by default: before the first answer every NIC is closed; if the server goes away the last
            ruleset stays; a restart replaces the old ruleset in one transaction; drift is repaired.

            Example:
              palisade agent --server http://10.0.0.1:8080 --host node-1 --credentials /var/lib/palisade/credentials
            """) { host, netns, cut, poll };
        foreach (var o in connection.Options)
            command.Options.Add(o);
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var wait = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(poll), 1, 60));
                var (client, server) = connection.Connect(parse, wait + TimeSpan.FromSeconds(15));
                // The server chooses this host's firewall: over plain HTTP anyone on the path could.
                if (server.Scheme != Uri.UriSchemeHttps && !server.IsLoopback)
                    throw new InvalidOperationException($"refusing {server}: the agent talks to a server other than this machine over https:// only (give --ca-cert FILE for a private CA)");
                var hostName = parse.GetValue(host)!;
                var agent = new EnforcementAgent(
                    new EcsControlPlane(client, connection.RegionOf(parse)),
                    new NftCommand(parse.GetValue(netns)),
                    new AgentOptions(hostName) { PollWait = wait, CutEstablished = parse.GetValue(cut) },
                    line =>
                    {
                        lock (output)
                            output.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}");
                    });
                output.WriteLine($"palisade agent: host {hostName}, server {server}, namespace {parse.GetValue(netns) ?? "(own)"}");
                await agent.RunAsync(cancel);
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or NetfilterException
                or System.ComponentModel.Win32Exception)
            {
                error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }
}
