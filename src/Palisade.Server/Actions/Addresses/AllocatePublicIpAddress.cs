namespace Palisade.Server.Actions.Addresses;

/// <summary>
/// AllocatePublicIpAddress: a public address from the pool for a <c>Running</c> or <c>Stopped</c> VPC
/// instance. As ECS's current reference says, an instance that has one already gets it back (one per
/// instance); one with an EIP is refused (<c>OperationDenied</c>). <c>IpAddress</c> (whitelisted
/// users only on ECS) asks for one address of the pool.
/// </summary>
internal sealed class AllocatePublicIpAddress : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var wanted = p.Optional("IpAddress");
        return c.WriteInstance(c.InstanceIdParameter(), (s, instance) =>
        {
            if (instance.NetworkType != NetworkType.Vpc)
                throw new EcsException(EcsErrors.PublicIpClassic());
            if (instance.Status is not ("Running" or "Stopped"))
                throw new EcsException(EcsErrors.InstanceStatusWrong(instance.Status, "Running or Stopped"));
            if (instance.PublicAddresses.Where(a => !a.IsV6).Select(a => a.ToString()).FirstOrDefault() is { } have)
                return new EcsObject { { "IpAddress", have } };
            if (Eips.OfInstance(s, instance) is not null)
                throw new EcsException(EcsErrors.PublicIpWithEip());
            Domain.Networking.IpAddress address;
            if (wanted is not null)
            {
                if (!Domain.Networking.IpAddress.TryParse(wanted, out address) || !c.PublicAddressPool.Any(b => b.Contains(address)) || s.PublicAddressInUse(address))
                    throw new EcsException(EcsErrors.ParameterInvalid("IpAddress", $"'{wanted}' is not a free address of this server's public pool ({string.Join(", ", c.PublicAddressPool)})."));
            }
            else
            {
                address = PublicPool.Allocate(s, c);
            }
            s.AddPublicAddress(instance.Id, address);
            return new EcsObject { { "IpAddress", address.ToString() } };
        });
    }
}
