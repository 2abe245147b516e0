using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Ecs;

namespace Palisade.Cli.Commands;

/// <summary>What a command talking to a server has at hand.</summary>
public sealed class RemoteContext(EcsClient client, ParseResult parse, string region, bool json, CancellationToken cancel)
{
    public EcsClient Client => client;

    public ParseResult Parse => parse;

    public string Region => region;

    /// <summary><c>--output json</c>: print the ECS answer, as the API gave it, instead of a table.</summary>
    public bool Json => json;

    public TextWriter Output => parse.InvocationConfiguration.Output;

    public TextWriter Error => parse.InvocationConfiguration.Error;

    public CancellationToken Cancel => cancel;

    private RemoteNames? _names;

    /// <summary>Names of the region's groups and instances: to read a name where an ID goes, and to show names beside IDs.</summary>
    public RemoteNames Names => _names ??= new RemoteNames(this);

    /// <summary>Calls an action of the region; parameters whose value is null are left out.</summary>
    public Task<JsonElement> CallAsync(string action, IEnumerable<KeyValuePair<string, string?>> parameters, string version = ApiVersions.Ecs) =>
        client.CallAsync(action, Present([new("RegionId", region), .. parameters]), version, cancel);

    /// <summary>Every page of a list action of the region as one answer (see <see cref="EcsJson.CallAllAsync"/>).</summary>
    public Task<JsonElement> CallAllAsync(string action, IReadOnlyList<KeyValuePair<string, string?>> parameters, string list, string item, string version = ApiVersions.Ecs) =>
        client.CallAllAsync(action, Present([new("RegionId", region), .. parameters]), list, item, version, cancel);

    private static IEnumerable<KeyValuePair<string, string>> Present(IEnumerable<KeyValuePair<string, string?>> parameters) =>
        parameters.Where(p => p.Value is not null).Select(p => new KeyValuePair<string, string>(p.Key, p.Value!));

    public void WriteJson(JsonElement answer) => Output.WriteLine(JsonSerializer.Serialize(answer, Indented));

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}

/// <summary>Commands that talk to a server: the connection options, <c>--output</c>, and one way to report errors.</summary>
public static class Remote
{
    public static Command Attach(Command command, Func<RemoteContext, Task<int>> work, bool output = true)
    {
        var connection = new ServerConnection();
        foreach (var o in connection.Options)
            command.Options.Add(o);
        var format = new Option<string>("--output", "-o") { Description = "table (for people) or json (the ECS answer, for scripts).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        if (output)
            command.Options.Add(format);
        command.SetAction((parse, cancel) => Guard(parse, () =>
        {
            var (client, _) = connection.Connect(parse);
            return work(new RemoteContext(client, parse, connection.RegionOf(parse), output && parse.GetValue(format) == "json", cancel));
        }));
        return command;
    }

    /// <summary>Runs a command's work and turns what can go wrong into one line on stderr and an exit code.</summary>
    public static async Task<int> Guard(ParseResult parse, Func<Task<int>> work)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return await work();
        }
        catch (EcsApiException e)
        {
            error.WriteLine($"error: {e.Code}: {e.EcsMessage} (RequestId {e.RequestId})");
            return e.Status >= 500 ? ExitCodes.Unavailable : ExitCodes.BadInput;
        }
        catch (Domain.Errors.EcsException e)
        {
            // An operator's command on the store is refused as the API would refuse it.
            error.WriteLine($"error: {e.Error.Code}: {e.Error.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            error.WriteLine($"error: the server did not answer: {ServerConnection.Describe(e)}");
            return ExitCodes.Unavailable;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or FormatException or Evaluation.UsageException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
    }

    /// <summary>Aligned columns for people; the last column is not padded.</summary>
    public static void Table(TextWriter output, string[] headers, IReadOnlyList<string[]> rows)
    {
        var widths = headers.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine(string.Join("  ", headers.Select((h, c) => h.PadRight(widths[c]))).TrimEnd());
        foreach (var r in rows)
            output.WriteLine(string.Join("  ", r.Select((v, c) => v.PadRight(widths[c]))).TrimEnd());
    }

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
