using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Palisade extension: the NIC of <c>InstanceId</c> is carried by <c>InterfaceName</c> (the host end
/// of a veth pair or a tap device) on <c>HostName</c>, whose agent then enforces the instance's
/// groups there. Binding again moves the instance; one interface carries one instance.
/// </summary>
internal sealed class BindHostInterface : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var p = c.Parameters;
        var instanceId = c.InstanceIdParameter();
        var host = HostNames.Host(p.Required("HostName"));
        var interfaceName = HostNames.Interface(p.Required("InterfaceName"));
        return c.WriteInstance(instanceId, (s, instance) =>
        {
            // One interface carries one instance of any account: the accounts' own locks do not cover that.
            s.SerializeWith("host:" + host);
            if (s.FindHostBindingByInterface(host, interfaceName) is { } other && other.InstanceId != instance.Id)
                throw new EcsException(EcsErrors.InterfaceInUse(host, interfaceName, other.AccountId == c.AccountId ? other.InstanceId.Value : "of another account"));
            var current = s.FindHostBinding(instance.Id);
            if (current is not null && current.HostName == host && current.InterfaceName == interfaceName)
                return [];
            s.SaveHostBinding(new HostBindingRecord(instance.Id, c.AccountId, host, interfaceName, c.Now));
            return [];
        });
    }
}
