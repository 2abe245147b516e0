using System.Security.Cryptography;
using Palisade.Domain.Errors;
using Palisade.Domain.Hosts;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
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
        return store.Write("DeclareHost", null, s => DeclareIn(s, host, declaration));
    }

    /// <summary>
    /// Several hosts declared in one write, each exactly as <see cref="Declare"/> declares it, in the
    /// order given (all or none: the first refusal refuses the write whole): an operator bringing up
    /// a rack, or seeding a fleet. A write of no account waits for every account's write and holds
    /// them all back while it runs, so 10,000 of them one a host stalled the accounts' own writes
    /// (issue 17's bench); one write does it once.
    /// </summary>
    public IReadOnlyList<HostRecord> DeclareAll(IReadOnlyList<(string HostName, HostDeclaration Declaration)> hosts)
    {
        var parsed = hosts.Select(h => (Host: HostNames.Host(h.HostName), h.Declaration)).ToList();
        return store.Write("DeclareHost", null, s => parsed.Select(h => DeclareIn(s, h.Host, h.Declaration)).ToList());
    }

    private HostRecord DeclareIn(IStoreSession s, string host, HostDeclaration declaration)
    {
        s.SerializeWith("host:" + host);
        foreach (var binding in s.ListBindingsOnHost(host))
            Check(host, declaration, NicOf(s, binding), binding.InterfaceName);
        var record = new HostRecord(host, declaration, Time.Truncate(clock.GetUtcNow()));
        var existing = s.FindHost(host);
        s.SaveHost(existing is null ? record : record with { CreatedAt = existing.CreatedAt });
        return s.FindHost(host)!;
    }

    /// <summary>
    /// A new credential for each of several hosts in one write, each exactly as
    /// <see cref="CreateCredential"/> makes it (see <see cref="DeclareAll"/> for why one write).
    /// </summary>
    public IReadOnlyList<NewCredential> CreateCredentials(IReadOnlyList<string> hostNames)
    {
        var hosts = hostNames.Select(HostNames.Host).ToList();
        var secrets = hosts.Select(_ => NewSecret()).ToList();
        var now = Time.Truncate(clock.GetUtcNow());
        return store.Write("CreateHostCredential", null, s => hosts.Select((host, i) => CreateCredentialIn(s, host, secrets[i].Id, secrets[i].Secret, now)).ToList());
    }

    private NewCredential CreateCredentialIn(IStoreSession s, string host, string id, string secret, DateTimeOffset now)
    {
        if (s.FindHost(host) is null)
            s.SaveHost(new HostRecord(host, HostDeclaration.Nothing, now));
        Insert(s, id, host, secret, now);
        return new NewCredential(host, id, secret);
    }

    /// <summary>
    /// A new credential for a host's agent: <c>LTAI</c> and 20 letters and digits, a 30-character
    /// secret (shown once, kept encrypted). A host not declared yet is declared carrying nothing.
    /// </summary>
    public NewCredential CreateCredential(string hostName)
    {
        var host = HostNames.Host(hostName);
        var (id, secret) = NewSecret();
        var now = Time.Truncate(clock.GetUtcNow());
        return store.Write("CreateHostCredential", null, s => CreateCredentialIn(s, host, id, secret, now));
    }

    private static (string Id, string Secret) NewSecret() =>
        ("LTAI" + RandomNumberGenerator.GetString(KeyAlphabet, 20), RandomNumberGenerator.GetString(KeyAlphabet, 30));

    private void Insert(IStoreSession s, string id, string host, string secret, DateTimeOffset now)
    {
        if (s.FindAccessKey(id) is not null || s.FindHostCredential(id) is not null)
            throw new InvalidOperationException($"the AccessKey {id} exists already");
        s.InsertHostCredential(new HostCredentialRecord(id, host, protector.Protect(secret), AccessKeyStatus.Active, now));
    }

    /// <summary>Every host credential (of one host, or of all): IDs, hosts, creation and last use; the secrets stay encrypted in the records.</summary>
    public IReadOnlyList<HostCredentialRecord> ListCredentials(string? hostName) =>
        store.Read(s => s.ListHostCredentials(hostName is null ? null : HostNames.Host(hostName)));

    public sealed record Rotation(NewCredential Credential, IReadOnlyList<string> Revoked);

    /// <summary>
    /// A new credential for the host and, in the same commit, every other credential of the host
    /// revoked: from that commit on, a request signed with an old one is refused
    /// (<c>InvalidAccessKeyId.NotFound</c>, on every node at once: servers re-read a host credential
    /// whenever the store moved on). To change credentials without a gap, create a second one, give
    /// it to the agent, then revoke the first.
    /// </summary>
    public Rotation RotateCredential(string hostName)
    {
        var host = HostNames.Host(hostName);
        var (id, secret) = NewSecret();
        var now = Time.Truncate(clock.GetUtcNow());
        return store.Write("RotateHostCredential", null, s =>
        {
            if (s.FindHost(host) is null)
                throw new EcsException(EcsErrors.HostNotDeclared(host));
            var old = s.ListHostCredentials(host);
            foreach (var credential in old)
                s.DeleteHostCredential(credential);
            Insert(s, id, host, secret, now);
            return new Rotation(new NewCredential(host, id, secret), [.. old.Select(c => c.AccessKeyId)]);
        });
    }

    /// <summary>Revokes one host credential: deleted, its requests refused from this commit on (see <see cref="RotateCredential"/>).</summary>
    public HostCredentialRecord RevokeCredential(string accessKeyId) =>
        store.Write("RevokeHostCredential", null, s =>
        {
            var credential = s.FindHostCredential(accessKeyId) ?? throw new EcsException(EcsErrors.HostCredentialNotFound(accessKeyId));
            s.DeleteHostCredential(credential);
            return credential;
        });

    /// <summary>
    /// The primary NIC of <paramref name="instanceId"/> (of whichever account): its primary ENI, or a
    /// classic instance's NIC. See <see cref="BindNetworkInterface"/>.
    /// </summary>
    public HostBindingRecord Bind(string instanceId, string hostName, string interfaceName)
    {
        var (host, name) = (HostNames.Host(hostName), HostNames.Interface(interfaceName));
        var id = InstanceIdOf(instanceId);
        var owner = store.Read(s => s.FindInstanceOwner(id)) ?? throw new EcsException(EcsErrors.InstanceNotFound(instanceId));
        return Bind(owner, host, name, s => PrimaryNic(s, owner, id, instanceId));
    }

    /// <summary>An instance's primary NIC: its primary ENI, or a classic instance's NIC.</summary>
    private static Nic PrimaryNic(IStoreSession s, long owner, InstanceId id, string text)
    {
        var instance = s.Instances.Find(owner, id) ?? throw new EcsException(EcsErrors.InstanceNotFound(text));
        return s.NetworkInterfacesOf(id).FirstOrDefault(e => e.Type == NetworkInterfaceType.Primary) is { } primary
            ? Nic.Of(primary)
            : new Nic(id, null, [.. instance.PrivateAddresses]);
    }

    /// <summary>
    /// The ENI <paramref name="networkInterfaceId"/> (of whichever account, primary or secondary,
    /// attached to an instance) is carried by <paramref name="interfaceName"/> on
    /// <paramref name="hostName"/>: refused unless the host is declared, the interface matches its
    /// patterns, every private address of that ENI is in its address space, and no other NIC sits on
    /// that interface. Binding again moves it. Each ENI of an instance is its own NIC on its own port.
    /// The change is the owning account's (a revision of its own: its feed and its in-sync status move).
    /// </summary>
    public HostBindingRecord BindNetworkInterface(string networkInterfaceId, string hostName, string interfaceName)
    {
        var (host, name) = (HostNames.Host(hostName), HostNames.Interface(interfaceName));
        var id = NetworkInterfaceIdOf(networkInterfaceId);
        var owner = store.Read(s => s.FindNetworkInterfaceOwner(id)) ?? throw new EcsException(EcsErrors.NetworkInterfaceNotFound(networkInterfaceId));
        return Bind(owner, host, name, s =>
        {
            var eni = s.NetworkInterfaces.Find(owner, id) ?? throw new EcsException(EcsErrors.NetworkInterfaceNotFound(networkInterfaceId));
            // An ENI not attached has no port: it is bound once attached (detaching unbinds it).
            return eni.InstanceId is null ? throw new EcsException(EcsErrors.EniStateWrong(id.Value, eni.Status, "InUse (attached to an instance)")) : Nic.Of(eni);
        });
    }

    /// <param name="host">A host name already parsed (<see cref="HostNames.Host"/>).</param>
    /// <param name="name">An interface name already parsed (<see cref="HostNames.Interface"/>).</param>
    private HostBindingRecord Bind(long owner, string host, string name, Func<IStoreSession, Nic> nicOf)
    {
        return store.Write("BindHostInterface", owner, s =>
        {
            // One interface carries one NIC of any account: the accounts' own locks do not cover that.
            s.SerializeWith("host:" + host);
            return BindIn(s, owner, host, name, nicOf);
        });
    }

    /// <summary>One binding inside a write that holds the host's lock: checked, saved, on the tenant's trail.</summary>
    private HostBindingRecord BindIn(IStoreSession s, long owner, string host, string name, Func<IStoreSession, Nic> nicOf)
    {
        var declared = s.FindHost(host) ?? throw new EcsException(EcsErrors.HostNotDeclared(host));
        var nic = nicOf(s);
        Check(host, declared.Declaration, nic, name);
        var binding = new HostBindingRecord(nic.InstanceId, owner, host, name, Time.Truncate(clock.GetUtcNow())) { NetworkInterfaceId = nic.Eni };
        if (s.FindHostBindingByInterface(host, name) is { } other && other.Nic != binding.Nic)
            throw new EcsException(EcsErrors.InterfaceInUse(host, name, other.Nic));
        var current = nic.Eni is { } eni ? s.FindHostBinding(eni) : s.FindHostBinding(nic.InstanceId);
        if (current is not null && current.HostName == host && current.InterfaceName == name)
            return current;
        s.SaveHostBinding(binding);
        s.AddTrail(OperatorEvent("BindHostInterface", binding));
        return binding;
    }

    /// <summary>
    /// The primary NICs of several instances bound on one host, each exactly as <see cref="Bind"/>
    /// binds it, in the order given, in one write per owning account (all of that account's or none:
    /// the first refusal refuses its write whole): the operator bringing up a host with its NICs, or
    /// seeding a fleet (issue 17's bench: one write a host instead of one a NIC).
    /// </summary>
    public IReadOnlyList<HostBindingRecord> BindAll(string hostName, IReadOnlyList<(string InstanceId, string InterfaceName)> nics)
    {
        var host = HostNames.Host(hostName);
        var parsed = nics.Select(n => (Id: InstanceIdOf(n.InstanceId), Text: n.InstanceId, Name: HostNames.Interface(n.InterfaceName))).ToList();
        var owners = store.Read(s => parsed.Select(n => s.FindInstanceOwner(n.Id)).ToList());
        if (owners.IndexOf(null) is var missing and >= 0)
            throw new EcsException(EcsErrors.InstanceNotFound(parsed[missing].Text));
        var bound = new List<HostBindingRecord>(parsed.Count);
        foreach (var account in owners.Select(o => o!.Value).Distinct())
        {
            var mine = parsed.Where((_, i) => owners[i] == account).ToList();
            bound.AddRange(store.Write("BindHostInterface", account, s =>
            {
                s.SerializeWith("host:" + host);
                return mine.Select(n => BindIn(s, account, host, n.Name, t => PrimaryNic(t, account, n.Id, n.Text))).ToList();
            }));
        }
        return bound;
    }

    /// <summary>
    /// The event of an operator's bind or unbind on the NIC's tenant's action trail (its revision is
    /// the tenant's too): which NIC, and the host and interface it was bound to or left — what the
    /// tenant reads of its own NIC in <c>DescribeHostInterfaces</c>, never another NIC of the host.
    /// No AccessKey and no API version: no API call made it. Only a committed change is recorded; an
    /// operator's refused attempt is not the tenant's business (it may name another tenant's NIC).
    /// </summary>
    private ActionTrailEntry OperatorEvent(string action, HostBindingRecord b)
    {
        var parameters = new Dictionary<string, string> { ["InstanceId"] = b.InstanceId.Value };
        if (b.NetworkInterfaceId is { } eni)
            parameters["NetworkInterfaceId"] = eni.Value;
        parameters["HostName"] = b.HostName;
        parameters["InterfaceName"] = b.InterfaceName;
        return new ActionTrailEntry(clock.GetUtcNow(), b.AccountId, AccessKeyId: "", action, ApiVersion: "", RequestId: Guid.NewGuid().ToString("D").ToUpperInvariant(),
            System.Text.Json.JsonSerializer.Serialize(parameters), 200, ActionTrailEntry.Ok);
    }

    /// <summary>The instance's primary NIC is carried by no host any more.</summary>
    public HostBindingRecord Unbind(string instanceId)
    {
        var id = InstanceIdOf(instanceId);
        var owner = store.Read(s => s.FindInstanceOwner(id)) ?? throw new EcsException(EcsErrors.InstanceNotFound(instanceId));
        return Unbind(owner, s => s.FindHostBinding(id) ?? throw new EcsException(EcsErrors.InstanceNotBound(instanceId)));
    }

    /// <summary>The ENI is carried by no host any more.</summary>
    public HostBindingRecord UnbindNetworkInterface(string networkInterfaceId)
    {
        var id = NetworkInterfaceIdOf(networkInterfaceId);
        var owner = store.Read(s => s.FindNetworkInterfaceOwner(id)) ?? throw new EcsException(EcsErrors.NetworkInterfaceNotFound(networkInterfaceId));
        return Unbind(owner, s => s.FindHostBinding(id) ?? throw new EcsException(EcsErrors.NetworkInterfaceNotBound(networkInterfaceId)));
    }

    private HostBindingRecord Unbind(long owner, Func<IStoreSession, HostBindingRecord> bindingOf) =>
        store.Write("UnbindHostInterface", owner, s =>
        {
            var current = bindingOf(s);
            s.DeleteHostBinding(current);
            s.AddTrail(OperatorEvent("UnbindHostInterface", current));
            return current;
        });

    /// <summary>The declared hosts.</summary>
    public IReadOnlyList<HostRecord> ListHosts() => store.Read(s => s.ListHosts());

    /// <summary>Every binding on a host (every account's), or on every host.</summary>
    public IReadOnlyList<HostBindingRecord> ListBindings(string? hostName) =>
        store.Read(s => hostName is null
            ? [.. s.ListHosts().SelectMany(h => s.ListBindingsOnHost(h.HostName))]
            : s.ListBindingsOnHost(HostNames.Host(hostName)));

    /// <summary>
    /// Turns flow sampling on or off for a declared host (issue 20): off, its agent is told not to
    /// sample and whatever flows it sends anyway are dropped. Flows kept before stay until the retention ends.
    /// </summary>
    public void SetFlowSampling(string hostName, bool on)
    {
        var host = HostNames.Host(hostName);
        store.Write("SetHostFlowSampling", null, s =>
        {
            if (s.FindHost(host) is null)
                throw new EcsException(EcsErrors.HostNotDeclared(host));
            s.SetFlowSampling(host, on, Time.Truncate(clock.GetUtcNow()));
            return true;
        });
    }

    /// <summary>Whether the host's agent samples flows (the operator has not switched it off).</summary>
    public bool SamplesFlows(string hostName) => !store.Read(s => s.FlowSamplingOff(HostNames.Host(hostName)));

    /// <summary>A NIC a binding names: an ENI (with its own addresses), or a classic instance's NIC.</summary>
    private sealed record Nic(InstanceId InstanceId, NetworkInterfaceId? Eni, IReadOnlyList<IpAddress> PrivateAddresses)
    {
        public static Nic Of(NetworkInterfaceRecord eni) => new(eni.InstanceId!.Value, eni.Id, eni.PrivateAddresses);
    }

    private static Nic NicOf(IStoreSession s, HostBindingRecord b)
    {
        if (b.NetworkInterfaceId is { } eni)
            return Nic.Of(s.NetworkInterfaces.Find(b.AccountId, eni) ?? throw new EcsException(EcsErrors.NetworkInterfaceNotFound(eni.Value)));
        var instance = s.Instances.Find(b.AccountId, b.InstanceId) ?? throw new EcsException(EcsErrors.InstanceNotFound(b.InstanceId.Value));
        return new Nic(b.InstanceId, null, [.. instance.PrivateAddresses]);
    }

    /// <summary>The interface is one the host declares, and every private address of the NIC (the ENI's own, not its instance's other ENIs') is in its address space.</summary>
    private static void Check(string host, HostDeclaration declaration, Nic nic, string interfaceName)
    {
        if (!declaration.Admits(interfaceName))
            throw new EcsException(EcsErrors.InterfaceOutsideDeclaration(host, interfaceName, declaration.Patterns));
        foreach (var address in nic.PrivateAddresses)
        {
            if (!declaration.Carries(address))
                throw new EcsException(EcsErrors.AddressOutsideDeclaration(host, nic.Eni?.Value ?? nic.InstanceId.Value, address.ToString(), declaration.Space));
        }
    }

    private static InstanceId InstanceIdOf(string text) =>
        InstanceId.TryParse(text, out var id) ? id : throw new EcsException(EcsErrors.InstanceIdMalformed(text));

    private static NetworkInterfaceId NetworkInterfaceIdOf(string text) =>
        NetworkInterfaceId.TryParse(text, out var id) ? id : throw new EcsException(EcsErrors.NetworkInterfaceNotFound(text));
}
