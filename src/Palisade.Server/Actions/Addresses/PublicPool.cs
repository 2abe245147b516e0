namespace Palisade.Server.Actions.Addresses;

/// <summary>
/// Public addresses for VPC instances and EIPs, from the server's pool (<see cref="Hosting.ServerOptions.PublicAddressPool"/>):
/// the lowest free one, unique over every account's instances and EIPs (checked inside the write, under its lock).
/// </summary>
internal static class PublicPool
{
    public static IpAddress Allocate(IStoreSession s, ActionContext c)
    {
        foreach (var block in c.PublicAddressPool)
        {
            var taken = s.PublicAddressesIn(block);
            // A block's network and broadcast addresses are never a host's (a /31 or /32 has neither).
            var (first, last) = block.PrefixLength < 31 ? (block.First + 1, block.Last - 1) : (block.First, block.Last);
            for (var v = first; v <= last; v++)
            {
                var candidate = new IpAddress(block.IsV6, v);
                if (!taken.Contains(candidate))
                    return candidate;
            }
        }
        throw new EcsException(EcsErrors.PublicPoolExhausted());
    }
}
