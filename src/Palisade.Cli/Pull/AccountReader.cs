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
        return new JsonObject
        {
            ["RegionId"] = region,
            ["SecurityGroups"] = groups,
            ["Instances"] = new JsonArray([.. instances.Items("Instances", "Instance").Select(Node)]),
        };
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
