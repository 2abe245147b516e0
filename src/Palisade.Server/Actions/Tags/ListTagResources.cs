namespace Palisade.Server.Actions.Tags;

/// <summary>One row per resource and tag, for the named resources and/or the resources carrying every given tag.</summary>
internal sealed class ListTagResources : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var type = TagTargets.ResourceType(p);
        var ids = TagTargets.ResourceIds(p, required: false);
        var filters = p.Tags(keyRequired: false);
        if (ids.Count == 0 && filters.Count == 0)
            throw new EcsException(EcsErrors.ResourceIdsMissing());
        var paging = Paging.Read(new ParameterReader(p.All.Where(kv => kv.Key == "NextToken").ToDictionary()), 50, 50, 50);
        return c.Read(s =>
        {
            var byResource = s.ListTagsOfType(c.AccountId, type).ToLookup(t => t.ResourceId, t => t.Tag);
            var rows = byResource
                .Where(r => ids.Count == 0 || ids.Contains(r.Key))
                .Where(r => filters.All(f => r.Any(t => t.Key == f.Key && (f.Value.Length == 0 || t.Value == f.Value))))
                .SelectMany(r => r.Select(t => new EcsObject { { "ResourceId", r.Key }, { "ResourceType", type }, { "TagKey", t.Key }, { "TagValue", t.Value } }))
                .ToList();
            var page = paging.Take(rows);
            var scratch = new EcsObject();
            new Paging(true, paging.Offset, paging.Size, 0).Describe(scratch, rows);
            return new EcsObject
            {
                { "NextToken", scratch["NextToken"] },
                { "TagResources", EcsList.Of("TagResource", page) },
            };
        });
    }
}
