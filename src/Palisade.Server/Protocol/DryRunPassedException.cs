using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Protocol;

/// <summary>
/// The answer to a dry run that would succeed: ECS's <c>DryRunOperation</c> error, plus, as an
/// extension, the fields of <see cref="Extra"/> (the flows the change would open and close).
/// </summary>
public sealed class DryRunPassedException(EcsObject extra) : Exception(EcsErrors.DryRunPassed().Message)
{
    public EcsError Error { get; } = EcsErrors.DryRunPassed();

    public EcsObject Extra { get; } = extra;
}
