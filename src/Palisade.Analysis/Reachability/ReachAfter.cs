using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Analysis.Reachability;

/// <summary>
/// Reachability in the state after a change, pair by pair on demand, built on the matrix of the state
/// before it: the policy of every instance the change does not affect is the same in both states (that
/// is what <c>Change.Affected</c> promises), so its compiled tables and the answers cached in them are
/// reused; only the policies of affected instances are compiled again. Answers are interned by the
/// matrix's interner, so that an unchanged pair has the same ID before and after.
/// </summary>
internal sealed class ReachAfter
{
    private readonly ReachMatrix _before;
    private readonly (DirectionClasses Egress, DirectionClasses Ingress)?[] _tables;
    private readonly IpAddress?[] _address;
    private readonly int[] _localEgress;
    private readonly int[] _localIngress;
    private readonly InternetAnswers _internet;

    public ReachAfter(ReachMatrix before, NetworkState after, IReadOnlySet<InstanceId> affected)
    {
        _before = before;
        State = after;
        var v6 = before.V6;
        var count = after.Instances.Length;
        _tables = new (DirectionClasses, DirectionClasses)?[count];
        _address = new IpAddress?[count];
        _localEgress = new int[count];
        _localIngress = new int[count];
        _internet = new InternetAnswers(after, v6, before.Interner);
        var compiled = new Dictionary<string, (DirectionClasses Egress, DirectionClasses Ingress)>();
        for (var k = 0; k < count; k++)
        {
            var instance = after.Instances[k];
            if (instance.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6) is not { } address)
                continue;
            var key = ReachMatrix.PolicyKey(after, instance);
            var tables = affected.Contains(instance.Id) ? null : before.TablesOf(key);
            if (tables is null && !compiled.TryGetValue(key, out var fresh))
            {
                var policy = NicPolicy.Compile(after, instance, NicType.Intranet);
                fresh = (new DirectionClasses(after, policy, Direction.Egress, v6, before.Interner), new DirectionClasses(after, policy, Direction.Ingress, v6, before.Interner));
                compiled.Add(key, fresh);
                tables = fresh;
            }
            var t = tables ?? compiled[key];
            _tables[k] = t;
            _address[k] = address;
            _localEgress[k] = t.Egress.LocalClassOf(address);
            _localIngress[k] = t.Ingress.LocalClassOf(address);
        }
    }

    public NetworkState State { get; }

    /// <summary>The access ID from the instance at <paramref name="source"/> to the one at <paramref name="target"/> (positions in the state).</summary>
    public int CellAt(int source, int target)
    {
        if (source == target || _tables[source] is not { } from || _tables[target] is not { } to
            || State.Instances[source].VpcId != State.Instances[target].VpcId)
            return AccessInterner.None;
        var outbound = from.Egress.Half(from.Egress.PeerClassOf(_address[target]!.Value), _localEgress[source]);
        if (outbound == AccessInterner.None)
            return AccessInterner.None;
        var inbound = to.Ingress.Half(to.Ingress.PeerClassOf(_address[source]!.Value), _localIngress[target]);
        return _before.Interner.Intersect(outbound, inbound);
    }

    public (int Access, IpAddress? Witness) FromInternetAt(Instance target) => _internet.From(target);
}
