using System.Collections.Immutable;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Rules;

namespace Palisade.Engine.Policies;

/// <summary>Why a NIC accepted or dropped a packet.</summary>
public enum DecisionReason : byte
{
    /// <summary>A user rule matched and won.</summary>
    Rule,

    /// <summary>The members of a shared basic group reach each other (Accept), or are kept apart when nothing else matched (Drop).</summary>
    InnerAccess,

    /// <summary>No rule matched: inbound drop; outbound accept, or drop in an advanced group.</summary>
    Default,
}

/// <summary>
/// One NIC's decision for one direction of a flow, and why: the verdict, the reason, the rule or
/// group that decided, and every other matching rule that it beat (in precedence order).
/// </summary>
public readonly record struct Decision(
    Verdict Verdict,
    DecisionReason Reason,
    RuleRef? DecidingRule,
    SecurityGroupId? InnerAccessGroup,
    ImmutableArray<RuleRef> Beaten)
{
    public override string ToString() => Reason switch
    {
        DecisionReason.Rule => $"{Verdict.ToLower()} by rule {DecidingRule}",
        DecisionReason.InnerAccess => $"{Verdict.ToLower()} by inner access of {InnerAccessGroup}",
        _ => $"{Verdict.ToLower()} by default",
    };
}
