using Palisade.Analysis.Suggestions;

namespace Palisade.Analysis.Audit;

/// <summary>
/// What the agents' flow sampling says, for the checks that judge rules by what actually came
/// (issue 20): as of <see cref="AsOf"/>, over the last <see cref="Days"/>, since when every host
/// carrying each group's NICs has sampled without a gap (<see cref="SamplingSince"/>; a group missing
/// from it is not fully watched), and the flows observed to each group's members in that window.
/// Not part of a state file: the control plane keeps it.
/// </summary>
public sealed record FlowFacts(
    DateTimeOffset AsOf,
    int Days,
    IReadOnlyDictionary<SecurityGroupId, DateTimeOffset> SamplingSince,
    IReadOnlyDictionary<SecurityGroupId, IReadOnlyList<ObservedConnection>> Flows);
