using System.Text.Json;
using Palisade.Client;

namespace Palisade.Cli.Commands;

/// <summary>
/// Before a change that can cut connections (a revoke, a leave), a person at a terminal sees what
/// the server's dry run says would be lost, and says yes. Scripts (no terminal) and <c>--yes</c>
/// are not asked.
/// </summary>
public static class Confirm
{
    public static async Task<bool> IfConnectionsWouldBeLost(RemoteContext c, string action, IReadOnlyList<KeyValuePair<string, string?>> parameters, bool yes)
    {
        var interactive = !yes && ReferenceEquals(c.Output, Console.Out) && !Console.IsInputRedirected && !Console.IsOutputRedirected;
        if (!interactive)
            return true;
        JsonElement impact;
        try
        {
            await c.CallAsync(action, [.. parameters, new("DryRun", "true")]);
            return true; // no dry-run answer to show: nothing to confirm
        }
        catch (EcsApiException e) when (e.Code == "DryRunOperation")
        {
            using var body = JsonDocument.Parse(e.Response.Body);
            if (!body.RootElement.TryGetProperty("Impact", out var found))
                return true;
            impact = found.Clone();
        }
        var lost = impact.Items("Lost", "Flow").ToList();
        if (!impact.TryGetProperty("Computed", out var computed) || !computed.GetBoolean())
        {
            c.Output.WriteLine($"The server could not compute what this change would cut ({impact.Str("Reason")}).");
        }
        else if (lost.Count == 0)
        {
            return true;
        }
        else
        {
            c.Output.WriteLine($"{action} would stop {lost.Count} allowed flow{(lost.Count == 1 ? "" : "s")}:");
            Remote.Table(c.Output, ["FROM", "TO", "PROTOCOL", "PORTS"],
                [.. lost.Select(f => new[] { f.Str("Source"), f.Str("Target"), f.Str("IpProtocol"), string.Join(",", f.Items("PortRanges", "PortRange").Select(p => p.GetString())) })]);
        }
        c.Output.Write("Go ahead? [y/N] ");
        var answer = Console.ReadLine();
        return answer is not null && answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase) || answer?.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase) == true;
    }

    /// <summary>
    /// A change that may cut connections: on a terminal its what-if first and a question (unless
    /// <paramref name="yes"/>), then the call, then the ECS answer (<c>--output json</c>) or <paramref name="done"/>.
    /// </summary>
    public static async Task<int> CallAfterConfirmingAsync(RemoteContext c, string action, List<KeyValuePair<string, string?>> parameters, bool yes, string done, bool ask = true)
    {
        if (ask && !await IfConnectionsWouldBeLost(c, action, parameters, yes))
            return ExitCodes.Declined;
        var answer = await c.CallAsync(action, parameters);
        if (c.Json)
            c.WriteJson(answer);
        else
            c.Output.WriteLine(done);
        return ExitCodes.Ok;
    }
}
