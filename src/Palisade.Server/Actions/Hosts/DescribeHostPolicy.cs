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
/// With <c>PerNic=true</c> (issue 17, the incremental fetch) the part is answered NIC by NIC instead,
/// each with a digest of its part: <c>Nics.Nic[]{InstanceId, Digest, Changed, State}</c>. The agent
/// sends the digests it holds (<c>KnownNic.N.InstanceId</c>, <c>KnownNic.N.Digest</c>) and gets the
/// part of only the NICs whose digest differs (<c>Changed=false</c> and no <c>State</c> for the
/// others). The host's part is the union of its NICs' parts, so the agent's union of what it holds
/// and what changed is the whole answer; without digests it is a full fetch.
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
            answer.Add("Nics", EcsList.Of("Nic", bindings.Select(b =>
            {
                var part = StateExport.Body(source, new HashSet<InstanceId> { b.InstanceId });
                var digest = Digest(part);
                var changed = !known.TryGetValue(b.InstanceId.Value, out var held) || held != digest;
                var nic = new EcsObject { { "InstanceId", b.InstanceId.Value }, { "Digest", digest }, { "Changed", changed } };
                if (changed)
                    nic.Add("State", part);
                return nic;
            })));
            return answer;
        });
    }

    /// <summary>The digest of a NIC's part: the first 128 bits of SHA-256 over its JSON, as hex.</summary>
    private static string Digest(EcsObject part) => Convert.ToHexStringLower(SHA256.HashData(ResponseWriter.Json(part)))[..32];

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
