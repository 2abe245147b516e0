using System.Text.Json;
using System.Text.Json.Nodes;
using Palisade.Analysis;
using Palisade.Client;

namespace Palisade.Cli.Pull;

/// <summary>
/// Reads one region of an account into a state file through the standard ECS API alone — the
/// actions in <see cref="Actions"/>, nothing Palisade adds — so that it reads Alibaba Cloud itself as
/// well as a Palisade control plane. The file holds ECS's own answers: each group's
/// <c>DescribeSecurityGroups</c> item with its <c>DescribeSecurityGroupAttribute</c> fields and every
/// rule (both NIC types of a classic group, every page), and the <c>DescribeInstances</c> items: the
/// shape <c>export</c> writes and <see cref="Domain.State.StateFileReader"/> reads.
/// </summary>
internal sealed class AccountReader(EcsRetry api, int pageSize, IProgress<WorkProgress>? progress = null)
{
    /// <summary>Every action a pull may call: read-only actions of the public ECS API (a read-only key is enough).</summary>
    public static readonly IReadOnlySet<string> Actions = new HashSet<string>(StringComparer.Ordinal)
    {
        "DescribeRegions", "DescribeSecurityGroups", "DescribeSecurityGroupAttribute", "DescribeInstances",
        "DescribeNetworkInterfaces", "DescribePrefixLists", "DescribePrefixListAttributes", "DescribePortRangeLists", "DescribePortRangeListEntries",
    };

    /// <summary>Fields of an answer that are about the request, not the resource.</summary>
    private static readonly HashSet<string> EnvelopeFields = new(StringComparer.Ordinal)
    {
        "RequestId", "RegionId", "NextToken", "MaxResults", "TotalCount", "PageNumber", "PageSize", "Permissions",
    };

    /// <summary>The regions the endpoint serves, by <c>DescribeRegions</c>, with the endpoint ECS names for each (may be empty).</summary>
    public async Task<IReadOnlyList<(string RegionId, string Endpoint)>> RegionsAsync(CancellationToken cancel)
    {
        var answer = await api.CallAsync("DescribeRegions", [], cancel: cancel);
        return [.. answer.Items("Regions", "Region").Select(r => (r.Str("RegionId"), r.Str("RegionEndpoint")))];
    }

    public async Task<JsonObject> ReadRegionAsync(string region, CancellationToken cancel)
    {
        KeyValuePair<string, string> inRegion = new("RegionId", region);
        progress?.Report(new WorkProgress($"{region} security groups", 0, 0));
        var listed = await api.CallAllAsync("DescribeSecurityGroups", [inRegion], "SecurityGroups", "SecurityGroup", pageSize: pageSize, cancel: cancel);
        var items = listed.Items("SecurityGroups", "SecurityGroup").ToList();

        var groups = new JsonArray();
        foreach (var item in items)
        {
            progress?.Report(new WorkProgress($"{region} rules", groups.Count, items.Count));
            groups.Add(await ReadGroupAsync(inRegion, item, cancel));
        }

        progress?.Report(new WorkProgress($"{region} instances", 0, 0));
        var instances = await api.CallAllAsync("DescribeInstances", [inRegion], "Instances", "Instance", pageSize: pageSize, cancel: cancel);
        var state = new JsonObject
        {
            ["RegionId"] = region,
            ["SecurityGroups"] = groups,
            ["Instances"] = new JsonArray([.. instances.Items("Instances", "Instance").Select(Node)]),
        };
        // The ENIs (primary and secondary, DescribeNetworkInterfaces items): a secondary ENI's own
        // addresses, groups and EIP decide its traffic.
        progress?.Report(new WorkProgress($"{region} network interfaces", 0, 0));
        var interfaces = await OptionalAsync("DescribeNetworkInterfaces", () => api.CallAllAsync("DescribeNetworkInterfaces", [inRegion], "NetworkInterfaceSets", "NetworkInterfaceSet", pageSize: pageSize, cancel: cancel));
        if (interfaces?.Items("NetworkInterfaceSets", "NetworkInterfaceSet").ToList() is { Count: > 0 } enis)
            state["NetworkInterfaces"] = new JsonArray([.. enis.Select(Node)]);
        progress?.Report(new WorkProgress($"{region} prefix lists", 0, 0));
        if (await ReadPrefixListsAsync(inRegion, cancel) is { Count: > 0 } prefixLists)
            state["PrefixLists"] = prefixLists;
        progress?.Report(new WorkProgress($"{region} port-range lists", 0, 0));
        if (await ReadPortRangeListsAsync(inRegion, cancel) is { Count: > 0 } portRangeLists)
            state["PortRangeLists"] = portRangeLists;
        return state;
    }

