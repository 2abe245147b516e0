using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Networking;

namespace Palisade.Cli.Commands;

/// <summary>
/// The one confirmation policy of the CLI: every change that can cut or open flows (a revoke, a
/// leave, a change of inner access, a rule or group modification, the deletion of a group or an
/// instance) first shows, to a person at a terminal, what the server's dry run says it would stop
/// and open, and asks. <c>--yes</c> does not ask; scripts (stdin or stdout not a terminal) are
/// never asked, so a pipeline cannot hang on a question nobody sees.
/// </summary>
public static class Confirm
{
    /// <summary>Whether this run may ask: a person at a terminal, on the process's own console, without <c>--yes</c>.</summary>
    public static bool Interactive(RemoteContext c, bool yes) =>
        !yes && ReferenceEquals(c.Output, Console.Out) && !Console.IsInputRedirected && !Console.IsOutputRedirected;

    /// <summary>On a terminal: the dry run's what-if of <paramref name="action"/> and a question; true when the change may go ahead.</summary>
    public static async Task<bool> AskAsync(RemoteContext c, string action, IReadOnlyList<KeyValuePair<string, string?>> parameters, bool yes, string what)
    {
        if (!Interactive(c, yes))
            return true;
        JsonElement? impact = null;
        try
        {
            await c.CallAsync(action, [.. parameters, new("DryRun", "true")]);
        }
        catch (EcsApiException e) when (e.Code == "DryRunOperation")
        {
            using var body = JsonDocument.Parse(e.Response.Body);
            if (body.RootElement.TryGetProperty("Impact", out var found))
                impact = found.Clone();
        }
        c.Output.WriteLine($"{what}:");
        await WriteImpactAsync(c, impact);
        c.Output.Write("Go ahead? [y/N] ");
        c.Output.Flush();
        var answer = Console.ReadLine()?.Trim();
        return answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The flows a change would stop and open, with names beside the IDs.</summary>
    private static async Task WriteImpactAsync(RemoteContext c, JsonElement? impact)
    {
        if (impact is not { } i)
        {
            c.Output.WriteLine("  (the server gave no what-if for this change)");
            return;
        }
        if (!i.TryGetProperty("Computed", out var computed) || !computed.GetBoolean())
        {
            c.Output.WriteLine($"  the server could not compute which flows it would change ({i.Str("Reason")})");
            return;
        }
        // The server's impact is between IPv4 addresses: ICMPv6 means nothing there.
        var lost = i.Items("Lost", "Flow").Where(f => f.Str("IpProtocol") != "ICMPv6").ToList();
        var gained = i.Items("Gained", "Flow").Where(f => f.Str("IpProtocol") != "ICMPv6").ToList();
        if (lost.Count == 0 && gained.Count == 0)
        {
            c.Output.WriteLine("  no allowed flow would stop or start");
            return;
        }
        var names = (await c.Names.InstanceNamesAsync()).Concat(await c.Names.GroupNamesAsync()).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        foreach (var (flows, verb) in new[] { (lost, "stop"), (gained, "open") })
        {
            if (flows.Count == 0)
                continue;
            c.Output.WriteLine($"  it would {verb} {flows.Count} allowed flow{(flows.Count == 1 ? "" : "s")}:");
            // By name, so that a person finds an instance where they expect it.
            var rows = flows.Select(f => new[]
            {
                "  " + NameResolver.Label(f.Str("Source"), names), NameResolver.Label(f.Str("Target"), names), f.Str("IpProtocol"),
                string.Join(",", f.Items("PortRanges", "PortRange").Select(p => PortRange.ForPeopleOf(p.GetString()))),
            }).OrderBy(r => r[0], StringComparer.Ordinal).ThenBy(r => r[1], StringComparer.Ordinal).ToList();
            Remote.Table(c.Output, ["  FROM", "TO", "PROTOCOL", "PORTS"], rows);
        }
    }

    /// <summary>
    /// A change that may cut or open flows: on a terminal its what-if first and a question (unless
    /// <paramref name="yes"/>), then the call, then the ECS answer (<c>--output json</c>) or <paramref name="done"/>.
    /// <paramref name="what"/> says the change in words ("Delete web (sg-…)"); null: nothing to ask (a rename).
    /// </summary>
    public static async Task<int> CallAfterConfirmingAsync(RemoteContext c, string action, List<KeyValuePair<string, string?>> parameters, bool yes, string done, string? what)
    {
        if (what is not null && !await AskAsync(c, action, parameters, yes, what))
        {
            c.Output.WriteLine("nothing changed");
            return ExitCodes.Declined;
        }
        var answer = await c.CallAsync(action, parameters);
        if (c.Json)
            c.WriteJson(answer);
        else
            c.Output.WriteLine(done);
        return ExitCodes.Ok;
    }
}
