using System.Text.Json;
using System.Text.Json.Nodes;

namespace Palisade.Agent.Following;

/// <summary>
/// The host's state from its NICs' parts (issue 17, the incremental fetch): the server narrows the
/// state to what one NIC's policy depends on, and a host's part is the union of its NICs' parts.
/// Each resource is listed once, at its first appearance; two parts that both hold a resource hold
/// it alike, since each part is the current one for its digest.
/// </summary>
public static class StateParts
{
    private static readonly (string List, string Id)[] Lists =
        [("SecurityGroups", "SecurityGroupId"), ("Instances", "InstanceId"), ("PrefixLists", "PrefixListId"), ("PortRangeLists", "PortRangeListId")];

    public static string Union(IEnumerable<string> parts, string regionId)
    {
        var seen = Lists.ToDictionary(l => l.List, _ => new HashSet<string>(StringComparer.Ordinal));
        var union = Lists.ToDictionary(l => l.List, _ => new JsonArray());
        foreach (var part in parts)
        {
            var node = JsonNode.Parse(part)?.AsObject() ?? throw new JsonException("a NIC's part is not a JSON object");
            foreach (var (list, id) in Lists)
            {
                if (node[list] is not JsonArray items)
                    continue;
                foreach (var item in items.ToList())
                {
                    var key = item?[id]?.GetValue<string>() ?? throw new JsonException($"an item of {list} has no {id}");
                    if (seen[list].Add(key))
                    {
                        items.Remove(item);
                        union[list].Add(item);
                    }
                }
            }
        }
        var root = new JsonObject { ["RegionId"] = regionId };
        foreach (var (list, _) in Lists)
        {
            // The lists are absent when empty, as in the whole answer (files made before them had none).
            if (union[list].Count > 0 || list is "SecurityGroups" or "Instances")
                root[list] = union[list];
        }
        return root.ToJsonString();
    }
}
