using System.Collections.Immutable;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>A named set of CIDR blocks of one address family; a rule naming it matches every block.</summary>
/// <param name="MaxEntries">How many entries it may hold (what a rule naming it counts against the rule quota); 0 when the source did not say.</param>
public sealed record PrefixList(PrefixListId Id, string Name, bool IsV6, ImmutableArray<Cidr> Entries, int MaxEntries = 0)
{
    /// <summary>
    /// Whether <paramref name="name"/> starts as the names Alibaba Cloud keeps for its own lists:
    /// CreatePrefixList and ModifyPrefixList refuse a name starting with <c>com.aliyun</c> or
    /// <c>com.alibabacloud</c> (alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyprefixlist).
    /// </summary>
    public static bool IsReservedName(string name) =>
        name.StartsWith("com.aliyun", StringComparison.OrdinalIgnoreCase) || name.StartsWith("com.alibabacloud", StringComparison.OrdinalIgnoreCase);
}
