using System.Collections.Frozen;
using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;

namespace Palisade.Domain.State;

/// <summary>
/// Everything one region of one account holds that decides traffic: groups with their rules,
/// instances with their groups and addresses, prefix lists and port range lists. Immutable, and
/// indexed once on construction so that compiling a NIC's policy never scans the whole state.
/// </summary>
public sealed class NetworkState
{
    private FrozenDictionary<SecurityGroupId, SecurityGroup> _groups; // replaced only in a fresh copy (WithGroups)
    private readonly FrozenDictionary<InstanceId, Instance> _instances;
    private readonly FrozenDictionary<SecurityGroupId, ImmutableArray<Instance>> _members;
    private FrozenDictionary<PrefixListId, PrefixList> _prefixLists; // replaced only in a fresh copy (WithPrefixLists)
    private readonly FrozenDictionary<PortRangeListId, PortRangeList> _portRangeLists;

    public NetworkState(
        string regionId,
        IEnumerable<SecurityGroup> groups,
        IEnumerable<Instance> instances,
        IEnumerable<PrefixList>? prefixLists = null,
        IEnumerable<PortRangeList>? portRangeLists = null)
    {
        RegionId = regionId;
        Groups = [.. groups];
        Instances = [.. instances];
        PrefixLists = [.. prefixLists ?? []];
        PortRangeLists = [.. portRangeLists ?? []];
        _groups = Groups.ToFrozenDictionary(g => g.Id);
        _instances = Instances.ToFrozenDictionary(i => i.Id);
        _prefixLists = PrefixLists.ToFrozenDictionary(p => p.Id);
        _portRangeLists = PortRangeLists.ToFrozenDictionary(p => p.Id);
        _members = MembersByGroup(Instances);
    }

    /// <summary>
    /// This state with its prefix lists replaced, sharing its groups, instances and their indexes: a
    /// prefix-list edit's state after, without indexing every instance and group again.
    /// </summary>
    public NetworkState WithPrefixLists(IEnumerable<PrefixList> prefixLists)
    {
        var after = (NetworkState)MemberwiseClone();
        after.PrefixLists = [.. prefixLists];
        after._prefixLists = after.PrefixLists.ToFrozenDictionary(p => p.Id);
        return after;
    }

    /// <summary>
    /// This state with its groups replaced by groups of the same IDs, networks and types (their rules,
    /// names, tags changed), sharing its instances, lists and their indexes: the state after a rule
    /// change, without indexing every instance again (issue 17, eighteenth session: the agent's read of
    /// a rule change). The members of a group are its instances', so they stay as they are.
    /// </summary>
    public NetworkState WithGroups(IEnumerable<SecurityGroup> groups)
    {
        var after = (NetworkState)MemberwiseClone();
        after.Groups = [.. groups];
        if (after.Groups.Length != Groups.Length || after.Groups.Where((g, i) => g.Id != Groups[i].Id || g.VpcId != Groups[i].VpcId || g.Type != Groups[i].Type).Any())
            throw new ArgumentException("the groups replaced must be the same groups, in the same order, of the same networks and types", nameof(groups));
        after._groups = after.Groups.ToFrozenDictionary(g => g.Id);
        return after;
    }

    /// <summary>
    /// Each group's members in state order: its member ENIs, each once per group — an instance's
    /// primary ENI is the instance itself, a secondary ENI its view (<see cref="Instance.Interfaces"/>).
    /// A plain loop: the what-if builds a state per question, and grouping 10,000 instances through
    /// LINQ took most of its time.
    /// </summary>
    private static FrozenDictionary<SecurityGroupId, ImmutableArray<Instance>> MembersByGroup(ImmutableArray<Instance> instances)
    {
        var members = new Dictionary<SecurityGroupId, ImmutableArray<Instance>.Builder>();
        foreach (var instance in instances)
        {
            if (instance.SecondaryInterfaces.Length == 0)
                AddMember(members, instance);
            else
                foreach (var nic in instance.Interfaces)
                    AddMember(members, nic);
        }
        return members.ToFrozenDictionary(m => m.Key, m => m.Value.ToImmutable());
    }

    private static void AddMember(Dictionary<SecurityGroupId, ImmutableArray<Instance>.Builder> members, Instance instance)
    {
        {
            var groups = instance.SecurityGroupIds;
            for (var k = 0; k < groups.Length; k++)
            {
                if (groups.IndexOf(groups[k]) != k)
                    continue; // named twice: a member once
                if (!members.TryGetValue(groups[k], out var list))
                    members.Add(groups[k], list = ImmutableArray.CreateBuilder<Instance>());
                list.Add(instance);
            }
        }
    }

    public string RegionId { get; }

    public ImmutableArray<SecurityGroup> Groups { get; private set; }

    public ImmutableArray<Instance> Instances { get; }

    public ImmutableArray<PrefixList> PrefixLists { get; private set; }

    public ImmutableArray<PortRangeList> PortRangeLists { get; }

    public SecurityGroup? FindGroup(SecurityGroupId id) => _groups.GetValueOrDefault(id);

    public Instance? FindInstance(InstanceId id) => _instances.GetValueOrDefault(id);

    public PrefixList? FindPrefixList(PrefixListId id) => _prefixLists.GetValueOrDefault(id);

    public PortRangeList? FindPortRangeList(PortRangeListId id) => _portRangeLists.GetValueOrDefault(id);

    /// <summary>
    /// The ENIs in <paramref name="groupId"/>, in state order: an instance when its primary ENI is,
    /// the view of a secondary ENI (<see cref="Instance.Interfaces"/>) when that ENI is. A group's
    /// members are ENIs: a group-peer rule and inner access match the addresses of these alone.
    /// </summary>
    public ImmutableArray<Instance> MembersOf(SecurityGroupId groupId) =>
        _members.TryGetValue(groupId, out var members) ? members : [];
}
