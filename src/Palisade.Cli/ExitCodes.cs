namespace Palisade.Cli;

/// <summary>What the process tells a script. Kept few, stable and documented in every command's help.</summary>
public static class ExitCodes
{
    /// <summary>Success; for <c>eval</c>, the flow is allowed.</summary>
    public const int Ok = 0;

    /// <summary>For <c>eval</c>: the flow is denied. Not an error.</summary>
    public const int Denied = 1;

    /// <summary>For <c>audit</c>: there are findings. Not an error.</summary>
    public const int Findings = 1;

    /// <summary>Bad input: a malformed command line or state file. Nothing was done.</summary>
    public const int BadInput = 2;

    /// <summary>The server could not be reached, or failed (HTTP 5xx): nothing is known to have changed; try again.</summary>
    public const int Unavailable = 4;

    /// <summary>The user declined a confirmation: nothing was done.</summary>
    public const int Declined = 5;
}
