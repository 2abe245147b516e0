using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Palisade.Client;

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

    /// <summary>Calls an action of the region; parameters whose value is null are left out.</summary>
    public Task<JsonElement> CallAsync(string action, IEnumerable<KeyValuePair<string, string?>> parameters, string version = EcsClient.EcsVersion) =>
        client.CallAsync(action,
            new[] { new KeyValuePair<string, string>("RegionId", region) }.Concat(parameters.Where(p => p.Value is not null).Select(p => new KeyValuePair<string, string>(p.Key, p.Value!))),
            version, cancel);

    /// <summary>
    /// A list action's every page as one answer: ECS pages with <c>MaxResults</c>/<c>NextToken</c>, the VPC
    /// API with <c>PageNumber</c>/<c>PageSize</c>. The first page's answer with the whole list in it and
    /// no <c>NextToken</c>, so that a table or a script never silently misses the second page.
    /// </summary>
    public async Task<JsonElement> CallAllAsync(string action, IReadOnlyList<KeyValuePair<string, string?>> parameters, string list, string item, string version = EcsClient.EcsVersion)
    {
        var all = new List<JsonElement>();
        JsonElement first = default;
        var vpcStyle = version == EcsClient.VpcVersion;
        var token = "";
        for (var page = 1; page <= 100_000; page++)
        {
            KeyValuePair<string, string?>[] paging = vpcStyle
                ? [new("PageNumber", Remote.Int(page)), new("PageSize", "50")]
                : [new("MaxResults", "100"), new("NextToken", token.Length > 0 ? token : null)];
            var answer = await CallAsync(action, parameters.Concat(paging), version);
            if (page == 1)
                first = answer;
            var items = answer.Items(list, item).ToList();
            all.AddRange(items);
            token = answer.Str("NextToken");
            var last = vpcStyle
                ? items.Count == 0 || all.Count >= (answer.TryGetProperty("TotalCount", out var total) ? total.GetInt32() : 0)
                : token.Length == 0;
            if (last)
                break;
        }
        var merged = System.Text.Json.Nodes.JsonNode.Parse(first.GetRawText())!.AsObject();
        merged[list] = new System.Text.Json.Nodes.JsonObject { [item] = new System.Text.Json.Nodes.JsonArray([.. all.Select(e => System.Text.Json.Nodes.JsonNode.Parse(e.GetRawText()))]) };
        foreach (var paging in new[] { "NextToken", "MaxResults", "PageNumber", "PageSize" })
            merged.Remove(paging);
        if (merged.ContainsKey("TotalCount"))
            merged["TotalCount"] = all.Count;
        return JsonSerializer.SerializeToElement(merged);
    }

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

    public static string Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => "",
        } : "";

    public static IEnumerable<JsonElement> Items(this JsonElement e, string list, string item) =>
        e.TryGetProperty(list, out var l) && l.TryGetProperty(item, out var items) && items.ValueKind == JsonValueKind.Array ? items.EnumerateArray() : [];

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
