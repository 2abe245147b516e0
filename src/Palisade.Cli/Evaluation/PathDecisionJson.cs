using System.Text;
using System.Text.Json;
using Palisade.Domain.Rules;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;

namespace Palisade.Cli.Evaluation;

/// <summary>
/// The machine-readable decision of <c>palisade eval --json</c>, in exactly the shape the issue
/// fixes: <c>{"allowed", "egress": null | {verdict, reason, decidedBy, beaten}, "ingress": …}</c>.
/// An inner-access decision names its group in <c>decidedBy</c> with a null rule ID and priority.
/// </summary>
public static class PathDecisionJson
{
    public static string Render(PathDecision path)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("allowed", path.Allowed);
            WriteDecision(w, "egress", path.Egress);
            WriteDecision(w, "ingress", path.Ingress);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteDecision(Utf8JsonWriter w, string name, Decision? decision)
    {
        if (decision is not { } d)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartObject(name);
        w.WriteString("verdict", d.Verdict.ToLower());
        w.WriteString("reason", d.Reason switch
        {
            DecisionReason.Rule => "rule",
            DecisionReason.InnerAccess => "inner-access",
            _ => "default",
        });
        w.WritePropertyName("decidedBy");
        if (d.DecidingRule is { } rule)
            WriteRule(w, rule);
        else if (d.InnerAccessGroup is { } group)
        {
            w.WriteStartObject();
            w.WriteString("securityGroupId", group.Value);
            w.WriteNull("securityGroupRuleId");
            w.WriteNull("priority");
            w.WriteString("policy", d.Verdict.ToLower());
            w.WriteEndObject();
        }
        else
            w.WriteNullValue();
        w.WriteStartArray("beaten");
        foreach (var beaten in d.Beaten)
            WriteRule(w, beaten);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteRule(Utf8JsonWriter w, RuleRef rule)
    {
        w.WriteStartObject();
        w.WriteString("securityGroupId", rule.GroupId.Value);
        w.WriteString("securityGroupRuleId", rule.Rule.Id.Value);
        w.WriteNumber("priority", rule.Rule.Priority.Value);
        w.WriteString("policy", rule.Rule.Policy.ToLower());
        w.WriteEndObject();
    }
}
