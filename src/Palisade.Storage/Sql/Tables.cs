using Palisade.Storage.Records;

namespace Palisade.Storage.Sql;

/// <summary>
/// An account's resource table as data, from which <see cref="SqlSession"/> writes every statement
/// its families share (<c>SqlSession.Tables.cs</c>): a find by key and a list or count by region,
/// each scoped by <paramref name="Owner"/>; an insert of a row; a delete with the rows of its
/// <see cref="Parts"/> and its tags.
/// </summary>
/// <param name="Name">The table.</param>
/// <param name="Key">Its primary key: the resource's ID. Its <see cref="Parts"/> name their resource by a column of the same name.</param>
/// <param name="Owner">The column naming the account a row belongs to: every find, list and count is scoped by it, so a tenant never reads another's rows.</param>
/// <param name="ListOrder">The order of a list (the family's Describe action pages in it).</param>
/// <param name="TagType">The resource type its tags are kept under (deleted with it), or null for a family without tags.</param>
internal sealed record Table(string Name, string Key, string Owner, string ListOrder, string? TagType = null)
{
    /// <summary>The tables of a resource's parts (rules, entries, addresses, memberships), deleted before it.</summary>
    public IReadOnlyList<string> Parts { get; init; } = [];
}

/// <summary>A list family: its lists' table, whose one part holds the entries (a value and a description each, in order), and which rules use a list.</summary>
/// <param name="Value">The entries' value column.</param>
/// <param name="UsedBy">The condition on <c>security_group_rules</c> of a rule naming list <c>@id</c> (<c>@kind</c>: the prefix-list peer kind).</param>
internal sealed record EntryList(Table Lists, string Value, string UsedBy)
{
    public string Entries => Lists.Parts.Single();
}

/// <summary>The account resource families: one descriptor each.</summary>
internal static class Tables
{
    private const string Account = "account_id";

    public static readonly Table Vpcs = new("vpcs", "vpc_id", Account, "created_at DESC, vpc_id DESC");

    public static readonly Table VSwitches = new("vswitches", "vswitch_id", Account, "created_at DESC, vswitch_id DESC");

    public static readonly Table Groups = new("security_groups", "security_group_id", Account, "security_group_id DESC", TaggedResourceTypes.SecurityGroup)
    {
        Parts = ["security_group_rules"],
    };

    public static readonly Table Instances = new("instances", "instance_id", Account, "created_at DESC, instance_id DESC", TaggedResourceTypes.Instance)
    {
        Parts = ["memberships", "host_bindings", "instance_addresses"],
    };

    public static readonly Table NetworkInterfaces = new("network_interfaces", "network_interface_id", Account, "created_at DESC, network_interface_id DESC", TaggedResourceTypes.NetworkInterface)
    {
        Parts = ["network_interface_groups", "network_interface_addresses"],
    };

    public static readonly Table Eips = new("eip_addresses", "allocation_id", Account, "allocated_at DESC, allocation_id DESC");

    public static readonly EntryList PrefixLists = new(
        new("prefix_lists", "prefix_list_id", Account, "prefix_list_id", TaggedResourceTypes.PrefixList) { Parts = ["prefix_list_entries"] },
        "cidr", "peer_kind = @kind AND peer_value = @id");

    public static readonly EntryList PortRangeLists = new(
        new("port_range_lists", "port_range_list_id", Account, "port_range_list_id", TaggedResourceTypes.PortRangeList) { Parts = ["port_range_list_entries"] },
        "port_range", "port_range_list_id = @id");

    /// <summary>Every family's table (the tests check each is scoped by account).</summary>
    public static IReadOnlyList<Table> All { get; } = [Vpcs, VSwitches, Groups, Instances, NetworkInterfaces, Eips, PrefixLists.Lists, PortRangeLists.Lists];
}
