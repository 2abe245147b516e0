using System.Text;
using Palisade.Server.Hosting;
using Palisade.Storage;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Accounts;

/// <summary>
/// The first start of an empty control plane: makes the first account and its key, from
/// <c>PALISADE_ROOT_ACCESS_KEY_ID</c>/<c>PALISADE_ROOT_ACCESS_KEY_SECRET</c> when set, else random
/// and written to <c>DIR/credentials</c> (mode 0600). The secret is never logged.
/// </summary>
internal sealed class Bootstrap(IStore store, AccountService accounts, ServeSettings settings)
{
    public const string RootAccountName = "root";

    /// <summary>What to tell the operator: the account and key made on the first start, or where the first key is on a later one; null when another node made it first.</summary>
    public string? EnsureFirstAccount()
    {
        var environmentId = Environment.GetEnvironmentVariable("PALISADE_ROOT_ACCESS_KEY_ID");
        var environmentSecret = Environment.GetEnvironmentVariable("PALISADE_ROOT_ACCESS_KEY_SECRET");
        if (store.Read(s => s.ListAccounts()).Count > 0)
        {
            if (environmentId is { Length: > 0 } && store.Read(s => s.FindAccessKey(environmentId)) is null)
                return $"note: PALISADE_ROOT_ACCESS_KEY_ID {environmentId} is ignored: the control plane has accounts already (use 'palisade accesskey create').";
            // Every later start says where the first key is: the operator who lost the first start's
            // output, or came back a week later, should not have to search for it.
            var written = Path.Combine(Path.GetFullPath(settings.DataDirectory), "credentials");
            if (File.Exists(written))
                return $"the first account's AccessKey is in {written}";
            if (environmentId is { Length: > 0 })
                return $"the first account's AccessKey is {environmentId}, from PALISADE_ROOT_ACCESS_KEY_ID";
            return $"no credentials file in {Path.GetFullPath(settings.DataDirectory)}: list and make keys with 'palisade accesskey list|create --account {RootAccountName}'";
        }
        Storage.Records.AccountRecord account;
        try
        {
            account = accounts.CreateAccount(RootAccountName);
        }
        catch (InvalidOperationException) when (store.Read(s => s.FindAccountByName(RootAccountName)) is not null)
        {
            return null; // another node sharing the store made it first
        }
        if (environmentId is { Length: > 0 } && environmentSecret is { Length: > 0 })
        {
            accounts.CreateAccessKey(account.AccountId, id: environmentId, secret: environmentSecret);
            return $"created account '{RootAccountName}' ({account.AccountId}) with the AccessKey {environmentId} from PALISADE_ROOT_ACCESS_KEY_ID";
        }
        var key = accounts.CreateAccessKey(account.AccountId);
        var path = Path.Combine(Path.GetFullPath(settings.DataDirectory), "credentials");
        WriteCredentials(path, key);
        return $"created account '{RootAccountName}' ({account.AccountId}); its AccessKey is in {path}";
    }

    public static void WriteCredentials(string path, AccountService.NewKey key)
    {
        var text = new StringBuilder()
            .Append("# Palisade AccessKey; keep this file private.\n")
            .Append($"account_name={key.AccountName}\n")
            .Append($"account_id={key.AccountId}\n")
            .Append($"access_key_id={key.AccessKeyId}\n")
            .Append($"access_key_secret={key.AccessKeySecret}\n")
            .ToString();
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
            stream.Write(Encoding.UTF8.GetBytes(text));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
