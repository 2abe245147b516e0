using System.CommandLine;
using Palisade.Analysis.Flows;
using Palisade.Cli.Evaluation;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade eval</c>: one flow, one decision, and why — from a state file, or from a server's state.</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var state = new StateSource();
        var source = new Option<string>("--src") { Description = "Where the flow starts: an instance of the state (its ID or name), or an IP address.", HelpName = "INSTANCE|ADDRESS", Required = true };
        var destination = new Option<string>("--dst") { Description = "Where the flow goes: an instance of the state (its ID or name), or an IP address.", HelpName = "INSTANCE|ADDRESS", Required = true };
        var protocol = new Option<string>("--protocol") { Description = "The IP protocol; 'all' stands for any other protocol (SCTP, ESP…), which only ALL rules match.", Required = true };
        protocol.AcceptOnlyFromAmong("tcp", "udp", "icmp", "icmpv6", "gre", "all");
        var port = new Option<string>("--port") { Description = "The destination port (tcp and udp only; required for them).", HelpName = "N" };
        var sourcePort = new Option<string>("--src-port") { Description = $"The source port (tcp and udp). [default: {Flow.DefaultSourcePort}]", HelpName = "N" };
        var nic = new Option<string?>("--nic")
        {
            Description = "Which NICs carry the flow; only classic-network instances have two. Default: internet when --src or --dst is a classic instance's public address, else intranet.",
        };
        nic.AcceptOnlyFromAmong("intranet", "internet");
        var json = new Option<bool>("--json") { Description = "Print the decision as JSON instead of words." };

        var command = new Command("eval", """
            Decide one flow as ECS security groups would: the source's egress rules and the destination's
            ingress rules, each with the rule that decided and the matching rules it beat. Reads a state
            file (--state), or without one the region of the signing key's account on the server
            (--server, $PALISADE_SERVER or the profile; ExportSecurityState), decided here alike.

            Examples:
              palisade eval --state prod.json --src i-web1 --dst i-redis1 --protocol tcp --port 6379
              palisade eval --state prod.json --src 203.0.113.7 --dst i-web1 --protocol tcp --port 443 --json
              palisade eval --server http://127.0.0.1:8080 --src i-bp1… --dst i-bp1… --protocol tcp --port 22

            Exit codes: 0 the flow is allowed, 1 it is denied, 2 bad input (command line or state file),
            4 the server could not be reached.
            """)
        {
            source, destination, protocol, port, sourcePort, nic, json,
        };
        state.AddTo(command);

        command.SetAction((parse, cancel) => state.Run(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            IpProtocols.TryParse(parse.GetValue(protocol), out var ipProtocol);
            var portText = parse.GetValue(port);
            var sourcePortText = parse.GetValue(sourcePort);
            int? destinationPort = null;
            var srcPort = Flow.DefaultSourcePort;
            if (ipProtocol.HasPorts())
            {
                destinationPort = ParsePort("--port", portText ?? throw new UsageException($"--port is required for {ipProtocol.ToWire()}"));
                if (sourcePortText is not null)
                    srcPort = ParsePort("--src-port", sourcePortText);
            }
            else if (portText is not null || sourcePortText is not null)
            {
                throw new UsageException($"{(portText is not null ? "--port" : "--src-port")} applies only to tcp and udp, not {ipProtocol.ToWire()}");
            }
            NicType? requested = parse.GetValue(nic) is { } nicText && NicTypes.TryParse(nicText, out var asked) ? asked : null;

            var networkState = await state.LoadAsync(parse, cancel);
            var (src, dst, nicType) = ResolvePair(networkState, ByName(networkState, parse.GetValue(source)!), ByName(networkState, parse.GetValue(destination)!), requested);
            if (src.Instance is null && dst.Instance is null)
                throw new UsageException("neither --src nor --dst is an instance of the state: there is no security group to ask");

            var flow = new Flow(src.Address, dst.Address, ipProtocol, destinationPort ?? 0, ipProtocol.HasPorts() ? srcPort : 0);
            var decision = new FlowEvaluator(networkState).Evaluate(flow, src.Instance, dst.Instance, nicType);
            output.Write(parse.GetValue(json)
                ? PathDecisionJson.Render(decision)
                : PathDecisionText.Render(decision, src, dst, nicType));
            return decision.Allowed ? ExitCodes.Ok : ExitCodes.Denied;
        }));
        return command;
    }

    /// <summary>An instance's name, as its ID; an ID or an address stays as it is.</summary>
    private static string ByName(Domain.State.NetworkState state, string text) =>
        NameResolver.LooksLikeAddress(text) ? text : NameResolver.Resolve(NameResolver.Instance, text, NameResolver.InstancesOf(state), "in the state file");

    private static int ParsePort(string option, string text)
    {
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value is < PortRange.MinPort or > PortRange.MaxPort)
            throw new UsageException($"{option} '{text}' is not a port (1 to 65535)");
        return value;
    }

    private static (FlowEndpoint Source, FlowEndpoint Destination, NicType NicType) ResolvePair(Domain.State.NetworkState state, string source, string destination, NicType? nicType)
    {
        try
        {
            return FlowEndpoint.Resolve(state, source, destination, nicType);
        }
        catch (FlowEndpointException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
