using Palisade.Domain.Rules;
using Palisade.Engine.Policies;

namespace Palisade.Engine.Flows;

/// <summary>
/// A flow between two endpoints: the source NIC's egress decision (absent when the source is not
/// an instance we know) and the destination NIC's ingress decision (absent when the destination is
/// not one). The flow is allowed only when every decision present accepts.
/// </summary>
public sealed record PathDecision(Flow Flow, Decision? Egress, Decision? Ingress)
{
    public bool Allowed =>
        Egress is not { Verdict: Verdict.Drop } && Ingress is not { Verdict: Verdict.Drop };
}
