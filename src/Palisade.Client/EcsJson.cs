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
        !e.TryGetProperty(list, out var l) ? []
        // The newer ECS actions (port-range lists, their entries) answer a bare array where older ones wrap it.
        : l.ValueKind == JsonValueKind.Array ? l.EnumerateArray()
        : l.ValueKind == JsonValueKind.Object && l.TryGetProperty(item, out var items) && items.ValueKind == JsonValueKind.Array ? items.EnumerateArray() : [];

    /// <summary>
    /// A list action's every page as one answer: ECS pages with <c>MaxResults</c>/<c>NextToken</c>, the VPC
    /// API with <c>PageNumber</c>/<c>PageSize</c>. The first page's answer with the whole list in it and
    /// no paging fields, so that a table or a script never silently misses the second page.
    /// </summary>
    public static Task<JsonElement> CallAllAsync(this EcsClient client, string action, IEnumerable<KeyValuePair<string, string>> parameters, string list, string item,
        string version = ApiVersions.Ecs, CancellationToken cancel = default) =>
        AllPagesAsync(p => client.CallAsync(action, p, version, cancel), parameters, list, item, numbered: version == ApiVersions.Vpc, pageSize: version == ApiVersions.Vpc ? 50 : 100);

    /// <summary>
    /// Every page of a list through <paramref name="call"/>, whichever paging the service answers with:
    /// asked by token (<c>MaxResults</c>), a service that answers with <c>PageNumber</c> and a
    /// <c>TotalCount</c> beyond the first page instead (an older API version, another implementation)
    /// is followed page by page with the <c>PageSize</c> it chose. A token that comes back twice is an
    /// error rather than a loop.
    /// </summary>
    public static async Task<JsonElement> AllPagesAsync(Func<IEnumerable<KeyValuePair<string, string>>, Task<JsonElement>> call,
        IEnumerable<KeyValuePair<string, string>> parameters, string list, string item, bool numbered, int pageSize)
    {
        var fixedParameters = parameters.ToList();
        var all = new List<JsonElement>();
        JsonElement first = default;
        var token = "";
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        var size = pageSize.ToString(CultureInfo.InvariantCulture);
        for (var page = 1; page <= 100_000; page++)
        {
            KeyValuePair<string, string>[] paging = numbered
                ? [new("PageNumber", page.ToString(CultureInfo.InvariantCulture)), new("PageSize", size)]
                : token.Length > 0 ? [new("MaxResults", size), new("NextToken", token)] : [new("MaxResults", size)];
            var answer = await call(fixedParameters.Concat(paging));
            if (page == 1)
                first = answer;
            var items = answer.Items(list, item).ToList();
            all.AddRange(items);
            var total = answer.TryGetProperty("TotalCount", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : (int?)null;
            if (!numbered)
            {
                token = answer.Str("NextToken");
                if (token.Length > 0)
                {
                    if (!tokens.Add(token))
                        throw new InvalidOperationException($"{list}: the service answered the same NextToken twice");
                    continue;
                }
                // No token: the last page — unless the service pages by number and says there is more.
                if (page == 1 && answer.Str("PageNumber").Length > 0 && total > all.Count && items.Count > 0)
                {
                    numbered = true;
                    size = answer.Str("PageSize") is { Length: > 0 } chosen ? chosen : size;
                    continue;
                }
                break;
            }
            if (items.Count == 0 || all.Count >= (total ?? 0))
                break;
        }
        var merged = JsonNode.Parse(first.GetRawText())!.AsObject();
        var whole = new JsonArray([.. all.Select(e => JsonNode.Parse(e.GetRawText()))]);
        merged[list] = first.TryGetProperty(list, out var shape) && shape.ValueKind == JsonValueKind.Array ? whole : new JsonObject { [item] = whole };
        foreach (var field in new[] { "NextToken", "MaxResults", "PageNumber", "PageSize" })
            merged.Remove(field);
        if (merged.ContainsKey("TotalCount"))
            merged["TotalCount"] = all.Count;
        return JsonSerializer.SerializeToElement(merged);
    }
}
