namespace Palisade.Domain.Errors;

/// <summary>
/// An <see cref="EcsError"/> thrown out of a write, so that the transaction around it rolls back and
/// the caller gets exactly that error. Only catalogue errors travel this way.
/// </summary>
public sealed class EcsException(EcsError error) : Exception(error.ToString())
{
    public EcsError Error { get; } = error;
}

public static class ResultExtensions
{
    /// <summary>The value, or the error thrown as an <see cref="EcsException"/>.</summary>
    public static T OrThrow<T>(this Result<T> result) =>
        result.TryGet(out var value, out var error) ? value : throw new EcsException(error);
}
