namespace Palisade.Server.Actions.NetworkInterfaces;

/// <summary>
/// ModifyNetworkInterfaceAttribute: <c>SecurityGroupId.N</c> replaces the ENI's whole set of groups
/// (for a primary ENI, its instance's), checked as a join is; <c>NetworkInterfaceName</c> and
/// <c>Description</c> change what is given.
/// </summary>
internal sealed class ModifyNetworkInterfaceAttribute : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var eniText = p.Required("NetworkInterfaceId");
        var groupTexts = NetworkInterfaceRules.GroupIds(p, "SecurityGroupId", c.Limits.GroupsPerInstance);
        var name = NetworkInterfaceRules.Name(p);
        var description = NetworkInterfaceRules.Description(p);
        return c.Write(s =>
        {
            var eni = s.NetworkInterface(c, eniText);
            if (groupTexts.Count > 0)
            {
                if (eni.Type == NetworkInterfaceType.Primary && s.Instances.Find(c.AccountId, eni.InstanceId!.Value) is { Status: not ("Running" or "Stopped") } instance)
                    throw new EcsException(EcsErrors.EcsStateWrong(instance.Status));
                var groups = groupTexts.Select(g => s.Group(c, g)).ToList();
                NetworkInterfaceRules.CheckGroups(s, c, eni.VpcId, groups, eni.SecurityGroupIds);
                s.SetNetworkInterfaceGroups(eni, [.. groups.Select(g => g.Id)]);
            }
            if (name is not null || description is not null)
                s.SetNetworkInterfaceAttributes(eni.Id, name ?? eni.Name, description ?? eni.Description);
            return [];
        });
    }
}
