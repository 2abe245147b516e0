using Palisade.Domain.Errors;

namespace Palisade.Domain.Hosts;

/// <summary>
/// The names an enforcement binding carries, checked at the edge: a host name as agents give it
/// (<c>--host</c>), and a Linux interface name (at most 15 bytes, IFNAMSIZ less the terminator;
/// no '/', ':' or blanks, which the kernel or nftables would refuse or misread).
/// </summary>
public static class HostNames
{
    public static string Host(string text) =>
        text.Length is >= 1 and <= 64 && char.IsAsciiLetterOrDigit(text[0]) && text.All(IsNameChar)
            ? text
            : throw new EcsException(EcsErrors.HostNameMalformed(text));

    public static string Interface(string text) =>
        text.Length is >= 1 and <= 15 && text.All(IsNameChar) && text is not "." and not ".."
            ? text
            : throw new EcsException(EcsErrors.InterfaceNameMalformed(text));

    /// <summary>The characters of both names (and, with '*', of an interface pattern).</summary>
    internal static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}
