namespace Palisade.Server.Actions.PrefixLists;

/// <summary>CreatePrefixList: a prefix list's own parameter is its <c>AddressFamily</c>, read after <c>MaxEntries</c>, before the name; the entries must be of it.</summary>
internal sealed class CreatePrefixList : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p) =>
        ListFamilies.PrefixLists.Create(c, () => IsV6(p), isV6 => PrefixListRequests.Entries(c, "Entry", isV6, withDescription: true), (id, isV6, l) =>
            new PrefixListRecord(id, c.AccountId, l.RegionId, isV6, l.MaxEntries, l.Name, l.Description, l.ResourceGroupId, l.CreatedAt, l.Entries));

    private static bool IsV6(ParameterReader p)
    {
        var family = p.Required("AddressFamily");
        if (family is not ("IPv4" or "IPv6"))
            throw new EcsException(EcsErrors.ParameterInvalid("AddressFamily", $"'{family}' is not IPv4 or IPv6."));
        return family == "IPv6";
    }
}
