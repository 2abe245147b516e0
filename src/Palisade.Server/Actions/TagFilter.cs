namespace Palisade.Server.Actions;

/// <summary>
/// The <c>Tag.N.Key</c>/<c>Tag.N.Value</c> filter of the Describe actions: a resource passes when it
/// carries every key asked for, with the value asked for, or any value where none is given. Read
/// from the request before the store is opened, so a bad tag is refused before anything is read.
/// </summary>
internal sealed class TagFilter
{
    private readonly IReadOnlyList<Tag> _tags;

    private TagFilter(IReadOnlyList<Tag> tags) => _tags = tags;

    public static TagFilter Read(ParameterReader p) => new(p.Tags(keyRequired: false));

    /// <summary>Whether a resource of the caller's <paramref name="resourceType"/> (a <c>TaggedResourceTypes</c> value) passes, by its ID.</summary>
    public Func<string, bool> In(IStoreSession s, long accountId, string resourceType)
    {
        if (_tags.Count == 0)
            return _ => true;
        return In(s.ListTagsOfType(accountId, resourceType).ToLookup(t => t.ResourceId, t => t.Tag));
    }

    /// <summary>The same over the tags of every resource of the type, where the caller has read them already.</summary>
    public Func<string, bool> In(ILookup<string, Tag> tagsOf) =>
        id => _tags.All(t => tagsOf[id].Any(have => have.Key == t.Key && (t.Value.Length == 0 || have.Value == t.Value)));
}
