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
    private readonly bool[] _affected;
    private readonly List<int>[] _unaffectedByClass;
    private readonly Dictionary<InstanceId, int> _position = [];
    private readonly Dictionary<DirectionClasses, IReadOnlyList<Part>> _parts = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<DirectionClasses, int[]> _peerClasses = new(ReferenceEqualityComparer.Instance);

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
        _internet = new InternetAnswers(after, v6, before.Interner, i => _position.TryGetValue(i.Id, out var k) ? _tables[k] : null);
        _affected = [.. after.Instances.Select(i => affected.Contains(i.Id))];
        _unaffectedByClass = [.. before.Classes.Select(_ => new List<int>())];
        for (var k = 0; k < count; k++)
        {
            if (!_affected[k] && before.ClassAt(k) is var c and >= 0)
                _unaffectedByClass[c].Add(k);
        }
        for (var k = 0; k < count; k++)
            _position.TryAdd(after.Instances[k].Id, k);
        var compiled = new Dictionary<string, (DirectionClasses Egress, DirectionClasses Ingress)>();
        for (var k = 0; k < count; k++)
        {
            var instance = after.Instances[k];
            if (!_affected[k])
            {
                // Unaffected: its class's tables and local classes, as in the matrix.
                if (before.ClassAt(k) is var c and >= 0)
                {
                    var shared = before.PolicyOfClass(c);
                    _tables[k] = (shared.Egress, shared.Ingress);
                    _address[k] = before.AddressAt(k);
                    _localEgress[k] = shared.LocalEgress;
                    _localIngress[k] = shared.LocalIngress;
                }
                continue;
            }
            if (instance.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6) is not { } address)
                continue;
            var key = ReachMatrix.PolicyKey(after, instance);
            if (!compiled.TryGetValue(key, out var tables))
            {
                var policy = PolicyRules.Of(after, instance, NicType.Intranet);
                tables = (new DirectionClasses(after, policy, Direction.Egress, v6, before.Interner), new DirectionClasses(after, policy, Direction.Ingress, v6, before.Interner));
                compiled.Add(key, tables);
            }
            _tables[k] = tables;
            _address[k] = address;
            _localEgress[k] = tables.Egress.LocalClassOf(address);
            _localIngress[k] = tables.Ingress.LocalClassOf(address);
        }
    }

    public NetworkState State { get; }

    /// <summary>The access ID from the instance at <paramref name="source"/> to the one at <paramref name="target"/> (positions in the state).</summary>
    public int CellAt(int source, int target)
    {
        if (source == target || _tables[source] is not { } from || _tables[target] is not { } to
            || State.Instances[source].VpcId != State.Instances[target].VpcId)
            return AccessInterner.None;
        var outbound = from.Egress.Half(PeerClassesFor(from.Egress)[target], _localEgress[source]);
        if (outbound == AccessInterner.None)
            return AccessInterner.None;
        var inbound = to.Ingress.Half(PeerClassesFor(to.Ingress)[source], _localIngress[target]);
        return _before.Interner.Intersect(outbound, inbound);
    }

    public (int Access, IpAddress? Witness) FromInternetAt(Instance target) => _internet.From(target);

    public bool HasAddress(int position) => _tables[position] is not null;

    /// <summary>
    /// The instances the change does not affect, in parts: one class of the matrix before, and one peer
    /// class of <paramref name="table"/> (a table recompiled for an affected instance). Within a part,
    /// every member meets the affected instance with the same answer before and after, so a part is
    /// decided once. Cached per table: affected instances of one policy share it.
    /// </summary>
    public IReadOnlyList<Part> PartsFor(DirectionClasses table)
    {
        if (_parts.TryGetValue(table, out var found))
            return found;
        var peerClasses = PeerClassesFor(table);
        var result = new List<Part>();
        for (var c = 0; c < _unaffectedByClass.Length; c++)
        {
            var members = _unaffectedByClass[c];
            if (members.Count == 0)
                continue;
            var first = peerClasses[members[0]];
            var uniform = true;
            foreach (var m in members)
                uniform &= peerClasses[m] == first;
            if (uniform)
            {
                result.Add(new Part(c, first, members));
                continue;
            }
            // The table tells members of one class apart (a block it adds cuts through them).
            foreach (var split in members.GroupBy(m => peerClasses[m]))
                result.Add(new Part(c, split.Key, [.. split]));
        }
        _parts.Add(table, result);
        return result;
    }

    /// <summary>The peer class in <paramref name="table"/> of every instance's address, by position in the state (cached per table).</summary>
    public int[] PeerClassesFor(DirectionClasses table)
    {
        if (_peerClasses.TryGetValue(table, out var found))
            return found;
        var (positions, addresses) = _before.ByAddress;
        var sorted = new int[positions.Length];
        table.PeerClassesOf(addresses, sorted);
        var byPosition = new int[State.Instances.Length];
        for (var k = 0; k < positions.Length; k++)
            byPosition[positions[k]] = sorted[k];
        _peerClasses.Add(table, byPosition);
        return byPosition;
    }

    public sealed record Part(int Class, int PeerClass, List<int> Members);

    public (DirectionClasses Egress, DirectionClasses Ingress) TablesAt(int position) => _tables[position]!.Value;

    public int LocalEgressAt(int position) => _localEgress[position];

    public int LocalIngressAt(int position) => _localIngress[position];

    public IpAddress AddressAt(int position) => _address[position]!.Value;
}
