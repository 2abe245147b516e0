namespace Palisade.Cli.Evaluation;

/// <summary>A command line that cannot be acted on; its message says why.</summary>
public sealed class UsageException(string message) : Exception(message);
