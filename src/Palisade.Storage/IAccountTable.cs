using Palisade.Domain.Identifiers;

namespace Palisade.Storage;

/// <summary>
/// One family of an account's resources (VPCs, vSwitches, groups, instances, ENIs, EIPs, prefix
/// lists, port-range lists), in a transaction. <see cref="Find"/>, <see cref="List"/> and
/// <see cref="Count"/> see the given account's rows only; <see cref="Insert"/> and
/// <see cref="Delete"/> take a record or ID the caller already found in its account. The stores
/// implement every family with one set of statements over a table descriptor (<c>Sql/Tables.cs</c>).
/// </summary>
public interface IAccountTable<TId, TRecord>
{
    void Insert(TRecord record);

    TRecord? Find(long accountId, TId id);

    /// <summary>The account's resources of the family in a region, in the order the family's Describe action answers them.</summary>
    IReadOnlyList<TRecord> List(long accountId, string regionId);

    int Count(long accountId, string regionId);

    /// <summary>Deletes the resource, with its tags and the rows that are its parts (entries, rules, addresses, memberships).</summary>
    void Delete(TId id);
}

/// <summary>Prefix lists and port-range lists: account resources whose entries keep the order they were added in.</summary>
public interface IEntryListTable<TId, TRecord> : IAccountTable<TId, TRecord>
{
    /// <summary>Replaces the name, description and entries of a list.</summary>
    void Update(TRecord list);

    /// <summary>The groups with a rule naming the list, by ID.</summary>
    IReadOnlyList<SecurityGroupId> GroupsUsing(TId id);
}
