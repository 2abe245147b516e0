using System.CommandLine;
using Palisade.Server.Actions.Analysis;
using Palisade.Storage;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade export</c>: an account's region of a control plane as a state file, for the offline commands.</summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "The state file to write.", HelpName = "FILE", Required = true };
        var account = new Option<string>("--account") { Description = "The account, by name or ID.", Required = true };
        var region = new Option<string>("--region") { Description = "The region.", DefaultValueFactory = _ => "cn-hangzhou" };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var command = new Command("export", """
            Write an account's groups, rules and instances in one region as a state file (the shapes of ECS's
            own answers), to audit, reach, what-if or eval offline.

            Example:
              palisade export --account root --out state.json && palisade audit --state state.json
            """) { output, account, region, data, store };
        command.SetAction(parse =>
        {
            try
            {
                using var s = StoreFactory.Open(parse.GetValue(store), parse.GetValue(data)!);
                var name = parse.GetValue(account)!;
                var json = s.Read(session =>
                {
                    var found = session.FindAccountByName(name)
                        ?? (long.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? session.FindAccount(id) : null)
                        ?? throw new InvalidOperationException($"no account named or numbered '{name}'");
                    return StateExport.Json(session, found.AccountId, parse.GetValue(region)!);
                });
                File.WriteAllText(parse.GetValue(output)!, json + "\n");
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }
}
