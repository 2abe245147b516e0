namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class DescribeSecurityGroupAttribute : ReadAction
{
    private const string UnsetByTerraform = "<nil>";

    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var id = c.GroupIdParameter();
        var direction = p.Optional("Direction") ?? "all";
        if (direction is not ("all" or "ingress" or "egress"))
            throw new EcsException(EcsErrors.ParameterInvalid("Direction", $"'{direction}' is not ingress, egress or all."));
        NicType? nicType = null;
        // terraform-provider-alicloud reads a rule back with the NicType of its resource ID, which is the
        // text "<nil>" when nic_type was not set (fmt's %v of a nil): as ECS answers it, that is no NicType.
        if (p.Optional("NicType") is { } nicText && nicText != UnsetByTerraform)
            nicType = NicTypes.TryParse(nicText, out var n) ? n : throw new EcsException(EcsErrors.NicTypeNotSupported(nicText));
        if (p.Optional("Attribute") is { } attribute && attribute != "snapshotPolicyIds")
            throw new EcsException(EcsErrors.AttributeNotSupported(attribute));
        var tokenMode = p.Has("MaxResults") || p.Has("NextToken");
        var paging = tokenMode ? Paging.Read(p, 500, 1000, 1000) : null;
        if (paging is not null && p.Has("MaxResults"))
            p.Int("MaxResults", 500, 10, 1000);
        return c.ReadGroup(id, (s, group) =>
        {
            // A classic group shows one NIC type per call, internet unless asked (ecs-api.md §3.4).
            var shownNic = group.IsClassic ? nicType ?? NicType.Internet : (NicType?)null;
            var rules = s.ListRules(group.Id)
                .Where(r => direction == "all" || r.Direction.ToWire() == direction)
                .Where(r => shownNic is null || r.NicType == shownNic)
                .ToList();
            var names = new Dictionary<Domain.Identifiers.SecurityGroupId, string>();
            string NameOf(Domain.Identifiers.SecurityGroupId id)
            {
                if (!names.TryGetValue(id, out var name))
                    names[id] = name = s.Groups.Find(c.AccountId, id)?.Name ?? "";
                return name;
            }
            var listNames = new Dictionary<string, string>(StringComparer.Ordinal);
            string ListNameOf(string id)
            {
                if (!listNames.TryGetValue(id, out var name))
                {
                    name = Domain.Identifiers.PrefixListId.TryParse(id, out var pl) ? s.PrefixLists.Find(c.AccountId, pl)?.Name
                        : Domain.Identifiers.PortRangeListId.TryParse(id, out var prl) ? s.PortRangeLists.Find(c.AccountId, prl)?.Name
                        : null;
                    listNames[id] = name ??= "";
                }
                return name;
            }
            var response = new EcsObject
            {
                { "RegionId", group.RegionId },
                { "SecurityGroupId", group.Id.Value },
                { "SecurityGroupName", group.Name },
                { "Description", group.Description },
                { "VpcId", group.VpcId?.Value ?? "" },
                { "InnerAccessPolicy", group.InnerAccessPolicy.ToWire() },
            };
            var shown = paging is null ? rules : paging.Take(rules);
            if (paging is not null)
            {
                var page = new EcsObject();
                paging.Describe(page, rules);
                response.Add("NextToken", page["NextToken"]);
            }
            response.Add("Permissions", EcsList.Of("Permission", shown.Select(r => Views.Permission(r, NameOf, ListNameOf))));
            return response;
        });
    }
}
