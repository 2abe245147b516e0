namespace Palisade.Domain.Errors;

/// <summary>
/// One ECS error as the wire carries it: the code from <see cref="EcsErrorCodes"/>, the HTTP
/// status ECS answers it with, and a message that names the culprit.
/// </summary>
public sealed record EcsError(string Code, int HttpStatus, string Message)
{
    public override string ToString() => $"{Code} ({HttpStatus}): {Message}";
}
