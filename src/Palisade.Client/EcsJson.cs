using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Palisade.Domain.Ecs;

namespace Palisade.Client;

/// <summary>Reading ECS answers: fields as text, lists by their ECS names, every page of a list.</summary>
public static class EcsJson
{
    /// <summary>A field as text: strings as they are, numbers and booleans as written, anything else or nothing as "".</summary>
    public static string Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => "",
        } : "";

    /// <summary>The items of an ECS list (<c>SecurityGroups.SecurityGroup[]</c>); none when the list is absent.</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement e, string list, string item) =>
        e.TryGetProperty(list, out var l) && l.TryGetProperty(item, out var items) && items.ValueKind == JsonValueKind.Array ? items.EnumerateArray() : [];

    /// <summary>
    /// A list action's every page as one answer: ECS pages with <c>MaxResults</c>/<c>NextToken</c>, the VPC
    /// API with <c>PageNumber</c>/<c>PageSize</c>. The first page's answer with the whole list in it and
    /// no paging fields, so that a table or a script never silently misses the second page.
    /// </summary>
    public static async Task<JsonElement> CallAllAsync(this EcsClient client, string action, IEnumerable<KeyValuePair<string, string>> parameters, string list, string item,
        string version = ApiVersions.Ecs, CancellationToken cancel = default)
    {
        var fixedParameters = parameters.ToList();
        var all = new List<JsonElement>();
        JsonElement first = default;
        var numbered = version == ApiVersions.Vpc;
        var token = "";
        for (var page = 1; page <= 100_000; page++)
        {
            KeyValuePair<string, string>[] paging = numbered
                ? [new("PageNumber", page.ToString(CultureInfo.InvariantCulture)), new("PageSize", "50")]
                : token.Length > 0 ? [new("MaxResults", "100"), new("NextToken", token)] : [new("MaxResults", "100")];
            var answer = await client.CallAsync(action, fixedParameters.Concat(paging), version, cancel);
            if (page == 1)
                first = answer;
            var items = answer.Items(list, item).ToList();
            all.AddRange(items);
            token = answer.Str("NextToken");
            var last = numbered
                ? items.Count == 0 || all.Count >= (answer.TryGetProperty("TotalCount", out var total) ? total.GetInt32() : 0)
                : token.Length == 0;
            if (last)
                break;
        }
        var merged = JsonNode.Parse(first.GetRawText())!.AsObject();
        merged[list] = new JsonObject { [item] = new JsonArray([.. all.Select(e => JsonNode.Parse(e.GetRawText()))]) };
        foreach (var field in new[] { "NextToken", "MaxResults", "PageNumber", "PageSize" })
            merged.Remove(field);
        if (merged.ContainsKey("TotalCount"))
            merged["TotalCount"] = all.Count;
        return JsonSerializer.SerializeToElement(merged);
    }
}
