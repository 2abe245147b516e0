namespace Palisade.Domain.Rules;

/// <summary>What a rule does with the traffic it matches. On the wire this is a rule's <c>Policy</c>.</summary>
public enum Verdict : byte
{
    Accept,
    Drop,
}

public static class Verdicts
{
    public static bool TryParse(string? text, out Verdict verdict)
    {
        verdict = default;
        switch (text?.ToLowerInvariant())
        {
            case "accept": verdict = Verdict.Accept; return true;
            case "drop": verdict = Verdict.Drop; return true;
            default: return false;
        }
    }

    /// <summary>The wire spelling of a rule's <c>Policy</c> in responses: <c>Accept</c> / <c>Drop</c>.</summary>
    public static string ToWire(this Verdict verdict) => verdict == Verdict.Drop ? "Drop" : "Accept";

    /// <summary>The lower-case spelling used in Palisade's own output (<c>accept</c> / <c>drop</c>).</summary>
    public static string ToLower(this Verdict verdict) => verdict == Verdict.Drop ? "drop" : "accept";
}
