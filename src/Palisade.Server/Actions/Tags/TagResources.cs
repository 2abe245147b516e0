using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Tags;

/// <summary>Adds tags; a key the resource has already takes the new value.</summary>
public sealed class TagResources : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var p = c.Parameters;
        var type = TagTargets.ResourceType(p);
        var ids = TagTargets.ResourceIds(p, required: true);
        if (p.Objects("Tag", 1000).Count > c.Limits.TagsPerResource)
            throw new EcsException(EcsErrors.TooManyTags(c.Limits.TagsPerResource));
        var tags = p.Tags(max: 1000);
        if (tags.Count == 0)
            throw new EcsException(EcsErrors.TagsMissing());
        return c.Write(s =>
        {
            foreach (var id in ids)
            {
                TagTargets.MustExist(s, c, type, id);
                var existing = s.ListTags(type, id);
                var added = tags.Count(t => existing.All(e => e.Key != t.Key));
                if (existing.Count + added > c.Limits.TagsPerResource)
                    throw new EcsException(EcsErrors.TagQuota(c.Limits.TagsPerResource));
                foreach (var tag in tags)
                    s.SetTag(c.AccountId, type, id, tag);
            }
            return [];
        });
    }
}
