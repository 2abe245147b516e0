using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Tags;

/// <summary>Removes the named keys, or every tag with <c>All=true</c> and no key.</summary>
public sealed class UntagResources : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var p = c.Parameters;
        var type = TagTargets.ResourceType(p);
        var ids = TagTargets.ResourceIds(p, required: true);
        var keys = p.List("TagKey", 1000);
        if (keys.Count > c.Limits.TagsPerResource)
            throw new EcsException(EcsErrors.TooManyTags(c.Limits.TagsPerResource));
        var all = p.Bool("All");
        return c.Write(s =>
        {
            foreach (var id in ids)
            {
                TagTargets.MustExist(s, c, type, id);
                if (keys.Count > 0)
                {
                    foreach (var key in keys)
                        s.RemoveTag(type, id, key);
                }
                else if (all)
                {
                    s.RemoveAllTags(type, id);
                }
            }
            return [];
        });
    }
}
