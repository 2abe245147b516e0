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
        var host = new Option<string?>("--host") { Description = "This host's name, as the bindings give it (default: the host_name of the --credentials file).", HelpName = "NAME" };
        var interfaces = new Option<string?>("--interfaces")
        {
            Description = "The interface name patterns this host carries ('*' for any run), as 'palisade host declare' gave them: a binding outside is not enforced.",
            HelpName = "PATTERNS",
        };
        var addresses = new Option<string?>("--addresses")
        {
            Description = "The address space of this host's NICs (CIDR blocks), as 'palisade host declare' gave it: a NIC with an address outside is not enforced.",
            HelpName = "CIDRS",
        };
        var netns = new Option<string?>("--netns") { Description = "The network namespace to program (default: the agent's own).", HelpName = "NAME" };
        var cut = new Option<bool>("--cut-established")
        {
            Description = "Delete tracked connections that a revoked rule or a leave no longer allows. ECS keeps them, and so does the default.",
        };
        var poll = new Option<int>("--poll-seconds") { Description = "Longest wait on the change feed (1-300), and how often the kernel is checked for drift. A large fleet asks for longer: each wait's end is a request to the server; a dead connection is then noticed later.", DefaultValueFactory = _ => 5 };
        var report = new Option<int>("--report-seconds") { Description = "How often the rules' hit counts and the sampled flows are reported (5 to 3600).", DefaultValueFactory = _ => 60 };
        var noFlows = new Option<bool>("--no-flow-sampling")
        {
            Description = "Never sample the new connections the NICs accept (the operator can also switch sampling off for the host on the server: palisade host declare --no-flow-sampling).",
        };
        var noCounters = new Option<bool>("--no-rule-counters")
        {
            Description = "Count nothing per rule: the rules carry no counters (their cost per new connection was below what could be measured: docs/benchmarks.md) and the agent reports no rule usage, so the server's usage and the audit's unused-rule know nothing of this host.",
        };
        var command = new Command("agent", """
            Enforce security groups on this Linux host: follow the control plane's change feed and keep the
            nftables tables 'inet palisade' and 'bridge palisade' (and no other) in step with every NIC bound to
            this host. Needs root, nftables, and conntrack (for flow sampling and --cut-established). Runs
            until stopped.

            Reports, every --report-seconds, how often each rule matched and the new connections the NICs
            accepted (sampled from conntrack's events, at most 60000 a minute, per NIC, source, protocol,
            port and minute; what is over the cap is counted as dropped): the flows 'palisade suggest' and
            the audit's over-broad-rule read. The server tells the agent whether the host samples at all.

            Safe by default: before the first answer every NIC is closed; if the server goes away the last
            ruleset stays; a restart replaces the old ruleset in one transaction; drift is repaired.

            Example:
              palisade agent --server https://cp.example:8443 --ca-cert /etc/palisade/ca.pem \
                --credentials /etc/palisade/node-1.credentials --interfaces 'vnet*' --addresses 172.16.0.0/12

            The credentials are the host credential the operator made ('palisade host credential create'):
            they may only read this host's policy, follow its feed and report. --interfaces and --addresses
            repeat the host's declaration so that the agent itself refuses a binding outside it.
            """) { host, netns, cut, poll, report, noFlows, noCounters, interfaces, addresses };
        foreach (var o in connection.Options)
            command.Options.Add(o);
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var wait = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(poll), 1, 300));
                var hostName = parse.GetValue(host) ?? HostOfCredentials(parse.GetValue(connection.Credentials))
                    ?? throw new InvalidOperationException("no host: give --host NAME, or --credentials FILE of a host credential (palisade host credential create)");
                Domain.Hosts.HostNames.Host(hostName);
                Domain.Hosts.HostDeclaration? declaration = null;
                if (parse.GetValue(interfaces) is { } patterns && parse.GetValue(addresses) is { } space)
                    declaration = Domain.Hosts.HostDeclaration.Parse(patterns, space);
                else if (parse.GetValue(interfaces) is not null || parse.GetValue(addresses) is not null)
                    throw new InvalidOperationException("--interfaces and --addresses go together: they repeat the host's declaration");
                var (client, server) = connection.Connect(parse, wait + TimeSpan.FromSeconds(15));
                // The server chooses this host's firewall: over plain HTTP anyone on the path could.
                if (server.Scheme != Uri.UriSchemeHttps && !server.IsLoopback)
                    throw new InvalidOperationException($"refusing {server}: the agent talks to a server other than this machine over https:// only (give --ca-cert FILE for a private CA)");
                var counting = !parse.GetValue(noCounters);
                void Log(string line)
                {
                    lock (output)
                        output.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}");
                }
                using var kernel = new NftCommand(parse.GetValue(netns)) { EventLog = Log };
                var agent = new EnforcementAgent(
                    new EcsControlPlane(client, connection.RegionOf(parse)) { CountsRules = counting },
                    kernel,
                    new AgentOptions(hostName)
                    {
                        PollWait = wait, CutEstablished = parse.GetValue(cut), Declaration = declaration,
                        UsageInterval = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(report), 5, 3600)), FlowSampling = !parse.GetValue(noFlows),
                        RuleCounters = counting,
                    },
                    Log);
                output.WriteLine($"palisade agent: host {hostName}, server {server}, namespace {parse.GetValue(netns) ?? "(own)"}; {kernel.Mode}; rule counters {(counting ? "on" : "off (--no-rule-counters)")}");
                output.WriteLine(declaration is null
                    ? "palisade agent: no --interfaces/--addresses: the server's bindings are enforced as sent (give the host's declaration to have them re-checked here)"
                    : $"palisade agent: enforcing only interfaces {declaration.Patterns} with addresses in {declaration.Space}");
                await agent.RunAsync(cancel);
                return ExitCodes.Ok;
            }
            catch (Domain.Errors.EcsException e)
            {
                error.WriteLine($"error: {e.Error.Message}");
                return ExitCodes.BadInput;
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

    /// <summary>The <c>host_name</c> line of a host credential file, if any.</summary>
    private static string? HostOfCredentials(string? file) =>
        file is null || !File.Exists(file)
            ? null
            : File.ReadAllLines(file).Select(l => l.Split('=', 2)).Where(p => p.Length == 2 && p[0].Trim() == "host_name").Select(p => p[1].Trim()).FirstOrDefault();
}
