namespace Palisade.Domain.Identifiers;

/// <summary>
/// The shape every ECS resource ID shares: a fixed prefix (<c>sg-</c>, <c>i-</c>, …) followed by
/// letters, digits and underscores, at most 100 characters in all
/// (ecs-api.md §2.1: "only letters, numbers and underscores, max 100 characters").
/// </summary>
public static class ResourceIdSyntax
{
    public const int MaxLength = 100;

    public static bool IsValid(string prefix, string? candidate)
    {
        if (candidate is null || candidate.Length <= prefix.Length || candidate.Length > MaxLength)
            return false;
        if (!candidate.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        foreach (var c in candidate.AsSpan(prefix.Length))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
                return false;
        }
        return true;
    }

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// A new ID: the prefix, a two-letter region code, then 18 lower-case alphanumerics from the
    /// cryptographic generator, as ECS makes them: unguessable, so that no tenant can predict or
    /// enumerate another's IDs.
    /// </summary>
    public static string NewId(string prefix, string regionCode) =>
        string.Concat(prefix, regionCode, System.Security.Cryptography.RandomNumberGenerator.GetString(Alphabet, 18));

    /// <summary>As <see cref="NewId(string, string)"/> from a seeded generator: for tests and generated states only.</summary>
    public static string NewId(string prefix, string regionCode, Random random)
    {
        Span<char> tail = stackalloc char[18];
        for (var i = 0; i < tail.Length; i++)
            tail[i] = Alphabet[random.Next(Alphabet.Length)];
        return string.Concat(prefix, regionCode, tail);
    }
}
