namespace Palisade.Server.Actions.Tags;

/// <summary>Removes the named keys, or every tag with <c>All=true</c> and no key.</summary>
internal sealed class UntagResources : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        IReadOnlyList<string> keys = [];
        var targets = TagTargets.Targets(c, () => (keys = p.List("TagKey", 1000)).Count);
        var all = p.Bool("All");
        return TagTargets.ChangeEach(c, targets, (s, type, id) =>
        {
            if (keys.Count > 0)
            {
                foreach (var key in keys)
                    s.RemoveTag(type, id, key);
            }
            else if (all)
            {
                s.RemoveAllTags(type, id);
            }
        });
    }
}
