using System.CommandLine;
using Palisade.Storage;
using Palisade.Storage.Backup;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade backup</c> and <c>palisade restore</c>: a whole control plane as one JSON file, between any two stores.</summary>
public static class BackupCommands
{
    public static Command Backup()
    {
        var output = new Option<string>("--out") { Description = "The file to write.", HelpName = "FILE", Required = true };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var command = new Command("backup", """
            Write the whole control plane (accounts, keys with their encrypted secrets, VPCs, groups, rules,
            instances, tags, the revision history, the action trail) to one JSON file. Safe while the server
            runs: it reads one consistent snapshot.

            Examples:
              palisade backup --out palisade.json
              palisade backup --store postgres://palisade@db:5432/palisade --out palisade.json
            """) { output, data, store, ServeCommand.StoreFileOption() };
        command.SetAction(parse => Run(parse, data, store, s =>
        {
            var path = parse.GetValue(output)!;
            var temporary = path + ".partial";
            StoreBackup.Summary summary;
            // A backup holds every tenant's data and the encrypted secrets: the owner's alone (0600).
            using (var file = Storage.PrivateFiles.Create(temporary))
                summary = StoreBackup.Write(s, file);
            File.Move(temporary, path, overwrite: true);
            parse.InvocationConfiguration.Output.WriteLine($"backed up {summary.Rows} rows of {summary.Tables} tables at revision {summary.Revision} to {path}");
        }));
        return command;
    }

    public static Command Restore()
    {
        var input = new Argument<string>("FILE") { Description = "A file written by 'palisade backup'." };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var command = new Command("restore", """
            Load a backup into an empty control plane (SQLite or PostgreSQL), all of it or nothing. The
            AccessKey secrets stay encrypted: use the same master key (DIR/master.key or PALISADE_MASTER_KEY).

            Examples:
              palisade restore palisade.json --data /var/lib/palisade
              palisade restore palisade.json --store postgres://palisade@db:5432/palisade
            """) { input, data, store, ServeCommand.StoreFileOption() };
        command.SetAction(parse => Run(parse, data, store, s =>
        {
            using var file = File.OpenRead(parse.GetValue(input)!);
            var summary = StoreBackup.Restore(s, file);
            parse.InvocationConfiguration.Output.WriteLine($"restored {summary.Rows} rows; the control plane is at revision {summary.Revision}");
        }));
        return command;
    }

    private static int Run(ParseResult parse, Option<string> data, Option<string?> storeOption, Action<IStore> work)
    {
        try
        {
            using var store = StoreFactory.Open(ServeCommand.StoreOf(parse, storeOption), parse.GetValue(data)!);
            work(store);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or InvalidOperationException
            or System.Text.Json.JsonException or Npgsql.NpgsqlException or Microsoft.Data.Sqlite.SqliteException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
    }
}
