using System.Collections.Immutable;
using Palisade.Domain.Errors;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Hosts;

/// <summary>
/// What a host may carry (issue 18): the names of the host-side interfaces its NICs sit on, as
/// patterns in which '*' stands for any run of characters (<c>vnet*</c>, <c>tap-*-0</c>), and the
/// address space of those NICs (every private address of a NIC bound to the host lies in one of the
/// blocks). The operator declares it on the store; the control plane refuses a binding outside it,
/// and the agent, given the same declaration locally, refuses to enforce one (a root-owned host
/// never trusts the server blindly). A host that declares nothing carries nothing.
/// </summary>
public sealed record HostDeclaration(ImmutableArray<string> InterfacePatterns, ImmutableArray<Cidr> AddressSpace)
{
    public static readonly HostDeclaration Nothing = new([], []);

    /// <summary>The most a declaration lists (each a pattern or a block): enough for any host, bounded for the store.</summary>
    public const int MaxEntries = 64;

    /// <summary>Parses patterns and blocks given as lists separated by commas or blanks; a clear error for anything else.</summary>
    public static HostDeclaration Parse(string interfacePatterns, string addressSpace)
    {
        var patterns = Split(interfacePatterns);
        var blocks = Split(addressSpace);
        if (patterns.Length > MaxEntries || blocks.Length > MaxEntries)
            throw new EcsException(EcsErrors.HostDeclarationInvalid($"at most {MaxEntries} interface patterns and {MaxEntries} address blocks."));
        foreach (var p in patterns)
        {
            if (p.Length is 0 or > 15 || !p.All(c => c == '*' || HostNames.IsNameChar(c)))
                throw new EcsException(EcsErrors.HostDeclarationInvalid($"'{p}' is not an interface name pattern: 1 to 15 letters, digits, '.', '_', '-' and '*'."));
        }
        var cidrs = ImmutableArray.CreateBuilder<Cidr>();
        foreach (var b in blocks)
        {
            if (!b.Contains('/') || !Cidr.TryParse(b, out var cidr))
                throw new EcsException(EcsErrors.HostDeclarationInvalid($"'{b}' is not a CIDR block (such as 198.18.0.0/15 or 2001:db8::/32)."));
            if (cidr.ToString() != b)
                throw new EcsException(EcsErrors.HostDeclarationInvalid($"'{b}' has host bits set; the block is {cidr}."));
            cidrs.Add(cidr);
        }
        return new HostDeclaration([.. patterns.Distinct(StringComparer.Ordinal)], [.. cidrs.Distinct()]);
    }

    /// <summary>Whether an interface of this name may carry a NIC here.</summary>
    public bool Admits(string interfaceName) => InterfacePatterns.Any(p => Matches(p, interfaceName));

    /// <summary>Whether a NIC with this private address may sit on this host.</summary>
    public bool Carries(IpAddress address) => AddressSpace.Any(b => b.Contains(address));

    /// <summary>Why a NIC with <paramref name="addresses"/> on <paramref name="interfaceName"/> may not be carried here; null when it may.</summary>
    public string? Refusal(string interfaceName, IEnumerable<IpAddress> addresses)
    {
        if (!Admits(interfaceName))
            return $"interface '{interfaceName}' matches none of the host's interface patterns ({Patterns})";
        foreach (var address in addresses)
        {
            if (!Carries(address))
                return $"address {address} is outside the host's address space ({Space})";
        }
        return null;
    }

    /// <summary>The patterns as stored and shown: separated by one space ("(none)" when there is none).</summary>
    public string Patterns => InterfacePatterns.IsEmpty ? "(none)" : string.Join(' ', InterfacePatterns);

    /// <summary>The blocks as stored and shown: separated by one space ("(none)" when there is none).</summary>
    public string Space => AddressSpace.IsEmpty ? "(none)" : string.Join(' ', AddressSpace);

    private static string[] Split(string text) =>
        text.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A glob with '*' only, matched over the whole name (iteratively: no backtracking blow-up on 15 characters).</summary>
    internal static bool Matches(string pattern, string name)
    {
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && pattern[p] == name[n])
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}
