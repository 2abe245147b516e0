using Palisade.Domain.Instances;
using Palisade.Domain.State;

namespace Palisade.TestKit;

/// <summary>
/// One random difference of a state's instances, as <see cref="NetworkState.WithInstances"/> takes it:
/// a leave, an instance's groups changed (one more of the first state's, or one fewer), or a join of one
/// of the first state's instances not in the state now, at a random place.
/// </summary>
public static class InstanceSteps
{
    /// <summary>The step from <paramref name="before"/> (made from <paramref name="first"/>): its instances after, those gone and those come; null when the step drawn cannot be made.</summary>
    public static (System.Collections.Immutable.ImmutableArray<Instance> Instances, List<Instance> Gone, List<Instance> Came)? Next(NetworkState first, NetworkState before, Random random)
    {
        var instances = before.Instances;
        var k = instances.Length == 0 ? -1 : random.Next(instances.Length);
        switch (random.Next(3))
        {
            case 0 when k >= 0: // a leave
                return (instances.RemoveAt(k), [instances[k]], []);
            case 1 when k >= 0 && first.Groups.Length > 0: // the instance's groups changed
                var instance = instances[k];
                var group = first.Groups[random.Next(first.Groups.Length)].Id;
                var changed = instance with { SecurityGroupIds = random.Next(2) == 0 || instance.SecurityGroupIds.Contains(group) ? [.. instance.SecurityGroupIds.Skip(1)] : instance.SecurityGroupIds.Add(group) };
                return (instances.SetItem(k, changed), [instance], [changed]);
            default: // a join
                if (first.Instances.FirstOrDefault(i => before.FindInstance(i.Id) is null) is not { } joining)
                    return null;
                return (instances.Insert(random.Next(instances.Length + 1), joining), [], [joining]);
        }
    }
}
