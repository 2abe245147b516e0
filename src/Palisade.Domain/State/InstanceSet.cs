using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;

namespace Palisade.Domain.State;

/// <summary>
/// The instances gone or come in a state's change (<see cref="NetworkState.WithInstances(System.Collections.Immutable.ImmutableArray{Instance}, IReadOnlyCollection{Instance}, IReadOnlyCollection{Instance})"/>),
/// asked of each instance and member of the state whether it is one of them: by a walk of them while they are few,
/// through a set of them (by reference) and of their IDs once they are more than <see cref="WalkedUpTo"/>
/// (twenty-fifth session: a leave of many instances asked it of every instance and member, quadratic). The walks
/// are the slow twins (<c>InstanceSetTests</c>).
/// </summary>
internal sealed class InstanceSet
{
    /// <summary>Up to how many instances a question walks them.</summary>
    internal const int WalkedUpTo = 8;

    private readonly HashSet<Instance>? _instances;
    private readonly HashSet<InstanceId>? _ids;

    public InstanceSet(Instance[] items)
    {
        Items = items;
        if (items.Length <= WalkedUpTo)
            return;
        _instances = new HashSet<Instance>(items, ReferenceEqualityComparer.Instance);
        _ids = [.. items.Select(i => i.Id)];
    }

    public Instance[] Items { get; }

    public int Length => Items.Length;

    /// <summary>Whether <paramref name="instance"/> is one of these (the same object).</summary>
    public bool Holds(Instance instance) => _instances?.Contains(instance) ?? HoldsWalked(instance);

    /// <summary><see cref="Holds"/> by a walk: the twin.</summary>
    internal bool HoldsWalked(Instance instance)
    {
        foreach (var other in Items)
        {
            if (ReferenceEquals(other, instance))
                return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="member"/> is an ENI of one of these (<see cref="IsOf"/>).</summary>
    public bool HoldsEniOf(Instance member) =>
        _instances is null ? HoldsEniOfWalked(member) : _instances.Contains(member) || (member.IsSecondaryInterface && _ids!.Contains(member.Id));

    /// <summary><see cref="HoldsEniOf"/> by a walk: the twin.</summary>
    internal bool HoldsEniOfWalked(Instance member)
    {
        foreach (var instance in Items)
        {
            if (IsOf(member, instance))
                return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="member"/> is an ENI of <paramref name="instance"/>: the instance itself or a view of one of its secondary ENIs.</summary>
    internal static bool IsOf(Instance member, Instance instance) =>
        ReferenceEquals(member, instance) || (member.IsSecondaryInterface && member.Id == instance.Id);
}
