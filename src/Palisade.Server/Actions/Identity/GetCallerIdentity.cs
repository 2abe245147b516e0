using System.Globalization;

namespace Palisade.Server.Actions.Identity;

/// <summary>
/// STS's GetCallerIdentity (2015-04-01): who the signing AccessKey is. What <c>aliyun configure</c>,
/// Terraform's provider, Steampipe and Prowler call first to learn the account they work in.
/// Palisade has no RAM users or roles: every key is its account's own, so the identity is the
/// account's (<c>IdentityType</c> <c>Account</c>, <c>Arn</c> <c>acs:ram::ID:root</c>, and
/// <c>UserId</c> and <c>PrincipalId</c> the account ID, as STS answers for an account's own key).
/// </summary>
internal sealed class GetCallerIdentity() : ReadAction(ApiVersions.Sts)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var id = c.AccountId.ToString(CultureInfo.InvariantCulture);
        return new EcsObject
        {
            { "IdentityType", "Account" },
            { "AccountId", id },
            { "UserId", id },
            { "PrincipalId", id },
            { "Arn", $"acs:ram::{id}:root" },
        };
    }
}
