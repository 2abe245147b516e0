namespace Palisade.Server.Actions.Instances;

/// <summary>Deleting an instance takes it out of all its groups; a Running one needs <c>Force=true</c>.</summary>
internal sealed class DeleteInstance : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var idText = p.Required("InstanceId");
        Lookups.InstanceIdOf(idText);
        var force = p.Bool("Force");
        return c.Write(s =>
        {
            Remove(s, c, idText, force);
            return [];
        });
    }

    internal static void Remove(IStoreSession s, ActionContext c, string idText, bool force)
    {
        var instance = s.Instance(c, idText);
        if (instance.Status == "Running" && !force)
            throw new EcsException(EcsErrors.DeleteRunningInstance());
        s.Instances.Delete(instance.Id);
    }
}

internal sealed class DeleteInstances : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var ids = p.RequiredList("InstanceId", 100, EcsErrors.Missing("InstanceId.1"));
        foreach (var id in ids)
            Lookups.InstanceIdOf(id);
        var force = p.Bool("Force");
        return c.Write(s =>
        {
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
                DeleteInstance.Remove(s, c, id, force);
            return [];
        });
    }
}
