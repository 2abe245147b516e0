namespace Palisade.Server.Actions.Instances;

/// <summary>StartInstance and StopInstance: the documented state changes, done at once.</summary>
internal abstract class ChangeInstanceState(string from, string to) : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var instanceId = c.InstanceIdParameter();
        return c.WriteInstance(instanceId, (s, instance) =>
        {
            if (instance.Status != from)
                throw new EcsException(EcsErrors.InstanceStatusWrong(instance.Status, from));
            s.SetInstanceStatus(instance.Id, to);
            return [];
        });
    }
}

internal sealed class StartInstance() : ChangeInstanceState("Stopped", "Running");

internal sealed class StopInstance() : ChangeInstanceState("Running", "Stopped");
