namespace Palisade.Server.Actions.AccessKeys;

/// <summary>
/// RAM's ListAccessKeys (2015-05-01): the keys of the signing key's account (by CreateDate, then ID), without
/// their secrets. Extension: <c>ReadOnly</c> on each. Read-only keys may call it.
/// </summary>
internal sealed class ListAccessKeys() : ReadAction(ApiVersions.Ram)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        AccessKeyRequests.RefuseUserName(c);
        var keys = c.Read(s => s.ListAccessKeys(c.AccountId));
        return new EcsObject
        {
            { "AccessKeys", EcsList.Of("AccessKey", keys.OrderBy(k => k.CreatedAt).ThenBy(k => k.AccessKeyId, StringComparer.Ordinal).Select(k => AccessKeyRequests.View(k))) },
        };
    }
}
