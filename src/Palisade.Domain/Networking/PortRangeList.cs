using System.Collections.Immutable;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>A named set of port ranges; a TCP/UDP rule naming it matches every range.</summary>
/// <param name="MaxEntries">How many entries it may hold (what a rule naming it counts against the rule quota); 0 when the source did not say.</param>
public sealed record PortRangeList(PortRangeListId Id, string Name, ImmutableArray<PortRange> Entries, int MaxEntries = 0);
