using System.Globalization;
using System.Security.Cryptography;
using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, read by <c>palisade agent</c> with its host credential (issue 18), for its
/// own host only: in one consistent read, the NICs bound to the host — of every account — and, per
/// account, the part of its region those NICs' policies depend on as a state file (the document
/// <c>palisade export</c> writes), from which the agent compiles each NIC's policy with the engine
/// the server itself uses. <c>Revision</c> is the host's: the server's global revision at that
/// read, which orders every account's changes and is what the agent waits after on its feed and
/// reports as applied. No account's key may call it. Each bound ENI is its own NIC
/// (<c>NetworkInterfaceId</c>, empty only for a classic instance's NIC): the agent enforces its own
/// groups on its own interface; the state holds its instance with every ENI.
/// <para>
/// With <c>PerNic=true</c> (issue 17, the incremental fetch) each bound instance's part (what the
/// policies of its bound ENIs depend on, in its account's state) has a digest: each account's <c>Nics.Nic[]{InstanceId,
/// Digest, Changed}</c>. The agent sends the digests it holds (<c>KnownNic.N.InstanceId</c>,
/// <c>KnownNic.N.Digest</c>); for a NIC whose digest differs, the answer lists the IDs its part
/// holds (<c>SecurityGroupsIds</c>, <c>InstancesIds</c>, <c>NetworkInterfacesIds</c>,
/// <c>PrefixListsIds</c>, <c>PortRangeListsIds</c>: the state file's list names), and the account's <c>State</c> holds the union of
/// its changed NICs' parts, each resource once. An account's part is the union of its NICs' parts,
/// so the agent rebuilds it from what it holds for unchanged NICs and what came; without digests it
/// is a full fetch.
/// </para>
/// </summary>
internal sealed class DescribeHostPolicy : EcsAction, IHostAgentAction
{
    public bool HostOnly => true;

    public override bool Mutates => false;

    /// <summary>At most this many digests in one request (more NICs than a host carries).</summary>
    private const int MaxKnownNics = 1000;

    public override EcsObject Execute(ActionContext c)
    {
        var host = HostAccess.HostOf(c);
        var region = c.Region();
        var perNic = c.Parameters.Bool("PerNic");
        var known = KnownDigests(c.Parameters);
        if (known.Count > 0 && !perNic)
            throw new EcsException(EcsErrors.ParameterInvalid("KnownNic", "digests are compared only with PerNic=true."));
        return c.Read(s =>
        {
            var revision = s.CurrentRevision();
            var bindings = s.ListBindingsOnHost(host);
            return new EcsObject
            {
                { "Revision", revision },
                { "HostName", host },
                { "HostInterfaces", EcsList.Of("HostInterface", bindings.Select(b => new EcsObject
                    {
                        { "AccountId", Id(b.AccountId) },
                        { "InstanceId", b.InstanceId.Value },
                        { "NetworkInterfaceId", b.NetworkInterfaceId?.Value ?? "" },
                        { "InterfaceName", b.InterfaceName },
                    })) },
                { "Accounts", EcsList.Of("Account", bindings.GroupBy(b => b.AccountId).OrderBy(g => g.Key).Select(g =>
                    {
                        var account = new EcsObject
                        {
                            { "AccountId", Id(g.Key) },
                            { "AccountRevision", s.AccountRevisionAt(g.Key, revision) },
                        };
                        // A part is an instance's (with every ENI): two of its ENIs bound here share one.
                        var nics = g.Select(b => b.InstanceId).Distinct().ToList();
                        if (!perNic)
                            account.Add("State", StateExport.Body(s, g.Key, region.RegionId, nics.ToHashSet()));
                        else
                            AddParts(account, new StateExport.Source(s, g.Key, region.RegionId), nics, known);
                        return account;
                    })) },
            };
        });
    }

