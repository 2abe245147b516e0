namespace Palisade.Server.Actions.PrefixLists;

/// <summary>DescribePrefixLists: the lists in a <c>PrefixLists.PrefixList</c> array, also by <c>AddressFamily</c>; token paging.</summary>
internal sealed class DescribePrefixLists() : DescribeLists<PrefixListId, PrefixListRecord>(ListFamilies.PrefixLists)
{
    protected override Func<PrefixListRecord, bool> Filter(ParameterReader p)
    {
        var family = p.Optional("AddressFamily");
        if (family is not (null or "IPv4" or "IPv6"))
            throw new EcsException(EcsErrors.ParameterInvalid("AddressFamily", $"'{family}' is not IPv4 or IPv6."));
        return l => family is null || l.AddressFamily == family;
    }
}
