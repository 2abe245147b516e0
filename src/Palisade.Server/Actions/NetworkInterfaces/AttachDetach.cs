namespace Palisade.Server.Actions.NetworkInterfaces;

/// <summary>
/// AttachNetworkInterface: an <c>Available</c> secondary ENI to a <c>Running</c> or <c>Stopped</c>
/// VPC instance of its VPC and zone, within the instance's ENI limit. ECS attaches asynchronously
/// (<c>Attaching</c>); Palisade at once, so the ENI is <c>InUse</c> when the call returns.
/// </summary>
internal sealed class AttachNetworkInterface : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        return NetworkInterfaceRules.WriteAttachment(c, (s, eni, instance) =>
        {
            if (eni.InstanceId is not null)
                throw new EcsException(EcsErrors.EniStateWrong(eni.Id.Value, eni.Status, "Available"));
            if (instance.Status is not ("Running" or "Stopped"))
                throw new EcsException(EcsErrors.EcsStateWrong(instance.Status));
            if (instance.NetworkType != NetworkType.Vpc || instance.VpcId != eni.VpcId)
                throw new EcsException(EcsErrors.EniVpcMismatch());
            if (instance.ZoneId != eni.ZoneId)
                throw new EcsException(EcsErrors.EniZoneMismatch(eni.ZoneId, instance.ZoneId));
            if (s.NetworkInterfacesOf(instance.Id).Count >= c.Limits.NetworkInterfacesPerInstance)
                throw new EcsException(EcsErrors.EniPerInstanceLimit(c.Limits.NetworkInterfacesPerInstance));
            s.SetNetworkInterfaceInstance(eni.Id, instance.Id);
            return [];
        });
    }
}

/// <summary>DetachNetworkInterface: a secondary ENI from the instance it is attached to; it becomes <c>Available</c> with its addresses and groups.</summary>
internal sealed class DetachNetworkInterface : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        return NetworkInterfaceRules.WriteAttachment(c, (s, eni, instance) =>
        {
            if (eni.Type == NetworkInterfaceType.Primary)
                throw new EcsException(EcsErrors.DetachPrimaryEni());
            if (eni.InstanceId != instance.Id)
                throw new EcsException(EcsErrors.EniStateWrong(eni.Id.Value, eni.InstanceId is null ? "Available" : "attached to another instance", $"attached to {instance.Id.Value}"));
            if (instance.Status is not ("Running" or "Stopped"))
                throw new EcsException(EcsErrors.EcsStateWrong(instance.Status));
            s.SetNetworkInterfaceInstance(eni.Id, null);
            return [];
        });
    }
}

/// <summary>DeleteNetworkInterface: only an <c>Available</c> ENI (a primary one goes with its instance).</summary>
internal sealed class DeleteNetworkInterface : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var eniText = p.Required("NetworkInterfaceId");
        return c.Write(s =>
        {
            var eni = s.NetworkInterface(c, eniText);
            if (eni.InstanceId is not null)
                throw new EcsException(EcsErrors.EniStateWrong(eni.Id.Value, eni.Status, "Available (detached)"));
            s.NetworkInterfaces.Delete(eni.Id);
            return [];
        });
    }
}
