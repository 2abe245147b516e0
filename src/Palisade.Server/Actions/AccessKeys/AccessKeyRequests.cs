namespace Palisade.Server.Actions.AccessKeys;

/// <summary>
/// What the RAM-style key actions share. A key manages the keys of its own account only: Palisade
/// has no RAM users, so <c>UserName</c> names nobody, and another account's key ID is not found
/// (never "forbidden", which would say that it exists).
/// </summary>
internal static class AccessKeyRequests
{
    /// <summary>Each key action's first check: <c>UserName</c> names nobody, since Palisade has no RAM users.</summary>
    public static void RefuseUserName(ActionContext c)
    {
        if (c.Parameters.Optional("UserName") is { } name)
            throw new EcsException(EcsErrors.UserNotFound(name));
    }

    /// <summary>The caller's own key named by <c>UserAccessKeyId</c>, inside the transaction that changes it.</summary>
    public static AccessKeyRecord OwnKey(ActionContext c, IStoreSession s, string id) =>
        s.FindAccessKey(id) is { } key && key.AccountId == c.AccountId ? key : throw new EcsException(EcsErrors.AccessKeyNotInAccount(id));

    /// <summary>The key that signs the request cannot cut off the request's own caller.</summary>
    public static void RefuseSigningKey(ActionContext c, string id)
    {
        if (string.Equals(id, c.Caller.AccessKeyId, StringComparison.Ordinal))
            throw new EcsException(EcsErrors.AccessKeyInUse(id));
    }

    public static string Status(AccessKeyStatus status) => status == AccessKeyStatus.Active ? "Active" : "Inactive";

    /// <summary>A key as the answers show it; its secret only in CreateAccessKey's.</summary>
    public static EcsObject View(AccessKeyRecord key, string? secret = null)
    {
        var view = new EcsObject { { "AccessKeyId", key.AccessKeyId } };
        if (secret is not null)
            view.Add("AccessKeySecret", secret);
        view.Add("Status", Status(key.Status));
        view.Add("CreateDate", Time.Format(key.CreatedAt));
        view.Add("ReadOnly", key.ReadOnly);
        return view;
    }
}
