using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Palisade.Cli.Evaluation;
using Palisade.Client;
using Palisade.Storage.Accounts;
using Palisade.Storage;
using Palisade.Storage.Records;
using Palisade.Domain.Ecs;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade account create</c> (an operator's command on the local data directory) and
/// <c>palisade accesskey create|list|disable|enable|delete</c>, which work on one of two places:
/// the local data directory (safe while the server runs) when <c>--data</c>, <c>--store</c> or
/// <c>--account</c> is given or no server is configured; otherwise the server of the connection,
/// where a key manages its own account's keys (RAM's CreateAccessKey, ListAccessKeys,
/// UpdateAccessKey, DeleteAccessKey).
/// </summary>
public static class AccountCommands
{
    private const string Where = """
        Where: with --data, --store or --account, the local data directory (the operator's mode: any
        account). Otherwise, when a server is configured (--server, $PALISADE_SERVER or the profile),
        that server, for the account of the signing key. With neither, the local data directory.
        """;

    public static Command Account()
    {
        var name = new Option<string>("--name") { Description = "The account's name (unique).", Required = true };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var create = new Command("create", """
            Create an account with its first AccessKey, and print the key (the secret is shown only once).
            An operator's command: it writes the local data directory (--data, --store), also while the
            server runs; there is no API to create accounts.

            Example:
              palisade account create --name team-a --data /var/lib/palisade
            """) { name, data, store, ServeCommand.StoreFileOption() };
        create.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            var accounts = Open(parse, data, store, out var owned);
            using (owned)
            {
                var account = accounts.CreateAccount(parse.GetValue(name)!);
                Print(parse.InvocationConfiguration.Output, accounts.CreateAccessKey(account.AccountId));
            }
            return Task.FromResult(ExitCodes.Ok);
        }));
        return new Command("account", "Manage accounts (tenants), on the local data directory.") { create };
    }

    public static Command AccessKey() => new("accesskey", "Manage AccessKeys: on the local data directory, or on a server for the signing key's own account.\n\n" + Where)
    {
        Create(), List(),
        KeyChange("disable", "Disable an AccessKey: its requests get InvalidAccessKeyId.Inactive (on every server within 2 seconds). Over a server, a key cannot disable itself.",
            AccessKeyStatus.Inactive, "disabled"),
        KeyChange("enable", "Enable a disabled AccessKey again.", AccessKeyStatus.Active, "enabled"),
        KeyChange("delete", "Delete an AccessKey for good: its requests get InvalidAccessKeyId.NotFound (on every server within 2 seconds). Over a server, a key cannot delete itself.",
            null, "deleted"),
    };

    /// <summary>The options every accesskey command has, and which of the two places a parse result names.</summary>
    private sealed class Place
    {
        public Option<string> Data { get; } = ServeCommand.DataOption();

        public Option<string?> Store { get; } = ServeCommand.StoreOption();

        public Option<string?> StoreFile { get; } = ServeCommand.StoreFileOption();

        public ServerConnection Connection { get; } = new();

        public Option<string> Format { get; } = new("--output", "-o") { Description = "table (for people) or json (RAM's answer shape, for scripts).", DefaultValueFactory = _ => "table" };

        public Option<string?>? Account { get; init; }

        public void AddTo(Command command)
        {
            Format.AcceptOnlyFromAmong("table", "json");
            if (Account is not null)
                command.Options.Add(Account);
            command.Options.Add(Data);
            command.Options.Add(Store);
            command.Options.Add(StoreFile);
            // RAM's actions have no region.
            foreach (var o in Connection.Options.Where(o => o != Connection.Region))
                command.Options.Add(o);
            command.Options.Add(Format);
        }

        public bool IsLocal(ParseResult parse)
        {
            var local = parse.GetResult(Data) is { Implicit: false } || parse.GetResult(Store) is { Implicit: false } || parse.GetValue(StoreFile) is not null || (Account is not null && parse.GetValue(Account) is not null);
            if (local && parse.GetValue(Connection.Server) is not null)
                throw new UsageException("--data, --store and --account work on the local data directory, --server on a server: give one of them");
            return local || !Connection.Configured(parse);
        }

        public EcsClient Client(ParseResult parse) => Connection.Connect(parse).Client;

        public bool Json(ParseResult parse) => parse.GetValue(Format) == "json";
    }

    private static Command Create()
    {
        var place = new Place { Account = new Option<string?>("--account") { Description = "The account, by name or ID (the local data directory; over a server, the signing key's own)." } };
        var readOnly = new Option<bool>("--read-only") { Description = "The key may call only Describe* and List* actions." };
        var command = new Command("create", $"""
            Create an AccessKey, and print it (the secret is shown only once), as lines a --credentials file
            takes.

            {Where}

            Examples:
              palisade accesskey create --account team-a --data /var/lib/palisade
              palisade accesskey create --server http://127.0.0.1:8080 --read-only > ci-credentials
            """) { readOnly };
        place.AddTo(command);
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (place.IsLocal(parse))
            {
                var text = parse.GetValue(place.Account) ?? throw new UsageException("--account is required with the local data directory: which account?");
                var accounts = Open(parse, place.Data, place.Store, out var owned);
                using (owned)
                {
                    var found = accounts.FindAccount(text) ?? throw new InvalidOperationException($"no account named or numbered '{text}'");
                    var made = accounts.CreateAccessKey(found.AccountId, parse.GetValue(readOnly));
                    if (place.Json(parse))
                        output.WriteLine(JsonSerializer.Serialize(new { made.AccountName, made.AccountId, AccessKey = new { made.AccessKeyId, made.AccessKeySecret, Status = "Active", made.ReadOnly } }, Indented));
                    else
                        Print(output, made);
                }
                return ExitCodes.Ok;
            }
            var answer = await place.Client(parse).CallAsync("CreateAccessKey",
                parse.GetValue(readOnly) ? [new("ReadOnly", "true")] : [], ApiVersions.Ram, cancel);
            if (place.Json(parse))
            {
                output.WriteLine(JsonSerializer.Serialize(answer, Indented));
                return ExitCodes.Ok;
            }
            var key = answer.GetProperty("AccessKey");
            output.WriteLine($"access_key_id={key.Str("AccessKeyId")}");
            output.WriteLine($"access_key_secret={key.Str("AccessKeySecret")}");
            if (key.Str("ReadOnly") == "true")
                output.WriteLine("read_only=true");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var place = new Place { Account = new Option<string?>("--account") { Description = "The account, by name or ID (the local data directory; over a server, the signing key's own)." } };
        var command = new Command("list", $"""
            List AccessKeys: ID, status, whether read-only, creation time; never secrets.

            {Where}

            Examples:
              palisade accesskey list --server http://127.0.0.1:8080
              palisade accesskey list --account team-a --data /var/lib/palisade --output json
            """);
        place.AddTo(command);
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            IReadOnlyList<(string Id, string Status, bool ReadOnly, string Created)> keys;
            if (place.IsLocal(parse))
            {
                var text = parse.GetValue(place.Account) ?? throw new UsageException("--account is required with the local data directory: which account?");
                var accounts = Open(parse, place.Data, place.Store, out var owned);
                using (owned)
                {
                    var found = accounts.FindAccount(text) ?? throw new InvalidOperationException($"no account named or numbered '{text}'");
                    keys = [.. accounts.ListAccessKeys(found.AccountId)
                        .Select(k => (k.AccessKeyId, k.Status == AccessKeyStatus.Active ? "Active" : "Inactive", k.ReadOnly, Palisade.Storage.Time.Format(k.CreatedAt)))];
                }
            }
            else
            {
                var answer = await place.Client(parse).CallAsync("ListAccessKeys", [], ApiVersions.Ram, cancel);
                if (place.Json(parse))
                {
                    parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(answer, Indented));
                    return ExitCodes.Ok;
                }
                keys = [.. answer.Items("AccessKeys", "AccessKey").Select(k => (k.Str("AccessKeyId"), k.Str("Status"), k.Str("ReadOnly") == "true", k.Str("CreateDate")))];
            }
            var output = parse.InvocationConfiguration.Output;
            if (place.Json(parse))
            {
                // The local store answers in RAM's shape too, so that a script reads either.
                output.WriteLine(JsonSerializer.Serialize(new { AccessKeys = new { AccessKey = keys.Select(k => new { AccessKeyId = k.Id, k.Status, CreateDate = k.Created, k.ReadOnly }) } }, Indented));
                return ExitCodes.Ok;
            }
            Remote.Table(output, ["ACCESS KEY ID", "STATUS", "READ ONLY", "CREATED"], [.. keys.Select(k => new[] { k.Id, k.Status, k.ReadOnly ? "yes" : "no", k.Created })]);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <param name="status">The new status, or null to delete the key.</param>
    private static Command KeyChange(string name, string description, AccessKeyStatus? status, string done)
    {
        var place = new Place();
        var id = new Option<string>("--id") { Description = "The AccessKey ID.", Required = true };
        var command = new Command(name, $"""
            {description}

            {Where}

            Examples:
              palisade accesskey {name} --id LTAI5tExampleKeyId00000 --data /var/lib/palisade
              palisade accesskey {name} --id LTAI5tExampleKeyId00000 --server http://127.0.0.1:8080
            """) { id };
        place.AddTo(command);
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            var key = parse.GetValue(id)!;
            if (place.IsLocal(parse))
            {
                var accounts = Open(parse, place.Data, place.Store, out var owned);
                using (owned)
                {
                    if (status is { } s)
                        accounts.SetAccessKeyStatus(key, s);
                    else
                        accounts.DeleteAccessKey(key);
                }
            }
            else
            {
                await place.Client(parse).CallAsync(status is null ? "DeleteAccessKey" : "UpdateAccessKey",
                    status is { } s ? [new("UserAccessKeyId", key), new("Status", s == AccessKeyStatus.Active ? "Active" : "Inactive")] : [new("UserAccessKeyId", key)],
                    ApiVersions.Ram, cancel);
            }
            parse.InvocationConfiguration.Output.WriteLine($"{done} {key}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static AccountService Open(ParseResult parse, Option<string> data, Option<string?> storeOption, out IDisposable store)
    {
        var directory = Path.GetFullPath(parse.GetValue(data)!);
        var opened = StoreFactory.Open(ServeCommand.StoreOf(parse, storeOption), directory);
        store = opened;
        return new AccountService(opened, SecretProtector.ForDataDirectory(Path.Combine(directory, "master.key")), TimeProvider.System);
    }

    private static void Print(TextWriter output, AccountService.NewKey key)
    {
        output.WriteLine($"account_name={key.AccountName}");
        output.WriteLine($"account_id={key.AccountId.ToString(CultureInfo.InvariantCulture)}");
        output.WriteLine($"access_key_id={key.AccessKeyId}");
        output.WriteLine($"access_key_secret={key.AccessKeySecret}");
        if (key.ReadOnly)
            output.WriteLine("read_only=true");
    }
}
