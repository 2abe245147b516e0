using System.Globalization;
using Palisade.Server.Actions.Analysis;
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
/// </summary>
internal sealed class DescribeHostPolicy : EcsAction, IHostAgentAction
{
    public bool HostOnly => true;

    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var host = HostAccess.HostOf(c);
        var region = c.Region();
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
                { "Accounts", EcsList.Of("Account", bindings.GroupBy(b => b.AccountId).OrderBy(g => g.Key).Select(g => new EcsObject
                    {
                        { "AccountId", Id(g.Key) },
                        { "AccountRevision", s.AccountRevisionAt(g.Key, revision) },
                        { "State", StateExport.Body(s, g.Key, region.RegionId, g.Select(b => b.InstanceId).ToHashSet()) },
                    })) },
            };
        });
    }

    private static string Id(long accountId) => accountId.ToString(CultureInfo.InvariantCulture);
}
