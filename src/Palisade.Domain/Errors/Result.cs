namespace Palisade.Domain.Errors;

/// <summary>
/// The outcome of parsing or validating at the edge: a value, or the one catalogued error that
/// explains why there is none. Validation stops at the first error, as ECS answers one code per call.
/// </summary>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, EcsError? error)
    {
        _value = value;
        Error = error;
    }

    public EcsError? Error { get; }

    public bool IsOk => Error is null;

    public T Value => Error is null ? _value! : throw new InvalidOperationException($"No value: {Error}");

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(EcsError error) => new(default, error);

    public bool TryGet(out T value, out EcsError error)
    {
        value = _value!;
        error = Error!;
        return Error is null;
    }
}
