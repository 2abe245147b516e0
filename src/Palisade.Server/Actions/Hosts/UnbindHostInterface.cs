using Palisade.Domain.Errors;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Hosts;

/// <summary>Palisade extension: the instance's NIC is no longer carried by a host; its agent forgets it.</summary>
public sealed class UnbindHostInterface : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var idText = c.Parameters.Required("InstanceId");
        Lookups.InstanceIdOf(idText);
        return c.Write(s =>
        {
            var instance = s.Instance(c, idText);
            if (s.FindHostBinding(instance.Id) is null)
                throw new EcsException(EcsErrors.InstanceNotBound(idText));
            s.DeleteHostBinding(instance.Id);
            return [];
        });
    }
}
