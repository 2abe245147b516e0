using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade trail</c>: an account's action trail, read from the store like <c>export</c> (safe while the server runs).</summary>
public static class TrailCommand
{
    public static Command Build()
    {
        var account = new Option<string>("--account") { Description = "The account, by name or ID.", Required = true };
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
            (never the signature or secrets). Refused calls are on it too.

            Examples:
              palisade trail --account team-a
              palisade trail --account team-a --action AuthorizeSecurityGroup --since 2026-03-01T00:00:00Z --json
            """) { account, action, since, until, limit, json, data, store, ServeCommand.StoreFileOption() };
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var from = Time(parse.GetValue(since), "--since");
                var to = Time(parse.GetValue(until), "--until");
                using var s = StoreFactory.Open(ServeCommand.StoreOf(parse, store), parse.GetValue(data)!);
                var name = parse.GetValue(account)!;
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
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }

    private static DateTimeOffset? Time(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new FormatException($"{option} '{text}' is not a UTC time in the form yyyy-MM-ddTHH:mm:ssZ");

    /// <summary>time, result, revision, action, key, request ID, parameters: the fixed columns first, the long one last.</summary>
    private static string Line(ActionTrailRecord e) => string.Join("  ",
        Storage.Time.Format(e.Entry.EventTime), e.Entry.ResultCode, e.Revision is { } r ? "r" + r.ToString(CultureInfo.InvariantCulture) : "-",
        e.Entry.Action, e.Entry.AccessKeyId, e.Entry.RequestId, e.Entry.Parameters);

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