    /// <summary>
    /// An account's NICs on the host with their parts' digests, and the union of the changed parts as
    /// its <c>State</c>. NICs that share groups have parts that overlap most of the account, so a part
    /// is not rendered to be hashed: each resource is rendered and hashed once per answer, and a
    /// part's digest is the hash of its resources' kinds, IDs and hashes in the part's order — it
    /// changes exactly when the part's rendering would. Only the changed parts' union is rendered.
    /// </summary>
    private static void AddParts(EcsObject account, StateExport.Source source, IReadOnlyList<InstanceId> nics, IReadOnlyDictionary<string, string> known)
    {
        var resources = new Dictionary<(char Kind, string Id), byte[]>();
        byte[] HashOf(char kind, string id, Func<EcsObject> render)
        {
            if (!resources.TryGetValue((kind, id), out var hash))
                resources.Add((kind, id), hash = SHA256.HashData(ResponseWriter.Json(render())));
            return hash;
        }
        var changed = new HashSet<InstanceId>();
        account.Add("Nics", EcsList.Of("Nic", nics.Select(instance =>
        {
            var part = StateExport.Select(source, new HashSet<InstanceId> { instance });
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Add(char kind, string id, Func<EcsObject> render)
            {
                digest.AppendData([(byte)kind]);
                digest.AppendData(System.Text.Encoding.UTF8.GetBytes(id));
                digest.AppendData(HashOf(kind, id, render));
            }
            foreach (var g in part.Groups)
                Add('g', g.Id.Value, () => StateExport.GroupItem(source, g));
            foreach (var i in part.Instances)
                Add('i', i.Id.Value, () => StateExport.InstanceItem(source, i));
            foreach (var e in part.Interfaces)
                Add('e', e.Id.Value, () => StateExport.InterfaceItem(source, e));
            foreach (var l in part.PrefixLists)
                Add('p', l.Id.Value, () => PrefixLists.PrefixListRequests.Attributes(l));
            foreach (var l in part.PortRangeLists)
                Add('r', l.Id.Value, () => PortRangeLists.PortRangeListRequests.Attributes(l));
            var hex = Convert.ToHexStringLower(digest.GetHashAndReset())[..32];
            var nic = new EcsObject { { "InstanceId", instance.Value }, { "Digest", hex } };
            var isChanged = !known.TryGetValue(instance.Value, out var held) || held != hex;
            nic.Add("Changed", isChanged);
            if (isChanged)
            {
                changed.Add(instance);
                // Named after the state file's lists, as the agent reads them (StateParts.Lists).
                nic.Add("SecurityGroupsIds", EcsList.Of("SecurityGroupId", part.Groups.Select(g => g.Id.Value)));
                nic.Add("InstancesIds", EcsList.Of("InstanceId", part.Instances.Select(i => i.Id.Value)));
                nic.Add("NetworkInterfacesIds", EcsList.Of("NetworkInterfaceId", part.Interfaces.Select(e => e.Id.Value)));
                nic.Add("PrefixListsIds", EcsList.Of("PrefixListId", part.PrefixLists.Select(l => l.Id.Value)));
                nic.Add("PortRangeListsIds", EcsList.Of("PortRangeListId", part.PortRangeLists.Select(l => l.Id.Value)));
            }
            return nic;
        }).ToList()));
        // The changed NICs' parts once, as their union (what a narrowed answer for them is): a
        // resource that several parts share is sent once.
        account.Add("State", StateExport.Body(source, changed));
    }

    private static Dictionary<string, string> KnownDigests(ParameterReader p)
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (index, fields) in p.Objects("KnownNic", MaxKnownNics))
        {
            var instance = fields.GetValueOrDefault("InstanceId") is { Length: > 0 } id
                ? Lookups.InstanceIdOf(id).Value
                : throw new EcsException(EcsErrors.Missing($"KnownNic.{index}.InstanceId"));
            var digest = fields.GetValueOrDefault("Digest") ?? "";
            if (digest.Length != 32 || !digest.All(char.IsAsciiHexDigitLower))
                throw new EcsException(EcsErrors.ParameterInvalid($"KnownNic.{index}.Digest", $"'{digest}' is not a digest this server gave (32 lowercase hex digits)."));
            known[instance] = digest;
        }
        return known;
    }

    private static string Id(long accountId) => accountId.ToString(CultureInfo.InvariantCulture);
}
