using System.Text.Json;

namespace Palisade.Agent.Following;

/// <summary>
/// An account's state on a host from its NICs' parts (issue 17, the incremental fetch): the server narrows the
/// state to what one NIC's policy depends on, and an account's part is the union of its NICs' parts.
/// The agent holds each NIC's list of IDs and the resources they name; the state is every resource
/// some NIC's part names, once, in the order the parts name them.
/// </summary>
public static class StateParts
{
    public static readonly (string List, string Id)[] Lists =
        [("SecurityGroups", "SecurityGroupId"), ("Instances", "InstanceId"), ("NetworkInterfaces", "NetworkInterfaceId"), ("PrefixLists", "PrefixListId"), ("PortRangeLists", "PortRangeListId")];

    /// <summary>The resources of a state file by list and ID, each as its JSON.</summary>
    public static Dictionary<(string List, string Id), string> Resources(string state)
    {
        var resources = new Dictionary<(string List, string Id), string>();
        using var document = JsonDocument.Parse(state);
        foreach (var (list, id) in Lists)
        {
            if (!document.RootElement.TryGetProperty(list, out var items))
                continue;
            foreach (var item in items.EnumerateArray())
                resources[(list, item.GetProperty(id).GetString() ?? throw new JsonException($"an item of {list} has no {id}"))] = item.GetRawText();
        }
        return resources;
    }

    /// <summary>The state file of the union of the parts.</summary>
    public static string Assemble(IEnumerable<IReadOnlyDictionary<string, string[]>> parts, IReadOnlyDictionary<(string List, string Id), string> resources, string regionId)
    {
        var seen = new HashSet<(string, string)>();
        var union = Lists.ToDictionary(l => l.List, _ => new List<string>());
        foreach (var part in parts)
        {
            foreach (var (list, ids) in part)
            {
                foreach (var id in ids)
                {
                    if (seen.Add((list, id)))
                        union[list].Add(resources[(list, id)]);
                }
            }
        }
        // Each resource's JSON as it came (the server's rendering, already checked by the parser
        // that split it out), not parsed and written again.
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("RegionId", regionId);
            foreach (var (list, _) in Lists)
            {
                // The lists are absent when empty, as in the whole answer (files made before them had none).
                if (union[list].Count == 0 && list is not ("SecurityGroups" or "Instances"))
                    continue;
                writer.WriteStartArray(list);
                foreach (var item in union[list])
                    writer.WriteRawValue(item, skipInputValidation: true);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
