using System.Text.RegularExpressions;

namespace Palisade.Server.Actions.ResourceGroups;

/// <summary>
/// <c>ResourceGroupId</c> on security groups and instances (issue 15). Palisade has no Resource
/// Manager: any well-formed ID (<c>rg-</c> and letters and digits) names a group, and <c>""</c> is the
/// account's default, as ECS answers for a resource in no named group.
/// </summary>
internal static partial class ResourceGroupIds
{
    /// <summary>The resource group a create request names, or "" when it names none.</summary>
    public static string Of(ParameterReader p) => p.Optional("ResourceGroupId") is { } text ? Parse(text) : "";

    public static string Parse(string text) => Syntax().IsMatch(text)
        ? text
        : throw new EcsException(EcsErrors.ParameterInvalid("ResourceGroupId", $"'{(text.Length > 64 ? text[..64] + "…" : text)}' is not a resource group ID (rg- and up to 61 letters and digits)."));

    /// <summary>The filters of DescribeSecurityGroups and DescribeInstances: <c>ResourceGroupId</c>, and <c>ServiceManaged</c> (no Palisade resource is managed by a cloud service).</summary>
    public static Func<string, bool> Filter(ParameterReader p)
    {
        var wanted = p.Optional("ResourceGroupId") is { } text ? Parse(text) : null;
        var serviceManaged = p.Has("ServiceManaged") ? p.Bool("ServiceManaged") : (bool?)null;
        return resourceGroup => (wanted is null || resourceGroup == wanted) && serviceManaged != true;
    }

    [GeneratedRegex("^rg-[A-Za-z0-9]{1,61}$")]
    private static partial Regex Syntax();
}

/// <summary>JoinResourceGroup (2014-05-26): moves a security group or an instance into a resource group.</summary>
internal sealed class JoinResourceGroup : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var resourceId = p.Required("ResourceId");
        var resourceGroupId = ResourceGroupIds.Parse(p.Required("ResourceGroupId"));
        var type = p.Required("ResourceType");
        if (type is not (TaggedResourceTypes.SecurityGroup or TaggedResourceTypes.Instance))
            throw new EcsException(EcsErrors.ResourceTypeNotFound(type));
        return c.Write(s =>
        {
            if (type == TaggedResourceTypes.SecurityGroup)
            {
                Lookups.GroupId(resourceId);
                var group = s.Group(c, resourceId);
                if (group.RegionId != region.RegionId)
                    throw new EcsException(EcsErrors.SecurityGroupNotFound(resourceId));
                if (group.ResourceGroupId != resourceGroupId)
                    s.UpdateGroup(group with { ResourceGroupId = resourceGroupId });
            }
            else
            {
                var instance = s.Instance(c, resourceId);
                if (instance.RegionId != region.RegionId)
                    throw new EcsException(EcsErrors.InstanceNotFound(resourceId));
                if (instance.ResourceGroupId != resourceGroupId)
                    s.SetInstanceResourceGroup(instance.Id, resourceGroupId);
            }
            return [];
        });
    }
}
