using System.CommandLine;
using System.Text.Json;
using Palisade.Client;
using Palisade.Analysis.Audit;
using Palisade.Cli.Analysis;
using Palisade.Cli.Evaluation;
using Palisade.Domain.Identifiers;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade audit</c>: the best-practice audit of a state file, or of a server's region.</summary>
public static class AuditCommand
{
    public static Command Build()
    {
        var state = new StateSource();
        var json = new Option<bool>("--json") { Description = "Print the findings as JSON: {\"findings\": [...]}." };
        var sarif = new Option<string?>("--sarif") { Description = "Also write the findings as SARIF 2.1.0 to FILE (for code-scanning tools).", HelpName = "FILE" };
        var usage = new Option<string?>("--usage")
        {
            Description = "With --state: the rules' hit counts as of a time, for unused-rule: {\"AsOf\", \"UnusedDays\", \"CountingSince\": {group: time}, \"LastHit\": {rule: time}} (a server's audit reads its own).",
            HelpName = "FILE",
        };
        var flows = new Option<string?>("--flows")
        {
            Description = "With --state: the observed flows as of a time, for over-broad-rule: {\"AsOf\", \"Days\", \"SamplingSince\": {group: time}, \"Flows\": {group: [{\"InstanceId\", \"NetworkInterfaceId\" (optional: the ENI that saw it; the primary when absent), \"SourceIp\", \"IpProtocol\", \"Port\", \"Connections\"}]}} (a server's audit reads its own).",
            HelpName = "FILE",
        };
        var command = new Command("audit", """
            Audit a state file against the best practices for security groups: sensitive ports reachable from
            the internet (decided by the engine over all groups of each instance, so drops, priorities, UDP
            and IPv6 count), or open to it in the rules of an instance without a public address yet, internal
            rules open on all ports or to wide blocks, blocks where a group would do, overlapping accept and
            drop rules at one priority, unused, undocumented and dangling groups, limits close by, instances
            without a group (docs/audit.md says what each check decides). Without --state the server audits
            the region of the signing key's account (--server, $PALISADE_SERVER or the profile;
            AuditSecurityGroups), printed the same way.

            Examples:
              palisade audit --state prod.json
              palisade audit --state prod.json --json --sarif palisade.sarif
              palisade audit --server http://127.0.0.1:8080 --region cn-hangzhou

            Exit codes: 0 no findings, 1 findings, 2 bad input, 4 the server could not be reached.
            """) { json, sarif, usage, flows };
        state.AddTo(command);
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            IReadOnlyList<Finding> findings;
            IReadOnlyDictionary<string, string> names;
            if (state.IsRemote(parse))
            {
                if (parse.GetValue(usage) is not null)
                    throw new UsageException("--usage goes with --state: a server's audit reads the hit counts its agents reported");
                if (parse.GetValue(flows) is not null)
                    throw new UsageException("--flows goes with --state: a server's audit reads the flows its agents sampled");
                var remote = state.Remote(parse, cancel);
                findings = FromEcs(await remote.CallAsync("AuditSecurityGroups", []));
                names = parse.GetValue(json) ? new Dictionary<string, string>()
                    : (await remote.Names.GroupNamesAsync()).Concat(await remote.Names.InstanceNamesAsync())
                        // Prefix lists' names only when a finding is about one: one more list call, not on every audit.
                        .Concat(findings.Any(f => f.PrefixListId is not null) ? await remote.Names.PrefixListNamesAsync() : [])
                        .GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
            }
            else
            {
                var loaded = StateFileOption.Load(parse.GetValue(state.File)!);
                // The bar is wiped before the findings are printed.
                var facts = parse.GetValue(usage) is { } usagePath ? ReadUsage(usagePath) : null;
                var flowFacts = parse.GetValue(flows) is { } flowsPath ? ReadFlows(flowsPath) : null;
                using (var progress = ProgressBar.For(parse, "audit"))
                    findings = Auditor.Run(loaded, progress: progress, usage: facts, flows: flowFacts);
                names = NameResolver.NamesOf(loaded);
            }
            var output = parse.InvocationConfiguration.Output;
            output.Write(parse.GetValue(json) ? AuditOutput.Json(findings) : AuditOutput.Text(findings, names));
            if (parse.GetValue(sarif) is { } path)
            {
                try
                {
                    File.WriteAllText(path, AuditOutput.Sarif(findings));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UsageException($"cannot write the SARIF file '{path}': {e.Message}");
                }
            }
            return findings.Count == 0 ? ExitCodes.Ok : ExitCodes.Findings;
        }));
        return command;
    }

    /// <summary>
    /// AuditSecurityGroups' findings as the audit's own: the action writes what is missing as ECS does
    /// (<c>""</c>) and lists as <c>{"Item": [...]}</c>; each check's evidence is read back into its record.
    /// </summary>
    public static IReadOnlyList<Finding> FromEcs(JsonElement answer) =>
        [.. answer.Items("Findings", "Finding").Select(f => new Finding(
            f.Str("Check"),
            Enum.GetValues<Severity>().FirstOrDefault(s => s.ToWire() == f.Str("Severity")),
            f.Str("SecurityGroupId") is { Length: > 0 } g ? SecurityGroupId.Parse(g) : null,
            f.Str("SecurityGroupRuleId") is { Length: > 0 } r ? SecurityGroupRuleId.Parse(r) : null,
            f.Str("InstanceId") is { Length: > 0 } i ? InstanceId.Parse(i) : null,
            f.Str("Message"),
            ReadEvidence(f.Str("Check"), f.TryGetProperty("Evidence", out var evidence) && evidence.ValueKind == JsonValueKind.Object ? evidence : default))
        {
            PrefixListId = f.TryGetProperty("PrefixListId", out var list) && list.ValueKind == JsonValueKind.String && PrefixListId.TryParse(list.GetString(), out var l) ? l : null,
        })];

    /// <summary>A time of a usage or flows file (UTC when no offset is given); anything else is a usage error naming <paramref name="what"/>.</summary>
    private static DateTimeOffset Time(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(e.GetString(), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new UsageException($"{what} is not a time (e.g. 2026-12-01T00:00:00Z)");

    /// <summary>A usage file (see --usage); anything else is a usage error that names what is wrong.</summary>
    internal static RuleUsageFacts ReadUsage(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var asOf = Time(root.GetProperty("AsOf"), "AsOf");
            var days = root.TryGetProperty("UnusedDays", out var d) ? d.TryGetInt32(out var n) && n is >= 1 and <= 3650 ? n : throw new UsageException("UnusedDays is not a number of days from 1 to 3650") : 30;
            var since = new Dictionary<SecurityGroupId, DateTimeOffset>();
            if (root.TryGetProperty("CountingSince", out var counting))
            {
                foreach (var p in counting.EnumerateObject())
                    since[SecurityGroupId.TryParse(p.Name, out var g) ? g : throw new UsageException($"CountingSince: '{p.Name}' is not a security group ID")] = Time(p.Value, $"CountingSince.{p.Name}");
            }
            var last = new Dictionary<SecurityGroupRuleId, DateTimeOffset>();
            if (root.TryGetProperty("LastHit", out var hits))
            {
                foreach (var p in hits.EnumerateObject())
                    last[SecurityGroupRuleId.TryParse(p.Name, out var r) ? r : throw new UsageException($"LastHit: '{p.Name}' is not a rule ID")] = Time(p.Value, $"LastHit.{p.Name}");
            }
            return new RuleUsageFacts(asOf, days, since, last);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new UsageException($"cannot read the usage file '{path}': {e.Message}");
        }
    }

    /// <summary>A flows file (see --flows); anything else is a usage error that names what is wrong.</summary>
    internal static FlowFacts ReadFlows(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var asOf = Time(root.GetProperty("AsOf"), "AsOf");
            var days = root.TryGetProperty("Days", out var d) ? d.TryGetInt32(out var n) && n is >= 1 and <= 3650 ? n : throw new UsageException("Days is not a number of days from 1 to 3650") : 7;
            var since = new Dictionary<SecurityGroupId, DateTimeOffset>();
            if (root.TryGetProperty("SamplingSince", out var sampling))
            {
                foreach (var p in sampling.EnumerateObject())
                    since[SecurityGroupId.TryParse(p.Name, out var g) ? g : throw new UsageException($"SamplingSince: '{p.Name}' is not a security group ID")] = Time(p.Value, $"SamplingSince.{p.Name}");
            }
            var observed = new Dictionary<SecurityGroupId, IReadOnlyList<Palisade.Analysis.Suggestions.ObservedConnection>>();
            if (root.TryGetProperty("Flows", out var byGroup))
            {
                foreach (var p in byGroup.EnumerateObject())
                {
                    var group = SecurityGroupId.TryParse(p.Name, out var g) ? g : throw new UsageException($"Flows: '{p.Name}' is not a security group ID");
                    observed[group] = [.. p.Value.EnumerateArray().Select((f, i) =>
                    {
                        var what = $"Flows.{p.Name}[{i}]";
                        return new Palisade.Analysis.Suggestions.ObservedConnection(
                            InstanceId.TryParse(f.GetProperty("InstanceId").GetString(), out var nic) ? nic : throw new UsageException($"{what}.InstanceId is not an instance ID"),
                            Domain.Networking.IpAddress.TryParse(f.GetProperty("SourceIp").GetString(), out var source) ? source : throw new UsageException($"{what}.SourceIp is not an address"),
                            Domain.Networking.IpProtocols.TryParse(f.GetProperty("IpProtocol").GetString(), out var protocol) && protocol != Domain.Networking.IpProtocol.All
                                ? protocol : throw new UsageException($"{what}.IpProtocol is not TCP, UDP, ICMP, ICMPv6 or GRE"),
                            f.TryGetProperty("Port", out var port) ? port.GetInt32() : 0,
                            f.TryGetProperty("Connections", out var c) ? c.GetInt64() : 1)
                        {
                            NetworkInterfaceId = !f.TryGetProperty("NetworkInterfaceId", out var e) || e.GetString() is not { Length: > 0 } eni ? null
                                : NetworkInterfaceId.TryParse(eni, out var id) ? id : throw new UsageException($"{what}.NetworkInterfaceId is not an ENI ID"),
                        };
                    })];
                }
            }
            return new FlowFacts(asOf, days, since, observed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UsageException($"cannot read the flows file '{path}': {e.Message}");
        }
    }

    private static Evidence ReadEvidence(string check, JsonElement evidence)
    {
        var fields = evidence.ValueKind == JsonValueKind.Object ? evidence.EnumerateObject().ToDictionary(p => p.Name, p => p.Value) : [];
        return Evidence.Read(AuditChecks.Find(check)?.Evidence ?? [], [.. fields.Keys], (name, kind) => fields.TryGetValue(name, out var v) ? Value(v, kind) : null);
    }

    private static object? Value(JsonElement v, EvidenceKind kind) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.TryGetInt64(out var n) ? n : v.GetRawText(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Object when v.TryGetProperty("Item", out var items) && items.ValueKind == JsonValueKind.Array =>
            (IReadOnlyList<string>)[.. items.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText())],
        _ when kind == EvidenceKind.Text => v.GetRawText(),
        _ => null,
    };
}
