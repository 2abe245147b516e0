namespace Palisade.Server.Actions.AccessKeys;

/// <summary>
/// RAM's CreateAccessKey (2015-05-01), for the signing key's own account: a new Active key, its
/// secret shown in this answer and never again (it is stored encrypted; the answer is neither
/// cached nor kept for a <c>ClientToken</c>). Extension: <c>ReadOnly=true</c> makes a key that may
/// only call Describe* and List* actions.
/// </summary>
internal sealed class CreateAccessKey() : WriteAction(ApiVersions.Ram)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        AccessKeyRequests.RefuseUserName(c);
        // A replayed ClientToken answers from a stored copy of the first answer, which would keep the secret in clear.
        if (p.Has("ClientToken"))
            throw new EcsException(EcsErrors.ParameterInvalid("ClientToken", "CreateAccessKey takes none: its answer holds a secret, which is never stored."));
        var readOnly = p.Bool("ReadOnly");
        var (record, secret) = c.Accounts.NewAccessKey(c.AccountId, readOnly);
        return c.Write(s =>
        {
            // Checked in the write, so concurrent creations cannot pass the cap together.
            if (s.ListAccessKeys(c.AccountId).Count >= c.Limits.AccessKeysPerAccount)
                throw new EcsException(EcsErrors.AccessKeyQuota(c.Limits.AccessKeysPerAccount));
            s.InsertAccessKey(record);
            return new EcsObject
            {
                { "AccessKey", AccessKeyRequests.View(record, secret) },
            };
        });
    }
}
