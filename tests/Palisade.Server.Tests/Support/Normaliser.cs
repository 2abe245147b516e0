using System.Text.RegularExpressions;

namespace Palisade.Server.Tests.Support;

/// <summary>Replaces what differs from run to run (request IDs, resource IDs, times) with stable names, in order of appearance.</summary>
public static partial class Normaliser
{
    public static string Normalise(string body)
    {
        var names = new Dictionary<string, string>();
        body = Guid().Replace(body, "<request-id>");
        body = Time().Replace(body, "<time>");
        body = Id().Replace(body, m => names.TryGetValue(m.Value, out var n) ? n : names[m.Value] = $"{m.Groups[1].Value}<{names.Count(k => k.Key.StartsWith(m.Groups[1].Value, StringComparison.Ordinal)) + 1}>");
        return body.EndsWith('\n') ? body : body + "\n";
    }

    [GeneratedRegex("[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")]
    private static partial Regex Guid();

    [GeneratedRegex(@"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z")]
    private static partial Regex Time();

    [GeneratedRegex(@"\b(sg-|sgr-|vpc-|vsw-|i-)bp[a-z0-9]{18}\b")]
    private static partial Regex Id();
}
