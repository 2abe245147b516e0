using System.CommandLine;
using System.Text;
using System.Text.Json;
using Palisade.Analysis.Reachability;
using Palisade.Cli.Evaluation;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade reach</c>: who can reach an instance, on which protocols and ports.</summary>
public static class ReachCommand
{
    public static Command Build()
    {
        var state = StateFileOption.Create();
        var to = new Option<string>("--to") { Description = "The instance to ask about.", HelpName = "INSTANCE", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the answer as JSON." };
        var command = new Command("reach", """
            Who can reach an instance: every other instance of its network, and the internet, with the
            protocols and port ranges each reaches, after the source's egress and the target's ingress
            rules of all their groups. Exact over ports and protocols (every port interval between rule
            boundaries is decided by the engine); an instance is represented by its primary address.

            Examples:
              palisade reach --state prod.json --to i-redis1
              palisade reach --state prod.json --to i-redis1 --json
            """) { state, to, json };
        command.SetAction(parse =>
        {
            try
            {
                var networkState = StateFileOption.Load(parse.GetValue(state)!);
                var text = parse.GetValue(to)!;
                var target = (InstanceId.TryParse(text, out var id) ? networkState.FindInstance(id) : null)
                    ?? throw new UsageException($"--to {text}: no such instance in the state file");
                var reachers = Reach.To(networkState, target);
                parse.InvocationConfiguration.Output.Write(parse.GetValue(json) ? Json(target, reachers) : Text(target, reachers));
                return ExitCodes.Ok;
            }
            catch (UsageException e)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }

    private static string Ports(Access a) => a.Protocol.HasPorts()
        ? $"{a.Protocol.ToWire()} {string.Join(", ", a.Ports.Select(p => p.Low == p.High ? $"{p.Low}" : $"{p.Low}-{p.High}"))}"
        : a.Protocol.ToWire();

    private static string Text(Domain.Instances.Instance target, IReadOnlyList<Reacher> reachers)
    {
        var sb = new StringBuilder($"who reaches {target.Id} ({string.Join(", ", target.PrivateAddresses)}):\n");
        if (reachers.Count == 0)
            sb.Append("  nobody\n");
        foreach (var r in reachers)
        {
            var who = r.IsInternet ? $"the internet (e.g. from {r.WitnessAddress})" : $"{r.Instance!.Id} ({r.WitnessAddress})";
            sb.Append($"  {who}: {string.Join("; ", r.Accesses.Select(Ports))}\n");
        }
        return sb.ToString();
    }

    private static string Json(Domain.Instances.Instance target, IReadOnlyList<Reacher> reachers)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("target", target.Id.Value);
            w.WriteStartArray("sources");
            foreach (var r in reachers)
            {
                w.WriteStartObject();
                w.WriteString("kind", r.IsInternet ? "internet" : "instance");
                if (r.IsInternet)
                    w.WriteNull("instanceId");
                else
                    w.WriteString("instanceId", r.Instance!.Id.Value);
                w.WriteString("address", r.WitnessAddress?.ToString());
                w.WriteStartArray("access");
                foreach (var a in r.Accesses)
                {
                    w.WriteStartObject();
                    w.WriteString("protocol", a.Protocol.ToWire());
                    w.WriteStartArray("ports");
                    foreach (var p in a.Ports)
                        w.WriteStringValue(p.ToString());
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
