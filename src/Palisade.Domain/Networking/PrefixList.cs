using System.Collections.Immutable;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>A named set of CIDR blocks of one address family; a rule naming it matches every block.</summary>
/// <param name="MaxEntries">How many entries it may hold (what a rule naming it counts against the rule quota); 0 when the source did not say.</param>
public sealed record PrefixList(PrefixListId Id, string Name, bool IsV6, ImmutableArray<Cidr> Entries, int MaxEntries = 0);
