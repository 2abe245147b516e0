using System.Collections.Immutable;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>A named set of CIDR blocks of one address family; a rule naming it matches every block.</summary>
public sealed record PrefixList(PrefixListId Id, string Name, bool IsV6, ImmutableArray<Cidr> Entries);
