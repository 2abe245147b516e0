using Palisade.Domain.Quotas;

namespace Palisade.Server.Actions.SecurityGroups;

/// <summary>Validation of group names and descriptions, and the DescribeSecurityGroups item.</summary>
internal static class GroupViews
{
    /// <summary><c>SecurityGroupName</c>: an ECS name; null when absent.</summary>
    public static string? Name(ParameterReader p) => p.Text("SecurityGroupName", Texts.IsEcsName, EcsErrors.GroupNameMalformed);

    /// <summary><c>Description</c>: an ECS description; null when absent.</summary>
    public static string? Description(ParameterReader p) => p.Text("Description", Texts.IsEcsDescription, EcsErrors.GroupDescriptionMalformed);

    public static EcsObject Item(IStoreSession s, GroupRecord g, Limits limits)
    {
        var rules = s.ListRules(g.Id);
        var members = s.CountMembers(g.Id);
        return new EcsObject
        {
            { "SecurityGroupId", g.Id.Value },
            { "SecurityGroupName", g.Name },
            { "Description", g.Description },
            { "VpcId", g.VpcId?.Value ?? "" },
            { "SecurityGroupType", g.Type.ToWire() },
            { "CreationTime", Time.Format(g.CreatedAt) },
            { "ResourceGroupId", g.ResourceGroupId },
            { "ServiceManaged", false },
            { "RuleCount", rules.Count },
            { "GroupToGroupRuleCount", rules.Count(r => r.Peer is Domain.Rules.RulePeer.Group) },
            { "EcsCount", members },
            { "AvailableInstanceAmount", Math.Max(0, limits.GroupCapacity(g.Type, g.IsClassic).Capacity - members) },
            { "Tags", Views.Tags(s.ListTags(TaggedResourceTypes.SecurityGroup, g.Id.Value)) },
        };
    }
}
