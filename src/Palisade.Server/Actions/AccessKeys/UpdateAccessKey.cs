namespace Palisade.Server.Actions.AccessKeys;

/// <summary>
/// RAM's UpdateAccessKey (2015-05-01): <c>UserAccessKeyId</c>, a key of the caller's account, gets
/// <c>Status</c> Active or Inactive. A disabled key's requests get <c>InvalidAccessKeyId.Inactive</c>
/// on every node within the authenticator's key cache lifetime (2 s). The signing key cannot
/// disable itself (re-enabling it is a no-op).
/// </summary>
internal sealed class UpdateAccessKey() : WriteAction(ApiVersions.Ram)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        AccessKeyRequests.RefuseUserName(c);
        var id = p.Required("UserAccessKeyId");
        var statusText = p.Required("Status");
        AccessKeyStatus status = statusText.Equals("Active", StringComparison.OrdinalIgnoreCase) ? AccessKeyStatus.Active
            : statusText.Equals("Inactive", StringComparison.OrdinalIgnoreCase) ? AccessKeyStatus.Inactive
            : throw new EcsException(EcsErrors.ParameterInvalid("Status", $"'{(statusText.Length > 40 ? statusText[..40] + "…" : statusText)}' is not Active or Inactive."));
        return c.Write(s =>
        {
            AccessKeyRequests.OwnKey(c, s, id);
            if (status == AccessKeyStatus.Inactive)
                AccessKeyRequests.RefuseSigningKey(c, id);
            s.SetAccessKeyStatus(id, status);
            return new EcsObject();
        });
    }
}
