namespace Palisade.Server.Actions.Tags;

/// <summary>Adds tags; a key the resource has already takes the new value.</summary>
internal sealed class TagResources : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var targets = TagTargets.Targets(c, () => p.Objects("Tag", ParameterReader.TagFields, 1000).Count);
        var tags = p.Tags(max: 1000);
        if (tags.Count == 0)
            throw new EcsException(EcsErrors.TagsMissing());
        return TagTargets.ChangeEach(c, targets, (s, type, id) =>
        {
            var existing = s.ListTags(type, id);
            var added = tags.Count(t => existing.All(e => e.Key != t.Key));
            if (existing.Count + added > c.Limits.TagsPerResource)
                throw new EcsException(EcsErrors.TagQuota(c.Limits.TagsPerResource));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, type, id, tag);
        });
    }
}
