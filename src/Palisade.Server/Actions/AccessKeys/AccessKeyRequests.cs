using Palisade.Domain.Errors;
using Palisade.Storage;
using Palisade.Storage.Records;
using Palisade.Server.Responses;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Actions.AccessKeys;

/// <summary>
/// What the RAM-style key actions share. A key manages the keys of its own account only: Palisade
/// has no RAM users, so <c>UserName</c> names nobody, and another account's key ID is not found
/// (never "forbidden", which would say that it exists).
/// </summary>
internal static class AccessKeyRequests
{
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

/// <summary>
/// A RAM-style key action (2015-05-01): <c>UserName</c> is refused before anything else is read,
/// since Palisade has no RAM users.
/// </summary>
internal abstract class AccessKeyAction : EcsAction
{
    public sealed override string Version => ApiVersions.Ram;

    public sealed override EcsObject Execute(ActionContext c)
    {
        AccessKeyRequests.RefuseUserName(c);
        return Run(c);
    }

    protected abstract EcsObject Run(ActionContext c);
}
