using System.Security.Cryptography;
using Palisade.Domain.Errors;
using Palisade.Domain.Hosts;
using Palisade.Domain.Identifiers;
using Palisade.Storage.Accounts;
using Palisade.Storage.Records;

namespace Palisade.Storage.Hosts;

/// <summary>
/// The operator's acts on hosts (issue 18), on the store as account creation is: declaring what a
/// host carries, making its credential, binding NICs to its interfaces. No API action does these: a
/// tenant neither binds nor learns of another tenant's bindings, and a host credential can only
/// read its host's policy and report. Refusals are catalogue errors (<see cref="EcsException"/>).
/// </summary>
public sealed class HostService(IStore store, SecretProtector protector, TimeProvider clock)
{
    public sealed record NewCredential(string HostName, string AccessKeyId, string AccessKeySecret);

    private const string KeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Declares a host (or replaces its declaration). Refused when a NIC bound to it now would fall outside.</summary>
    public HostRecord Declare(string hostName, HostDeclaration declaration)
    {
        var host = HostNames.Host(hostName);
        return store.Write("DeclareHost", null, s =>
        {
            s.SerializeWith("host:" + host);
            foreach (var binding in s.ListBindingsOnHost(host))
                Check(s, host, declaration, binding.InstanceId, binding.AccountId, binding.InterfaceName);
            var record = new HostRecord(host, declaration, Time.Truncate(clock.GetUtcNow()));
            var existing = s.FindHost(host);
            s.SaveHost(existing is null ? record : record with { CreatedAt = existing.CreatedAt });
            return s.FindHost(host)!;
        });
    }

    /// <summary>
    /// A new credential for a host's agent: <c>LTAI</c> and 20 letters and digits, a 30-character
    /// secret (shown once, kept encrypted). A host not declared yet is declared carrying nothing.
    /// </summary>
    public NewCredential CreateCredential(string hostName)
    {
        var host = HostNames.Host(hostName);
        var id = "LTAI" + RandomNumberGenerator.GetString(KeyAlphabet, 20);
        var secret = RandomNumberGenerator.GetString(KeyAlphabet, 30);
        var now = Time.Truncate(clock.GetUtcNow());
        return store.Write("CreateHostCredential", null, s =>
        {
            if (s.FindHost(host) is null)
                s.SaveHost(new HostRecord(host, HostDeclaration.Nothing, now));
            if (s.FindAccessKey(id) is not null || s.FindHostCredential(id) is not null)
                throw new InvalidOperationException($"the AccessKey {id} exists already");
            s.InsertHostCredential(new HostCredentialRecord(id, host, protector.Protect(secret), AccessKeyStatus.Active, now));
            return new NewCredential(host, id, secret);
        });
    }

    /// <summary>
    /// The NIC of <paramref name="instanceId"/> (of whichever account) is carried by
    /// <paramref name="interfaceName"/> on <paramref name="hostName"/>: refused unless the host is
    /// declared, the interface matches its patterns, every private address of the NIC is in its
    /// address space, and no other NIC sits on that interface. Binding again moves it. The change is
    /// the owning account's (a revision of its own: its feed and its in-sync status move).
    /// </summary>
    public HostBindingRecord Bind(string instanceId, string hostName, string interfaceName)
    {
        var host = HostNames.Host(hostName);
        var name = HostNames.Interface(interfaceName);
        var id = InstanceIdOf(instanceId);
        var owner = store.Read(s => s.FindInstanceOwner(id)) ?? throw new EcsException(EcsErrors.InstanceNotFound(instanceId));
        return store.Write("BindHostInterface", owner, s =>
        {
            // One interface carries one NIC of any account: the accounts' own locks do not cover that.
            s.SerializeWith("host:" + host);
            var declared = s.FindHost(host) ?? throw new EcsException(EcsErrors.HostNotDeclared(host));
            Check(s, host, declared.Declaration, id, owner, name);
            if (s.FindHostBindingByInterface(host, name) is { } other && other.InstanceId != id)
                throw new EcsException(EcsErrors.InterfaceInUse(host, name, other.InstanceId.Value));
            if (s.FindHostBinding(id) is { } current && current.HostName == host && current.InterfaceName == name)
                return current;
            var binding = new HostBindingRecord(id, owner, host, name, Time.Truncate(clock.GetUtcNow()));
            s.SaveHostBinding(binding);
            return binding;
        });
    }

    /// <summary>The instance's NIC is carried by no host any more.</summary>
    public HostBindingRecord Unbind(string instanceId)
    {
        var id = InstanceIdOf(instanceId);
        var owner = store.Read(s => s.FindInstanceOwner(id)) ?? throw new EcsException(EcsErrors.InstanceNotFound(instanceId));
        return store.Write("UnbindHostInterface", owner, s =>
        {
            var current = s.FindHostBinding(id) ?? throw new EcsException(EcsErrors.InstanceNotBound(instanceId));
            s.DeleteHostBinding(id);
            return current;
        });
    }

    /// <summary>The declared hosts.</summary>
    public IReadOnlyList<HostRecord> ListHosts() => store.Read(s => s.ListHosts());

    /// <summary>Every binding on a host (every account's), or on every host.</summary>
    public IReadOnlyList<HostBindingRecord> ListBindings(string? hostName) =>
        store.Read(s => hostName is null
            ? [.. s.ListHosts().SelectMany(h => s.ListBindingsOnHost(h.HostName))]
            : s.ListBindingsOnHost(HostNames.Host(hostName)));

    private static void Check(IStoreSession s, string host, HostDeclaration declaration, InstanceId id, long owner, string interfaceName)
    {
        if (!declaration.Admits(interfaceName))
            throw new EcsException(EcsErrors.InterfaceOutsideDeclaration(host, interfaceName, declaration.Patterns));
        var instance = s.FindInstance(owner, id) ?? throw new EcsException(EcsErrors.InstanceNotFound(id.Value));
        foreach (var address in instance.PrivateAddresses)
        {
            if (!declaration.Carries(address))
                throw new EcsException(EcsErrors.AddressOutsideDeclaration(host, id.Value, address.ToString(), declaration.Space));
        }
    }

    private static InstanceId InstanceIdOf(string text) =>
        InstanceId.TryParse(text, out var id) ? id : throw new EcsException(EcsErrors.InstanceIdMalformed(text));
}
