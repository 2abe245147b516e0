namespace Palisade.Server.Actions.AccessKeys;

/// <summary>
/// RAM's DeleteAccessKey (2015-05-01): <c>UserAccessKeyId</c>, a key of the caller's account, is
/// deleted for good; its requests get <c>InvalidAccessKeyId.NotFound</c> on every node within the
/// authenticator's key cache lifetime (2 s). The signing key cannot delete itself.
/// </summary>
internal sealed class DeleteAccessKey() : WriteAction(ApiVersions.Ram)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        AccessKeyRequests.RefuseUserName(c);
        var id = p.Required("UserAccessKeyId");
        return c.Write(s =>
        {
            AccessKeyRequests.OwnKey(c, s, id);
            AccessKeyRequests.RefuseSigningKey(c, id);
            s.DeleteAccessKey(id);
            return new EcsObject();
        });
    }
}
