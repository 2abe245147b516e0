namespace Palisade.Server.Protocol;

/// <summary>
/// Parameters that carry secrets (an instance's <c>Password</c>, a <c>SecurityToken</c>…): their
/// values never leave the request, not in logs, the action trail, or an error's echo of the string
/// to sign, where they show as <see cref="Mask"/>.
/// </summary>
internal static class SecretParameters
{
    public const string Mask = "******";

    public static bool IsSecret(string name) =>
        name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || name.Contains("securitytoken", StringComparison.OrdinalIgnoreCase) || name.Contains("bearertoken", StringComparison.OrdinalIgnoreCase)
        || name.Contains("privatekey", StringComparison.OrdinalIgnoreCase);

    public static IEnumerable<KeyValuePair<string, string>> Masked(IEnumerable<KeyValuePair<string, string>> parameters) =>
        parameters.Select(p => IsSecret(p.Key) ? new KeyValuePair<string, string>(p.Key, Mask) : p);
}
