using System.CommandLine;
using Palisade.Cli.Evaluation;
using Palisade.Domain.State;
using Palisade.Storage;
using Palisade.Storage.State;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade export</c>: a region of a control plane as a state file, for the offline commands.
/// With <c>--account</c>, read from the local store (the operator's view of any account) and written
/// by <see cref="StateFileWriter"/>: what decides traffic, in ECS's shapes. Without it, from the
/// server of the connection (the signing key's own account, ExportSecurityState), whose answer also
/// carries the descriptive fields of ECS's answers (zone, instance type, EIP allocation). The two
/// read back as the same state.
/// </summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "The state file to write.", HelpName = "FILE", Required = true };
        var account = new Option<string?>("--account") { Description = "Read the local store (--data, --store) for this account, by name or ID, instead of asking a server." };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var connection = new ServerConnection();
        var command = new Command("export", """
            Write the groups, rules and instances of one region as a state file (the shapes of ECS's own
            answers), to audit, reach, what-if or eval offline. From a server (--server, $PALISADE_SERVER or
            the profile): the signing key's own account (ExportSecurityState; read-only keys may). With
            --account: straight from the local data directory (--data, --store), any account, as an operator.

            Examples:
              palisade export --server http://127.0.0.1:8080 --out state.json && palisade audit --state state.json
              palisade export --account root --data /var/lib/palisade --out state.json
            """) { output, account, data, store, ServeCommand.StoreFileOption() };
        foreach (var o in connection.Options)
            command.Options.Add(o);
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            string json;
            if (parse.GetValue(account) is { } name)
            {
                if (parse.GetValue(connection.Server) is not null)
                    throw new UsageException("--account reads the local store and --server asks a server: give one of them");
                // The local store's region defaults as it always has, not from the environment or a profile.
                var region = parse.GetValue(connection.Region) ?? ServerConnection.DefaultRegion;
                using var s = StoreFactory.Open(ServeCommand.StoreOf(parse, store), parse.GetValue(data)!);
                json = s.Read(session =>
                {
                    var found = session.FindAccountByName(name)
                        ?? (long.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? session.FindAccount(id) : null)
                        ?? throw new InvalidOperationException($"no account named or numbered '{name}'");
                    return StateFileWriter.Write(StoredState.Load(session, found.AccountId, region));
                });
            }
            else
            {
                if (!connection.Configured(parse))
                    throw new UsageException("no source: give --server URL (or set $PALISADE_SERVER, or run 'palisade configure'), or --account NAME for the local store");
                var (client, _) = connection.Connect(parse);
                json = await StateSource.FetchJsonAsync(new RemoteContext(client, parse, connection.RegionOf(parse), false, cancel));
            }
            File.WriteAllText(parse.GetValue(output)!, json + "\n");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
