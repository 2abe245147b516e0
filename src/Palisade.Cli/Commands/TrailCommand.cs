using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Palisade.Client;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade trail</c>: an account's action trail, read from the store like <c>export</c> (safe while the server runs).</summary>
public static class TrailCommand
{
    public static Command Build()
    {
        var account = new Option<string?>("--account") { Description = "The account, by name or ID, read from the data directory (--data, --store); without it the configured server is asked for the signing key's account.", HelpName = "NAME" };
        var connection = new ServerConnection();
        var action = new Option<string?>("--action") { Description = "Only this action (e.g. AuthorizeSecurityGroup).", HelpName = "NAME" };
        var since = new Option<string?>("--since") { Description = "Only events at or after this UTC time (yyyy-MM-ddTHH:mm:ssZ).", HelpName = "TIME" };
        var until = new Option<string?>("--until") { Description = "Only events at or before this UTC time (yyyy-MM-ddTHH:mm:ssZ).", HelpName = "TIME" };
        var limit = new Option<int>("--limit") { Description = "At most this many events, newest first.", HelpName = "N", DefaultValueFactory = _ => 50 };
        var json = new Option<bool>("--json") { Description = "One JSON array, in the shape of DescribeActionTrail's events." };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        limit.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--limit must be 1 or more."); });
        var command = new Command("trail", """
            Show an account's action trail, newest first: every mutating call made with one of its AccessKeys,
            with its time, key, action, result code, the revision it committed (or '-') and its parameters
            (never the signature or secrets). Refused calls are on it too. With --account it reads the data
            directory (safe while the server runs); without it it asks the server (--server, $PALISADE_SERVER or
            the profile; DescribeActionTrail) for the signing key's own account.

            Examples:
              palisade trail
              palisade trail --action RevokeSecurityGroup --since 2026-03-01T00:00:00Z
              palisade trail --account team-a
              palisade trail --account team-a --action AuthorizeSecurityGroup --since 2026-03-01T00:00:00Z --json
            """) { account, action, since, until, limit, json, data, store, ServeCommand.StoreFileOption() };
        foreach (var o in connection.Options)
            command.Options.Add(o);
        command.SetAction((parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var local = parse.GetValue(account) is not null || parse.GetResult(data) is { Implicit: false } || parse.GetResult(store) is { Implicit: false }
                || ServeCommand.StoreOf(parse, store) is not null || !connection.Configured(parse);
            if (!local)
                return Remote.Guard(parse, () => FromServerAsync(parse, connection, parse.GetValue(action), parse.GetValue(since), parse.GetValue(until), parse.GetValue(limit), parse.GetValue(json), cancel));
            try
            {
                var from = Time(parse.GetValue(since), "--since");
                var to = Time(parse.GetValue(until), "--until");
                var name = parse.GetValue(account) ?? throw new InvalidOperationException("say whose trail: --account NAME (on the data directory), or a server to ask (--server URL, $PALISADE_SERVER or 'palisade configure')");
                using var s = StoreFactory.Open(ServeCommand.StoreOf(parse, store), parse.GetValue(data)!);
                var events = s.Read(session =>
                {
                    var found = session.FindAccountByName(name)
                        ?? (long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? session.FindAccount(id) : null)
                        ?? throw new InvalidOperationException($"no account named or numbered '{name}'");
                    return session.ListTrail(new ActionTrailQuery(found.AccountId, from, to, parse.GetValue(action), null, parse.GetValue(limit)));
                });
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(json))
                    output.WriteLine(Json(events));
                else
                {
                    foreach (var e in events)
                        output.WriteLine(Line(e));
                }
                return Task.FromResult(ExitCodes.Ok);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(ExitCodes.BadInput);
            }
        });
        return command;
    }

    /// <summary>The signing key's account's trail from the server (DescribeActionTrail), page after page up to <paramref name="limit"/> events.</summary>
    private static async Task<int> FromServerAsync(ParseResult parse, ServerConnection connection, string? action, string? since, string? until, int limit, bool json, CancellationToken cancel)
    {
        var (client, _) = connection.Connect(parse);
        var c = new RemoteContext(client, parse, connection.RegionOf(parse), false, cancel);
        Time(since, "--since");
        Time(until, "--until");
        var events = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = await c.CallAsync("DescribeActionTrail", [new("ActionName", action), new("StartTime", since), new("EndTime", until),
                new("MaxResults", Math.Min(100, limit - events.Count).ToString(CultureInfo.InvariantCulture)), new("NextToken", token)]);
            events.AddRange(page.Items("Events", "Event").Select(e => e.Clone()));
            token = page.Str("NextToken") is { Length: > 0 } next ? next : null;
        }
        while (token is not null && events.Count < limit);
        var output = parse.InvocationConfiguration.Output;
        if (json)
            output.WriteLine(JsonSerializer.Serialize(events, new JsonSerializerOptions { WriteIndented = true }));
        else
            foreach (var e in events)
                output.WriteLine(string.Join("  ", e.Str("EventTime"), e.Str("ResultCode"), e.Str("Revision") is { Length: > 0 } r ? "r" + r : "-",
                    e.Str("ActionName"), Key(e.Str("AccessKeyId")), e.Str("RequestId"), e.Str("RequestParameters")));
        return ExitCodes.Ok;
    }

    private static DateTimeOffset? Time(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new FormatException($"{option} '{text}' is not a UTC time in the form yyyy-MM-ddTHH:mm:ssZ");

    /// <summary>time, result, revision, action, key, request ID, parameters: the fixed columns first, the long one last.</summary>
    private static string Line(ActionTrailRecord e) => string.Join("  ",
        Storage.Time.Format(e.Entry.EventTime), e.Entry.ResultCode, e.Revision is { } r ? "r" + r.ToString(CultureInfo.InvariantCulture) : "-",
        e.Entry.Action, Key(e.Entry.AccessKeyId), e.Entry.RequestId, e.Entry.Parameters);

    /// <summary>An event no key made is the operator's act on the store (a bind or unbind of the account's NIC, issue 18).</summary>
    private static string Key(string? accessKeyId) => string.IsNullOrEmpty(accessKeyId) ? "(operator)" : accessKeyId;

    private static string Json(IReadOnlyList<ActionTrailRecord> events)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var e in events)
            {
                w.WriteStartObject();
                w.WriteString("EventId", e.EventId.ToString(CultureInfo.InvariantCulture));
                w.WriteString("EventTime", Storage.Time.Format(e.Entry.EventTime));
                w.WriteString("AccessKeyId", e.Entry.AccessKeyId);
                w.WriteString("ActionName", e.Entry.Action);
                w.WriteString("ApiVersion", e.Entry.ApiVersion);
                w.WriteString("RequestId", e.Entry.RequestId);
                w.WriteString("RequestParameters", e.Entry.Parameters);
                w.WriteNumber("HttpStatus", e.Entry.HttpStatus);
                w.WriteString("ResultCode", e.Entry.ResultCode);
                w.WriteString("Revision", e.Revision is { } r ? r.ToString(CultureInfo.InvariantCulture) : "");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
