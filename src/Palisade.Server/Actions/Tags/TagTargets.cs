namespace Palisade.Server.Actions.Tags;

/// <summary>The resources the ECS tag actions reach, and their checks (ecs-api.md §3.12).</summary>
internal static class TagTargets
{
    public static string ResourceType(ParameterReader p)
    {
        var type = p.Optional("ResourceType") ?? throw new EcsException(EcsErrors.ResourceTypeMissing());
        return type.ToLowerInvariant() switch
        {
            TaggedResourceTypes.SecurityGroup => TaggedResourceTypes.SecurityGroup,
            TaggedResourceTypes.Instance => TaggedResourceTypes.Instance,
            TaggedResourceTypes.NetworkInterface => TaggedResourceTypes.NetworkInterface,
            _ => throw new EcsException(EcsErrors.ResourceTypeNotFound(type)),
        };
    }

    public static IReadOnlyList<string> ResourceIds(ParameterReader p, bool required)
    {
        var ids = p.List("ResourceId", 1000);
        if (ids.Count > 50)
            throw new EcsException(EcsErrors.TooManyResourceIds(50));
        if (required && ids.Count == 0)
            throw new EcsException(EcsErrors.ResourceIdsMissing());
        return [.. ids.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The resource must be the caller's; another account's looks exactly like a missing one.</summary>
    public static void MustExist(IStoreSession s, ActionContext c, string type, string id)
    {
        var exists = type switch
        {
            TaggedResourceTypes.SecurityGroup => Domain.Identifiers.SecurityGroupId.TryParse(id, out var g) && s.Groups.Find(c.AccountId, g) is not null,
            TaggedResourceTypes.Instance => Domain.Identifiers.InstanceId.TryParse(id, out var i) && s.Instances.Find(c.AccountId, i) is not null,
            TaggedResourceTypes.NetworkInterface => Domain.Identifiers.NetworkInterfaceId.TryParse(id, out var e) && s.NetworkInterfaces.Find(c.AccountId, e) is not null,
            _ => false,
        };
        if (!exists)
            throw new EcsException(EcsErrors.ResourceNotFound(id));
    }

    /// <summary>
    /// What TagResources and UntagResources read first: the region, the resource type and IDs, and at
    /// most as many tag keys named (<paramref name="keysNamed"/>, read after them) as a resource may hold.
    /// </summary>
    public static (string Type, IReadOnlyList<string> Ids) Targets(ActionContext c, Func<int> keysNamed)
    {
        c.Region();
        var type = ResourceType(c.Parameters);
        var ids = ResourceIds(c.Parameters, required: true);
        if (keysNamed() > c.Limits.TagsPerResource)
            throw new EcsException(EcsErrors.TooManyTags(c.Limits.TagsPerResource));
        return (type, ids);
    }

    /// <summary>In one transaction, each of the targets found, then changed.</summary>
    public static EcsObject ChangeEach(ActionContext c, (string Type, IReadOnlyList<string> Ids) targets, Action<IStoreSession, string, string> change) =>
        c.Write(s =>
        {
            foreach (var id in targets.Ids)
            {
                MustExist(s, c, targets.Type, id);
                change(s, targets.Type, id);
            }
            return [];
        });
}
