using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Hosts;

/// <summary>Palisade extension: the instance's NIC is no longer carried by a host; its agent forgets it.</summary>
internal sealed class UnbindHostInterface : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var instanceId = c.InstanceIdParameter();
        return c.WriteInstance(instanceId, (s, instance) =>
        {
            if (s.FindHostBinding(instance.Id) is null)
                throw new EcsException(EcsErrors.InstanceNotBound(instanceId.Value));
            s.DeleteHostBinding(instance.Id);
            return [];
        });
    }
}
