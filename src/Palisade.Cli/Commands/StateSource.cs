using System.CommandLine;
using System.Text.Json;
using Palisade.Cli.Evaluation;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary>
/// Where an analysis command (<c>eval</c>, <c>reach</c>, <c>audit</c>, <c>whatif</c>) gets its
/// state: the file of <c>--state FILE</c>, or, without it, the region of the signing key's account
/// on the server of the connection (<c>--server</c>, <c>$PALISADE_SERVER</c> or the profile), read
/// with <c>ExportSecurityState</c>. Either way the same <see cref="NetworkState"/>, so one piece of
/// code answers for both.
/// </summary>
public sealed class StateSource
{
    public Option<string?> File { get; } = new("--state")
    {
        Description = "A state file: ECS exports of the region's security groups and instances (see README, 'State files'). Without it: the server's region (--server, $PALISADE_SERVER or the profile).",
        HelpName = "FILE",
    };

    public ServerConnection Connection { get; } = new();

    public IEnumerable<Option> Options => [File, .. Connection.Options];

    /// <summary><c>--state</c> first (as before), the connection's options last.</summary>
    public void AddTo(Command command)
    {
        command.Options.Insert(0, File);
        foreach (var o in Connection.Options)
            command.Options.Add(o);
    }

    /// <summary>True when the answer comes from a server (no <c>--state</c>); a usage error when there is no server either.</summary>
    public bool IsRemote(ParseResult parse)
    {
        if (parse.GetValue(File) is not null)
            return false;
        return Connection.Configured(parse)
            ? true
            : throw new UsageException("no state: give --state FILE, or a server (--server URL, $PALISADE_SERVER or 'palisade configure')");
    }

    /// <summary>
    /// Runs an analysis command as <see cref="Commands.Remote.Guard"/> does; against a server, a
    /// complaint about "the state file" names the server's region instead (the offline wording,
    /// golden-tested, stays as it is).
    /// </summary>
    public Task<int> Run(ParseResult parse, Func<Task<int>> work) => Commands.Remote.Guard(parse, async () =>
    {
        try
        {
            return await work();
        }
        catch (UsageException e) when (parse.GetValue(File) is null && e.Message.Contains(StateFileWords, StringComparison.Ordinal))
        {
            throw new UsageException(e.Message.Replace(StateFileWords, $" in {Connection.RegionOf(parse)} on the server", StringComparison.Ordinal));
        }
    });

    private const string StateFileWords = " in the state file";

    /// <summary>A context for calls to the server of the connection, in its region.</summary>
    public RemoteContext Remote(ParseResult parse, CancellationToken cancel)
    {
        var (client, _) = Connection.Connect(parse);
        return new RemoteContext(client, parse, Connection.RegionOf(parse), false, cancel);
    }

    public async Task<NetworkState> LoadAsync(ParseResult parse, CancellationToken cancel) =>
        IsRemote(parse) ? await FetchAsync(Remote(parse, cancel)) : StateFileOption.Load(parse.GetValue(File)!);

    /// <summary>The server's answer to <c>ExportSecurityState</c>: the state file, exactly as the server wrote it.</summary>
    public static async Task<string> FetchJsonAsync(RemoteContext c) =>
        (await c.CallAsync("ExportSecurityState", [])).GetProperty("State").GetRawText();

    public static async Task<NetworkState> FetchAsync(RemoteContext c)
    {
        var json = await FetchJsonAsync(c);
        try
        {
            return StateFileReader.Read(json);
        }
        catch (StateFileException e)
        {
            // The server writes what the reader reads: this is a bug of one of them, said as such.
            throw new UsageException($"the server's state of {c.Region} is malformed at {e.Path}: {e.Problem}");
        }
    }
}
