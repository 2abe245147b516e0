namespace Palisade.Analysis.Audit;

/// <summary>
/// What the agents' hit counters say, for the checks that judge rules by the traffic they decide
/// (issue 20): as of <see cref="AsOf"/>, since when every host carrying each group's NICs has counted
/// without a gap (<see cref="CountingSince"/>; a group missing from it is not fully watched), and
/// when each rule last decided a packet (<see cref="LastHit"/>; a rule missing from it had none in
/// the kept history). Not part of a state file: the control plane keeps it, <c>--usage</c> reads it offline.
/// </summary>
public sealed record RuleUsageFacts(
    DateTimeOffset AsOf,
    int UnusedDays,
    IReadOnlyDictionary<SecurityGroupId, DateTimeOffset> CountingSince,
    IReadOnlyDictionary<SecurityGroupRuleId, DateTimeOffset> LastHit);
