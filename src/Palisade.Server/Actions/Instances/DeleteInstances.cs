namespace Palisade.Server.Actions.Instances;

/// <summary>Deleting an instance takes it out of all its groups; a Running one needs <c>Force=true</c>.</summary>
internal sealed class DeleteInstance : WriteAction
{
    public override EcsObject Execute(ActionContext c)
    {
        var idText = c.Parameters.Required("InstanceId");
        Lookups.InstanceIdOf(idText);
        var force = c.Parameters.Bool("Force");
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
        s.DeleteInstance(instance.Id);
    }
}

internal sealed class DeleteInstances : WriteAction
{
    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var ids = c.Parameters.List("InstanceId", 100);
        if (ids.Count == 0)
            throw new EcsException(EcsErrors.Missing("InstanceId.1"));
        foreach (var id in ids)
            Lookups.InstanceIdOf(id);
        var force = c.Parameters.Bool("Force");
        return c.Write(s =>
        {
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
                DeleteInstance.Remove(s, c, id, force);
            return [];
        });
    }
}
