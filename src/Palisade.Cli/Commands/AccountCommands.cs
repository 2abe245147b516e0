using System.CommandLine;
using System.Globalization;
using Palisade.Server.Accounts;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade account create</c> and <c>palisade accesskey create|disable|enable|delete</c>: tenants and their keys,
/// written straight into the data directory (safe while the server runs).
/// </summary>
public static class AccountCommands
{
    public static Command Account()
    {
        var name = new Option<string>("--name") { Description = "The account's name (unique).", Required = true };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var create = new Command("create", """
            Create an account with its first AccessKey, and print the key (the secret is shown only once).

            Example:
              palisade account create --name team-a
            """) { name, data, store };
        create.SetAction(parse => Run(parse, data, store, (accounts, output) =>
        {
            var account = accounts.CreateAccount(parse.GetValue(name)!);
            var key = accounts.CreateAccessKey(account.AccountId);
            Print(output, key);
        }));
        return new Command("account", "Manage accounts (tenants).") { create };
    }

    public static Command AccessKey()
    {
        var account = new Option<string>("--account") { Description = "The account, by name or ID.", Required = true };
        var readOnly = new Option<bool>("--read-only") { Description = "The key may call only Describe* and List* actions." };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var create = new Command("create", """
            Create an AccessKey for an account, and print it (the secret is shown only once).

            Examples:
              palisade accesskey create --account team-a
              palisade accesskey create --account team-a --read-only
            """) { account, readOnly, data, store };
        create.SetAction(parse => Run(parse, data, store, (accounts, output) =>
        {
            var text = parse.GetValue(account)!;
            var found = accounts.FindAccount(text) ?? throw new InvalidOperationException($"no account named or numbered '{text}'");
            Print(output, accounts.CreateAccessKey(found.AccountId, parse.GetValue(readOnly)));
        }));
        return new Command("accesskey", "Manage AccessKeys.")
        {
            create,
            KeyChange("disable", "Disable an AccessKey: its requests get InvalidAccessKeyId.Inactive (on every server within 2 seconds).",
                (accounts, id) => accounts.SetAccessKeyStatus(id, AccessKeyStatus.Inactive), "disabled"),
            KeyChange("enable", "Enable a disabled AccessKey again.",
                (accounts, id) => accounts.SetAccessKeyStatus(id, AccessKeyStatus.Active), "enabled"),
            KeyChange("delete", "Delete an AccessKey for good: its requests get InvalidAccessKeyId.NotFound (on every server within 2 seconds).",
                (accounts, id) => accounts.DeleteAccessKey(id), "deleted"),
        };
    }

    private static Command KeyChange(string name, string description, Action<AccountService, string> change, string done)
    {
        var id = new Option<string>("--id") { Description = "The AccessKey ID.", Required = true };
        var data = ServeCommand.DataOption();
        var store = ServeCommand.StoreOption();
        var command = new Command(name, $"""
            {description}

            Example:
              palisade accesskey {name} --id LTAI5tExampleKeyId00000
            """) { id, data, store };
        command.SetAction(parse => Run(parse, data, store, (accounts, output) =>
        {
            var key = parse.GetValue(id)!;
            change(accounts, key);
            output.WriteLine($"{done} {key}");
        }));
        return command;
    }

    private static int Run(ParseResult parse, Option<string> data, Option<string?> storeOption, Action<AccountService, TextWriter> work)
    {
        try
        {
            var directory = Path.GetFullPath(parse.GetValue(data)!);
            using var store = StoreFactory.Open(parse.GetValue(storeOption), directory);
            var accounts = new AccountService(store, SecretProtector.ForDataDirectory(Path.Combine(directory, "master.key")), TimeProvider.System);
            work(accounts, parse.InvocationConfiguration.Output);
            return ExitCodes.Ok;
        }
        catch (InvalidOperationException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
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
