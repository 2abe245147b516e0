using System.Text;
using System.Text.Json;
using Palisade.Analysis.Audit;

namespace Palisade.Cli.Analysis;

/// <summary>The audit's findings in words, as the JSON of the issue, and as SARIF 2.1.0. Golden-tested.</summary>
public static class AuditOutput
{
    /// <summary>The findings for people: each with where it is, names beside IDs (<paramref name="names"/>: ID to name).</summary>
    public static string Text(IReadOnlyList<Finding> findings, IReadOnlyDictionary<string, string> names)
    {
        var sb = new StringBuilder();
        foreach (var f in findings)
        {
            var where = string.Join("  ", new[]
            {
                f.InstanceId is { } i ? Commands.NameResolver.Label(i.Value, names) : null,
                f.SecurityGroupId is { } g ? Commands.NameResolver.Label(g.Value, names) + (f.SecurityGroupRuleId is { } r ? $" rule {r}" : "") : null,
                f.PrefixListId is { } l ? Commands.NameResolver.Label(l.Value, names) : null,
            }.Where(x => x is not null));
            sb.Append($"{f.Severity.ToWire().ToUpperInvariant(),-6} {f.Check,-30} {where}\n");
            sb.Append($"       {f.Message}\n");
        }
        var counts = string.Join(", ", Enum.GetValues<Severity>().Reverse().Select(s => $"{findings.Count(f => f.Severity == s)} {s.ToWire()}"));
        sb.Append(findings.Count == 0 ? "no findings\n" : $"{findings.Count} finding{(findings.Count == 1 ? "" : "s")}: {counts}\n");
        return sb.ToString();
    }

    public static string Json(IReadOnlyList<Finding> findings) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("findings");
        foreach (var f in findings)
        {
            w.WriteStartObject();
            w.WriteString("check", f.Check);
            w.WriteString("severity", f.Severity.ToWire());
            WriteNullable(w, "securityGroupId", f.SecurityGroupId?.Value);
            WriteNullable(w, "securityGroupRuleId", f.SecurityGroupRuleId?.Value);
            WriteNullable(w, "instanceId", f.InstanceId?.Value);
            WriteNullable(w, "prefixListId", f.PrefixListId?.Value);
            w.WriteString("message", f.Message);
            w.WritePropertyName("evidence");
            WriteEvidence(w, f.Evidence);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string Sarif(IReadOnlyList<Finding> findings) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
        w.WriteString("version", "2.1.0");
        w.WriteStartArray("runs");
        w.WriteStartObject();
        w.WriteStartObject("tool");
        w.WriteStartObject("driver");
        w.WriteString("name", "palisade");
        w.WriteString("informationUri", "https://github.com/palisade/palisade/blob/main/docs/compat.md");
        w.WriteStartArray("rules");
        foreach (var check in AuditChecks.All)
        {
            w.WriteStartObject();
            w.WriteString("id", check.Id);
            w.WriteStartObject("shortDescription");
            w.WriteString("text", check.Title);
            w.WriteEndObject();
            w.WriteStartObject("help");
            w.WriteString("text", check.Help);
            w.WriteEndObject();
            w.WriteStartObject("defaultConfiguration");
            w.WriteString("level", Level(check.Severity));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartArray("results");
        foreach (var f in findings)
        {
            w.WriteStartObject();
            w.WriteString("ruleId", f.Check);
            w.WriteString("level", Level(f.Severity));
            w.WriteStartObject("message");
            w.WriteString("text", f.Message);
            w.WriteEndObject();
            w.WriteStartArray("locations");
            w.WriteStartObject();
            w.WriteStartArray("logicalLocations");
            foreach (var name in new[] { f.SecurityGroupId is { } g ? f.SecurityGroupRuleId is { } r ? $"{g}/{r}" : g.Value : null, f.InstanceId?.Value, f.PrefixListId?.Value }.Where(n => n is not null))
            {
                w.WriteStartObject();
                w.WriteString("fullyQualifiedName", name);
                w.WriteString("kind", "resource");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("properties");
            w.WriteString("severity", f.Severity.ToWire());
            w.WritePropertyName("evidence");
            WriteEvidence(w, f.Evidence);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static string Level(Severity s) => s switch { Severity.High => "error", Severity.Medium => "warning", _ => "note" };

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
            w.WriteNull(name);
        else
            w.WriteString(name, value);
    }

    /// <summary>The check's evidence with the CLI's camelCase keys (the ECS answer's names, first letter lowered).</summary>
    private static void WriteEvidence(Utf8JsonWriter w, Evidence evidence)
    {
        w.WriteStartObject();
        foreach (var (name, value) in evidence.Fields)
        {
            w.WritePropertyName(JsonNamingPolicy.CamelCase.ConvertName(name));
            switch (value)
            {
                case null: w.WriteNullValue(); break;
                case bool b: w.WriteBooleanValue(b); break;
                case long l: w.WriteNumberValue(l); break;
                case IReadOnlyList<string> items:
                    w.WriteStartArray();
                    foreach (var item in items)
                        w.WriteStringValue(item);
                    w.WriteEndArray();
                    break;
                default: w.WriteStringValue(value.ToString()); break;
            }
        }
        w.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            body(w);
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
