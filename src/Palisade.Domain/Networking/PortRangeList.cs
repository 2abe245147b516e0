using System.Collections.Immutable;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>A named set of port ranges; a TCP/UDP rule naming it matches every range.</summary>
public sealed record PortRangeList(PortRangeListId Id, string Name, ImmutableArray<PortRange> Entries);
