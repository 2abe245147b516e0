using Palisade.Server.Actions.Analysis;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension, read by <c>palisade agent</c>: in one consistent read, the revision, the NICs
/// bound to <c>HostName</c>, and the part of the account's region those NICs' policies depend on
/// as a state file (the document <c>palisade export</c> writes), from which the agent compiles each
/// NIC's policy with the engine the server itself uses. Both revisions are the account's own
/// (<c>AccountRevision</c> is kept for clients that read it).
/// </summary>
internal sealed class DescribeHostPolicy : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var host = HostNames.Host(c.Parameters.Required("HostName"));
        var region = c.Region();
        return c.Read(s =>
        {
            var bindings = s.ListHostBindings(c.AccountId, host);
            // The account's own revision: the state below is the account's alone, and it changes only with it.
            var revision = s.LatestRevision(c.AccountId);
            return new EcsObject
            {
                { "Revision", revision },
                { "AccountRevision", revision },
                { "HostName", host },
                { "HostInterfaces", EcsList.Of("HostInterface", bindings.Select(b => new EcsObject
                    {
                        { "InstanceId", b.InstanceId.Value },
                        { "InterfaceName", b.InterfaceName },
                    })) },
                { "State", StateExport.Body(s, c.AccountId, region.RegionId, bindings.Select(b => b.InstanceId).ToHashSet()) },
            };
        });
    }
}
