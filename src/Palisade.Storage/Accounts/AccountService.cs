using System.Security.Cryptography;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Storage.Accounts;

/// <summary>Accounts and AccessKeys: creating them, and finding the secret of a key for a signature check.</summary>
public sealed class AccountService(IStore store, SecretProtector protector, TimeProvider clock)
{
    public sealed record NewKey(string AccountName, long AccountId, string AccessKeyId, string AccessKeySecret, bool ReadOnly);

    private const string KeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public AccountRecord CreateAccount(string name) =>
        store.Write("CreateAccount", null, s =>
        {
            if (s.FindAccountByName(name) is not null)
                throw new InvalidOperationException($"an account named '{name}' exists already");
            return s.CreateAccount(name, clock.GetUtcNow());
        });

    /// <summary>A new key for an account: <c>LTAI</c> and 20 letters and digits, a 30-character secret, as Alibaba Cloud makes them.</summary>
    public NewKey CreateAccessKey(long accountId, bool readOnly = false, string? id = null, string? secret = null)
    {
        var (record, keySecret) = NewAccessKey(accountId, readOnly, id, secret);
        return store.Write("CreateAccessKey", accountId, s =>
        {
            var account = s.FindAccount(accountId) ?? throw new InvalidOperationException($"no account {accountId}");
            if (s.FindAccessKey(record.AccessKeyId) is not null)
                throw new InvalidOperationException($"the AccessKey {record.AccessKeyId} exists already");
            s.InsertAccessKey(record);
            return new NewKey(account.Name, accountId, record.AccessKeyId, keySecret, readOnly);
        });
    }

    /// <summary>
    /// A new Active key's record, its secret encrypted, and the secret in clear (to show once), for
    /// a caller that inserts it in a transaction of its own (the <c>CreateAccessKey</c> action).
    /// </summary>
    public (AccessKeyRecord Record, string Secret) NewAccessKey(long accountId, bool readOnly = false, string? id = null, string? secret = null)
    {
        id ??= "LTAI" + RandomNumberGenerator.GetString(KeyAlphabet, 20);
        secret ??= RandomNumberGenerator.GetString(KeyAlphabet, 30);
        return (new AccessKeyRecord(id, accountId, protector.Protect(secret), AccessKeyStatus.Active, readOnly, clock.GetUtcNow()), secret);
    }

    /// <summary>
    /// Disables (<see cref="AccessKeyStatus.Inactive"/>) or re-enables a key. Requests signed with a
    /// disabled key get <c>InvalidAccessKeyId.Inactive</c>; servers notice within
    /// <see cref="Protocol.Authenticator.KeyCacheLifetime"/>, on every node.
    /// </summary>
    public AccessKeyRecord SetAccessKeyStatus(string accessKeyId, AccessKeyStatus status) =>
        store.Write(status == AccessKeyStatus.Active ? "EnableAccessKey" : "DisableAccessKey", null, s =>
        {
            var key = s.FindAccessKey(accessKeyId) ?? throw new InvalidOperationException($"no AccessKey {accessKeyId}");
            s.SetAccessKeyStatus(accessKeyId, status);
            return key with { Status = status };
        });

    /// <summary>Deletes a key for good: its requests get <c>InvalidAccessKeyId.NotFound</c> (within the same delay as disabling).</summary>
    public void DeleteAccessKey(string accessKeyId) =>
        store.Write("DeleteAccessKey", null, s =>
        {
            _ = s.FindAccessKey(accessKeyId) ?? throw new InvalidOperationException($"no AccessKey {accessKeyId}");
            s.DeleteAccessKey(accessKeyId);
            return 0;
        });

    /// <summary>An account's keys (their secrets stay encrypted in the records).</summary>
    public IReadOnlyList<AccessKeyRecord> ListAccessKeys(long accountId) =>
        [.. store.Read(s => s.ListAccessKeys(accountId)).OrderBy(k => k.CreatedAt).ThenBy(k => k.AccessKeyId, StringComparer.Ordinal)];

    /// <summary>An account by name, or by its numeric ID.</summary>
    public AccountRecord? FindAccount(string nameOrId) =>
        store.Read(s => s.FindAccountByName(nameOrId)
            ?? (long.TryParse(nameOrId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? s.FindAccount(id) : null));

    /// <summary>The store's revision: a node that cached a host credential re-reads it when this moved (a revocation is a commit).</summary>
    public long CurrentRevision() => store.CurrentRevision();

    /// <summary>Notes that a host credential signed a request (bookkeeping for <c>palisade host credential list</c>; no revision).</summary>
    /// <remarks>
    /// Serialised on the credential alone (<see cref="IStore.WriteOn{T}"/>), not as a write of no
    /// account: that one takes the global lock exclusively, so each note waited for every account's
    /// write in flight and held up every write after it, one at a time — at 3,000 agents up to 3,000
    /// such notes a minute (each credential's first request a minute on its node), in bursts when
    /// the agents' polls renew together (issue 17).
    /// </remarks>
    public void NoteHostCredentialUse(string accessKeyId, DateTimeOffset at) =>
        store.WriteOn("UseHostCredential", "host-credential:" + accessKeyId, s =>
        {
            s.MarkHostCredentialUsed(accessKeyId, Time.Truncate(at));
            return 0;
        });

    /// <summary>
    /// Notes the uses of several host credentials in one write (issue 17): a node collects its agents'
    /// uses after each credential's first and writes them together once per interval, instead of a
    /// write per credential per interval — at 10,000 agents, one write per long-poll renewal.
    /// Serialised on one resource for the batch; the rows in a fixed order, so two nodes' batches and
    /// single notes never deadlock. A statement per second of use, not per credential (thirteenth session).
    /// </summary>
    public void NoteHostCredentialUses(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> uses)
    {
        if (uses.Count == 0)
            return;
        store.WriteOn("UseHostCredential", "host-credential-uses", s =>
        {
            // One statement per second of use, not one per credential (IStoreSession.MarkHostCredentialsUsed).
            s.MarkHostCredentialsUsed(uses);
            return 0;
        });
    }

    /// <param name="HostName">For a host credential, its host (and <see cref="AccessKeyRecord.AccountId"/> is 0: no account owns it).</param>
    public sealed record KnownKey(AccessKeyRecord Record, string Secret, string? HostName = null);

    /// <summary>An account's AccessKey, or a host credential (issue 18), by its ID.</summary>
    public KnownKey? FindKey(string accessKeyId)
    {
        var (record, host) = store.Read(s => (s.FindAccessKey(accessKeyId), s.FindHostCredential(accessKeyId)));
        if (record is not null)
            return new KnownKey(record, protector.Unprotect(record.SecretCiphertext));
        return host is null
            ? null
            : new KnownKey(new AccessKeyRecord(host.AccessKeyId, 0, host.SecretCiphertext, host.Status, false, host.CreatedAt), protector.Unprotect(host.SecretCiphertext), host.HostName);
    }
}