    /// <summary>Lists skipped because the service does not have them or the key may not read them; a rule naming one then says so when the file is read.</summary>
    public List<string> Skipped { get; } = [];

    /// <summary>Each prefix list as <c>DescribePrefixListAttributes</c> answers it (its entries included).</summary>
    private async Task<JsonArray> ReadPrefixListsAsync(KeyValuePair<string, string> inRegion, CancellationToken cancel)
    {
        var lists = new JsonArray();
        var listed = await OptionalAsync("DescribePrefixLists", () => api.CallAllAsync("DescribePrefixLists", [inRegion], "PrefixLists", "PrefixList", pageSize: pageSize, cancel: cancel));
        foreach (var item in listed?.Items("PrefixLists", "PrefixList") ?? [])
        {
            var attributes = (JsonObject)Node(await api.CallAsync("DescribePrefixListAttributes", [inRegion, new("PrefixListId", item.Str("PrefixListId"))], cancel: cancel))!;
            attributes.Remove("RequestId");
            lists.Add(attributes);
        }
        return lists;
    }

    /// <summary>Each port-range list as <c>DescribePortRangeLists</c> lists it, with the <c>Entries</c> of <c>DescribePortRangeListEntries</c>.</summary>
    private async Task<JsonArray> ReadPortRangeListsAsync(KeyValuePair<string, string> inRegion, CancellationToken cancel)
    {
        var lists = new JsonArray();
        var listed = await OptionalAsync("DescribePortRangeLists", () => api.CallAllAsync("DescribePortRangeLists", [inRegion], "PortRangeLists", "PortRangeList", pageSize: pageSize, cancel: cancel));
        foreach (var item in listed?.Items("PortRangeLists", "PortRangeList") ?? [])
        {
            var list = (JsonObject)Node(item)!;
            var entries = await api.CallAsync("DescribePortRangeListEntries", [inRegion, new("PortRangeListId", item.Str("PortRangeListId"))], cancel: cancel);
            list["Entries"] = new JsonArray([.. entries.Items("Entries", "Entry").Select(Node)]);
            lists.Add(list);
        }
        return lists;
    }

    /// <summary>A list the service does not offer (an older endpoint) or the key may not read: left out, and said.</summary>
    private async Task<JsonElement?> OptionalAsync(string action, Func<Task<JsonElement>> call)
    {
        try
        {
            return await call();
        }
        catch (EcsApiException e) when (e.Code.StartsWith("InvalidAction", StringComparison.Ordinal) || e.Code.StartsWith("Forbidden", StringComparison.Ordinal) || e.Code == "InvalidApi.NotFound")
        {
            Skipped.Add($"{action}: {e.Code}");
            return null;
        }
    }

    private async Task<JsonObject> ReadGroupAsync(KeyValuePair<string, string> inRegion, JsonElement item, CancellationToken cancel)
    {
        var group = (JsonObject)Node(item)!;
        var id = item.Str("SecurityGroupId");
        var permissions = new JsonArray();
        // A classic group's rules are per NIC type and ECS shows one type per call (internet when none
        // is named); a VPC group has intranet rules only and takes no NicType.
        string?[] nicTypes = item.Str("VpcId").Length == 0 ? ["internet", "intranet"] : [null];
        foreach (var nicType in nicTypes)
        {
            List<KeyValuePair<string, string>> parameters = [inRegion, new("SecurityGroupId", id)];
            if (nicType is not null)
                parameters.Add(new("NicType", nicType));
            // DescribeSecurityGroupAttribute takes MaxResults from 10 to 1000.
            var attribute = await api.CallAllAsync("DescribeSecurityGroupAttribute", parameters, "Permissions", "Permission", pageSize: Math.Clamp(pageSize, 10, 1000), cancel: cancel);
            foreach (var field in attribute.EnumerateObject().Where(f => !EnvelopeFields.Contains(f.Name)))
                group[field.Name] = Node(field.Value);
            foreach (var permission in attribute.Items("Permissions", "Permission"))
                permissions.Add(Node(permission));
        }
        group["Permissions"] = new JsonObject { ["Permission"] = permissions };
        return group;
    }

    private static JsonNode? Node(JsonElement e) => JsonNode.Parse(e.GetRawText());
}
