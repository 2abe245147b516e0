using System.CommandLine;
using System.Text;
using System.Text.Json;
using Palisade.Analysis.Reachability;
using Palisade.Cli.Evaluation;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade reach</c>: who can reach an instance, what an instance reaches, and the matrix of both.</summary>
public static class ReachCommand
{
    public static Command Build()
    {
        var state = new StateSource();
        var to = new Option<string>("--to") { Description = "Who reaches this instance (or each member of this group).", HelpName = "INSTANCE|GROUP" };
        var from = new Option<string>("--from") { Description = "What this instance (or each member of this group) reaches.", HelpName = "INSTANCE|GROUP" };
        var matrix = new Option<bool>("--matrix") { Description = "Reachability between every pair of groups (or instances, with --by instance), and from the internet." };
        var by = new Option<string>("--by") { Description = "What the matrix is between: group (the default) or instance.", HelpName = "group|instance" };
        var protocol = new Option<string>("--protocol") { Description = "Only this protocol: tcp, udp, icmp, icmpv6, gre or all.", HelpName = "PROTOCOL" };
        var port = new Option<int?>("--port") { Description = "Only this port (of TCP and UDP).", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print the answer as JSON." };
        var ipv6 = new Option<bool>("--ipv6") { Description = "Between the instances' IPv6 addresses (and the IPv6 internet) instead of IPv4." };
        var command = new Command("reach", """
            Who can reach an instance (--to), what it reaches (--from), or the whole matrix (--matrix):
            instances of the same network and the internet, with the protocols and port ranges, after the
            source's egress and the target's ingress rules of all their groups. Exact over ports,
            protocols and addresses (computed over classes of instances and addresses that no rule tells
            apart). An instance takes part through every private IPv4 address it has, primary and
            secondary (with --ipv6, every IPv6 address): it reaches a port when some address of it
            reaches some address of the target, and an answer names the first address that does. The
            internet reaches a VPC instance's primary IPv4 address through its public or elastic
            address. Towards the internet only the source's egress rules are judged. Reads a state
            file (--state), or without one the region of the signing key's account on the server (--server,
            $PALISADE_SERVER or the profile; ExportSecurityState), answered here alike.

            Examples:
              palisade reach --state prod.json --to i-redis1
              palisade reach --state prod.json --from sg-web --protocol tcp --port 6379
              palisade reach --state prod.json --matrix
              palisade reach --state prod.json --matrix --by instance --json
              palisade reach --server http://127.0.0.1:8080 --matrix
            """) { to, from, matrix, by, protocol, port, json, ipv6 };
        state.AddTo(command);
        command.SetAction((parse, cancel) => state.Run(parse, async () =>
        {
            var networkState = await state.LoadAsync(parse, cancel);
            var filter = Filter(parse.GetValue(protocol), parse.GetValue(port));
            var questions = new[] { parse.GetValue(to) is not null, parse.GetValue(from) is not null, parse.GetValue(matrix) }.Count(q => q);
            if (questions != 1)
                throw new UsageException("ask one question: --to, --from or --matrix");
            var byText = parse.GetValue(by) ?? "group";
            if (byText is not ("group" or "instance"))
                throw new UsageException($"--by {byText}: expected group or instance");
            if (parse.GetValue(by) is not null && !parse.GetValue(matrix))
                throw new UsageException("--by goes with --matrix");
            var writeJson = parse.GetValue(json);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(matrix))
            {
                List<(string Source, string Target, IReadOnlyList<Access> Access)> cells;
                // The bar is wiped before the matrix is printed.
                using (var progress = ProgressBar.For(parse, "reach"))
                    cells = Matrix(ReachMatrix.Build(networkState, parse.GetValue(ipv6), progress), byText == "group", filter);
                output.Write(writeJson ? MatrixJson(byText, cells) : MatrixText(byText, cells, NameResolver.NamesOf(networkState)));
                return ExitCodes.Ok;
            }
            var forward = parse.GetValue(from) is not null;
            var option = forward ? "--from" : "--to";
            var (group, instances) = Resolve(networkState, option, parse.GetValue(forward ? from : to)!);
            var reach = ReachMatrix.Build(networkState, parse.GetValue(ipv6));
            var answers = instances.Select(i => (i, Restrict(forward ? reach.From(i) : reach.To(i), filter))).ToList();
            output.Write(writeJson ? Json(forward, group, answers)
                : answers.Count == 0 ? $"{group} has no instances\n"
                : string.Concat(answers.Select(a => Text(forward, a.i, a.Item2))));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private sealed record AccessFilter(IpProtocol? Protocol, int? Port);

    private static AccessFilter Filter(string? protocolText, int? port)
    {
        IpProtocol? protocol = null;
        if (protocolText is not null)
        {
            if (!IpProtocols.TryParse(protocolText, out var p))
                throw new UsageException($"--protocol {protocolText}: expected tcp, udp, icmp, icmpv6, gre or all");
            protocol = p;
        }
        if (port is { } n)
        {
            if (n < PortRange.MinPort || n > PortRange.MaxPort)
                throw new UsageException($"--port {n}: expected 1 to 65535");
            if (protocol is { } q && !q.HasPorts())
                throw new UsageException($"--port goes with tcp or udp, not {q.ToWire()}");
        }
        return new AccessFilter(protocol, port);
    }

    private static AccessSet Apply(AccessSet access, AccessFilter filter) =>
        filter.Protocol is null && filter.Port is null ? access : access.Restrict(filter.Protocol, filter.Port);

    private static List<Reacher> Restrict(IReadOnlyList<Reacher> reachers, AccessFilter filter) =>
        [.. reachers
            .Select(r => r with { Accesses = Apply(AccessSet.FromAccesses(r.Accesses), filter).ToAccesses() })
            .Where(r => r.Accesses.Count > 0)];

    /// <summary>An instance, or a group standing for each of its members.</summary>
    private static (SecurityGroupId? Group, IReadOnlyList<Instance> Instances) Resolve(NetworkState state, string option, string text)
    {
        if (InstanceId.TryParse(text, out var id) && state.FindInstance(id) is { } instance)
            return (null, [instance]);
        if (SecurityGroupId.TryParse(text, out var groupId) && state.FindGroup(groupId) is not null)
            return (groupId, state.MembersOf(groupId));
        if (!NameResolver.LooksLikeId(NameResolver.Instance, text) && !NameResolver.LooksLikeId(NameResolver.Group, text))
        {
            // A name: of an instance or of a group; the same name on both is as ambiguous as on two groups.
            var named = NameResolver.InstancesOf(state).Where(i => i.Name == text).Select(i => i with { Where = $"instance, {i.Where}" })
                .Concat(NameResolver.GroupsOf(state).Where(g => g.Name == text).Select(g => g with { Where = $"security group, {g.Where}" })).ToList();
            if (named.Count == 1)
                return Resolve(state, option, named[0].Id);
            if (named.Count > 1)
                throw new UsageException($"{option} '{text}' names {named.Count} instances and groups in the state file: {string.Join(", ", named.Select(n => $"{n.Id} ({n.Where})"))}; give the ID");
        }
        throw new UsageException($"{option} {text}: no such instance or security group in the state file");
    }

    private static string Ports(Access a) => a.Label;

    /// <summary>"web-1 (i-…, 10.0.1.10)": the name first when the instance has one, then its ID and addresses.</summary>
    private static string Named(Instance instance, string addresses) =>
        instance.Name.Length > 0 ? $"{instance.Name} ({instance.Id}, {addresses})" : $"{instance.Id} ({addresses})";

    private static string Text(bool forward, Instance instance, IReadOnlyList<Reacher> reachers)
    {
        var sb = new StringBuilder(forward
            ? $"what {Named(instance, string.Join(", ", instance.AllPrivateAddresses))} reaches:\n"
            : $"who reaches {Named(instance, string.Join(", ", instance.AllPrivateAddresses))}:\n");
        if (reachers.Count == 0)
            sb.Append(forward ? "  nothing\n" : "  nobody\n");
        foreach (var r in reachers)
        {
            // An address of a secondary ENI is named with its ENI, whose groups decide there.
            var who = r.IsInternet ? $"the internet (e.g. {(forward ? "to" : "from")} {r.WitnessAddress})"
                : Named(r.Instance!, r.NetworkInterfaceId is { } eni ? $"{r.WitnessAddress} on {eni}" : r.WitnessAddress?.ToString() ?? "");
            // Only the answer's family's ICMP: ICMPv6 means nothing between IPv4 addresses (and ICMP between IPv6 ones).
            sb.Append($"  {who}: {string.Join("; ", r.Accesses.Where(a => r.WitnessAddress is not { } w || Reach.InFamily(a.Protocol, w.IsV6)).Select(Ports))}\n");
        }
        return sb.ToString();
    }

    private static string Json(bool forward, SecurityGroupId? group, List<(Instance Instance, List<Reacher> Reachers)> answers)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            if (group is { } g)
            {
                w.WriteStartObject();
                w.WriteString("securityGroupId", g.Value);
                w.WriteStartArray("instances");
            }
            foreach (var (instance, reachers) in answers)
                WriteAnswer(w, forward, instance, reachers);
            if (group is not null)
            {
                w.WriteEndArray();
                w.WriteEndObject();
            }
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteAnswer(Utf8JsonWriter w, bool forward, Instance instance, List<Reacher> reachers)
    {
        w.WriteStartObject();
        w.WriteString(forward ? "source" : "target", instance.Id.Value);
        w.WriteStartArray(forward ? "targets" : "sources");
        foreach (var r in reachers)
        {
            w.WriteStartObject();
            w.WriteString("kind", r.IsInternet ? "internet" : "instance");
            if (r.IsInternet)
                w.WriteNull("instanceId");
            else
                w.WriteString("instanceId", r.Instance!.Id.Value);
            w.WriteString("address", r.WitnessAddress?.ToString());
            if (r.NetworkInterfaceId is { } eni)
                w.WriteString("networkInterfaceId", eni.Value);
            WriteAccess(w, r.Accesses);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteAccess(Utf8JsonWriter w, IReadOnlyList<Access> accesses)
    {
        w.WriteStartArray("access");
        foreach (var a in accesses)
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
    }

    /// <summary>The non-empty cells, the internet first, then by source and target (group ID, or instance in state order).</summary>
    private static List<(string Source, string Target, IReadOnlyList<Access> Access)> Matrix(ReachMatrix reach, bool byGroup, AccessFilter filter)
    {
        IEnumerable<(string, string, AccessSet)> cells;
        if (byGroup)
        {
            cells = reach.ByGroup();
        }
        else
        {
            var instances = reach.State.Instances;
            cells = instances.Select(t => ("internet", t.Id.Value, reach.FromInternet(t).Access))
                .Concat(instances.SelectMany(s => instances.Select(t => (s.Id.Value, t.Id.Value, reach.Between(s, t)))));
        }
        return [.. cells
            .Select(c => (c.Item1, c.Item2, Apply(c.Item3, filter)))
            .Where(c => !c.Item3.IsEmpty)
            .Select(c => (c.Item1, c.Item2, (IReadOnlyList<Access>)[.. c.Item3.ToAccesses().Where(a => Reach.InFamily(a.Protocol, reach.V6))]))
            .Where(c => c.Item3.Count > 0)];
    }

    private static string MatrixText(string by, List<(string Source, string Target, IReadOnlyList<Access> Access)> cells, IReadOnlyDictionary<string, string> names)
    {
        cells = [.. cells.Select(c => (NameResolver.Label(c.Source, names), NameResolver.Label(c.Target, names), c.Access))];
        var sb = new StringBuilder(by == "group"
            ? "reachability between security groups (some member reaches another member, or the internet reaches a member):\n"
            : "reachability between instances:\n");
        if (cells.Count == 0)
            sb.Append("  nothing reaches anything\n");
        var width = cells.Count == 0 ? 0 : cells.Max(c => c.Source.Length);
        foreach (var (source, target, access) in cells)
            sb.Append($"  {source.PadRight(width)} -> {target}: {string.Join("; ", access.Select(Ports))}\n");
        return sb.ToString();
    }

    private static string MatrixJson(string by, List<(string Source, string Target, IReadOnlyList<Access> Access)> cells)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("by", by);
            w.WriteStartArray("cells");
            foreach (var (source, target, access) in cells)
            {
                w.WriteStartObject();
                w.WriteString("source", source);
                w.WriteString("target", target);
                WriteAccess(w, access);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
