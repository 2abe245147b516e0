using System.Security.Cryptography;
using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Server.Actions.Analysis;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, read by <c>palisade agent</c>: in one consistent read, the revision, the NICs
/// bound to <c>HostName</c>, and the part of the account's region those NICs' policies depend on
/// as a state file (the document <c>palisade export</c> writes), from which the agent compiles each
/// NIC's policy with the engine the server itself uses. Both revisions are the account's own
/// (<c>AccountRevision</c> is kept for clients that read it).
/// <para>
/// With <c>PerNic=true</c> (issue 17, the incremental fetch) each NIC's part (what its policy alone
/// depends on) has a digest: <c>Nics.Nic[]{InstanceId, Digest, Changed}</c>. The agent sends the
/// digests it holds (<c>KnownNic.N.InstanceId</c>, <c>KnownNic.N.Digest</c>); for a NIC whose digest
/// differs, the answer lists the IDs its part holds (<c>SecurityGroupIds</c>, <c>InstanceIds</c>,
/// <c>PrefixListIds</c>, <c>PortRangeListIds</c>), and <c>State</c> holds the union of the changed
/// NICs' parts, each resource once. The host's part is the union of its NICs' parts, so the agent
/// rebuilds it from what it holds for unchanged NICs and what came; without digests it is a full fetch.
/// </para>
/// </summary>
internal sealed class DescribeHostPolicy : EcsAction
{
    public override bool Mutates => false;

    /// <summary>At most this many digests in one request (more NICs than a host carries).</summary>
    private const int MaxKnownNics = 1000;

    public override EcsObject Execute(ActionContext c)
    {
        var host = HostNames.Host(c.Parameters.Required("HostName"));
        var region = c.Region();
        var perNic = c.Parameters.Bool("PerNic");
        var known = KnownDigests(c.Parameters);
        if (known.Count > 0 && !perNic)
            throw new EcsException(EcsErrors.ParameterInvalid("KnownNic", "digests are compared only with PerNic=true."));
        return c.Read(s =>
        {
            var bindings = s.ListHostBindings(c.AccountId, host);
            // The account's own revision: the state below is the account's alone, and it changes only with it.
            var revision = s.LatestRevision(c.AccountId);
            var answer = new EcsObject
            {
                { "Revision", revision },
                { "AccountRevision", revision },
                { "HostName", host },
                { "HostInterfaces", EcsList.Of("HostInterface", bindings.Select(b => new EcsObject
                    {
                        { "InstanceId", b.InstanceId.Value },
                        { "InterfaceName", b.InterfaceName },
                    })) },
            };
            if (!perNic)
            {
                answer.Add("State", StateExport.Body(s, c.AccountId, region.RegionId, bindings.Select(b => b.InstanceId).ToHashSet()));
                return answer;
            }
            var source = new StateExport.Source(s, c.AccountId, region.RegionId);
            var changed = new HashSet<InstanceId>();
            answer.Add("Nics", EcsList.Of("Nic", bindings.Select(b =>
            {
                var part = ResponseWriter.Json(StateExport.Body(source, new HashSet<InstanceId> { b.InstanceId }));
                var digest = Convert.ToHexStringLower(SHA256.HashData(part))[..32];
                var nic = new EcsObject { { "InstanceId", b.InstanceId.Value }, { "Digest", digest } };
                var isChanged = !known.TryGetValue(b.InstanceId.Value, out var held) || held != digest;
                nic.Add("Changed", isChanged);
                if (isChanged)
                {
                    changed.Add(b.InstanceId);
                    foreach (var (list, item, id) in PartLists)
                        nic.Add(list + "Ids", EcsList.Of(item, IdsIn(part, list, id)));
                }
                return nic;
            }).ToList()));
            // The changed NICs' parts once, as their union (what a narrowed answer for them is): a
            // resource that several parts share is sent once.
            answer.Add("State", StateExport.Body(source, changed));            return answer;
        });
    }

    /// <summary>The lists of a part, the name of their IDs' list in a NIC's answer, and the ID field of their items.</summary>
    private static readonly (string List, string Item, string Id)[] PartLists =
        [("SecurityGroups", "SecurityGroupId", "SecurityGroupId"), ("Instances", "InstanceId", "InstanceId"), ("PrefixLists", "PrefixListId", "PrefixListId"), ("PortRangeLists", "PortRangeListId", "PortRangeListId")];

    private static List<string> IdsIn(byte[] part, string list, string id)
    {
        using var document = System.Text.Json.JsonDocument.Parse(part);
        return document.RootElement.TryGetProperty(list, out var items)
            ? [.. items.EnumerateArray().Select(i => i.GetProperty(id).GetString()!)]
            : [];
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
}
