using Palisade.Analysis.Internet;
using Palisade.Analysis.Policies;

namespace Palisade.Analysis.Reachability;

/// <summary>
/// Reachability between every pair of instances of a state, and between each instance and the
/// internet, computed over classes instead of pairs. An instance takes part through every private
/// address of the family it has (an <em>endpoint</em> each): what one instance reaches of another is
/// the union over their address pairs. Instances with the same groups in the same network share one
/// policy (a policy class). Within a policy, addresses fall into classes that no rule tells apart
/// (<see cref="DirectionClasses"/>); two endpoints are in one endpoint class when their instances share
/// a policy, their addresses are in the same local classes, and every policy of their network puts
/// their addresses in the same peer class — so every answer about one holds for all. Each pair of
/// endpoint classes is decided once, as the intersection of the source's egress and the target's
/// ingress, each looked up by class. Instances whose addresses are in the same endpoint classes form
/// one <see cref="InstanceClass"/>. The slow twin is <see cref="Reach.To"/> / <see cref="Reach.From"/>
/// for every instance (checked equal on random states).
/// </summary>
public sealed class ReachMatrix
{
    private readonly AccessInterner _interner = new();
    private readonly bool _v6;
    private readonly Dictionary<InstanceId, int> _classOf = [];
    private readonly Dictionary<InstanceId, int> _positionOf = [];
    private readonly List<InstanceClass> _classes = [];
    private readonly List<int[]> _endpointsOfClass = [];
    private readonly Dictionary<VpcKey, NetworkCells> _networks = [];
    private readonly Dictionary<(int, int), int> _unions = [];
    private readonly InternetAnswers _internet;
    private int[] _classAt = [];
    private IpAddress[][] _addressesAt = [];
    private int[][] _endpointsAt = [];
    private readonly List<ClassPolicy> _endpointPolicies = [];
    private readonly List<int> _endpointSizes = [];
    // Per endpoint class, its first member: (position, slot).
    private readonly List<(int Position, int Slot)> _endpointMember = [];
    private readonly List<(NetworkCells Network, int Index)> _placeOf = [];
    private int[] _sortedPositions = [];
    private int[] _sortedSlots = [];
    private UInt128[] _sortedAddresses = [];

    /// <summary>What every member of an endpoint class shares: its policy's tables and its local classes in them.</summary>
    internal readonly record struct ClassPolicy(DirectionClasses Egress, DirectionClasses Ingress, int LocalEgress, int LocalIngress, int Policy);

    private readonly record struct VpcKey(VpcId? Vpc);

    /// <summary>The instances of one network that answer as one, and the policy they share.</summary>
    public sealed record InstanceClass(int Id, VpcId? VpcId, IReadOnlyList<Instance> Members);

    private sealed class NetworkCells(List<int> classes)
    {
        /// <summary>The endpoint classes of the network.</summary>
        public List<int> Classes { get; } = classes;

        /// <summary>Access IDs, source class (by index in <see cref="Classes"/>) major.</summary>
        public int[] Cells { get; set; } = [];

        /// <summary>Per policy (by index; those of other networks are null): the peer class of each class's address (by index in <see cref="Classes"/>) in its egress, its ingress.</summary>
        public int[]?[] PeerEgress { get; set; } = [];

        public int[]?[] PeerIngress { get; set; } = [];

        /// <summary>The instance classes of the network.</summary>
        public List<int> InstanceClasses { get; } = [];
    }

    private ReachMatrix(NetworkState state, bool v6)
    {
        State = state;
        _v6 = v6;
        _internet = new InternetAnswers(state, v6, _interner, TablesOfInterface);
    }

    internal AccessInterner Interner => _interner;

    /// <summary>The painted tables of an ENI (a view from <see cref="Instance.Interfaces"/>): those of its first address of the family, or null.</summary>
    private (DirectionClasses Egress, DirectionClasses Ingress)? TablesOfInterface(Instance nic)
    {
        if (!_positionOf.TryGetValue(nic.Id, out var k) || _endpointsAt[k].Length == 0)
            return null;
        var first = nic.PrivateAddresses.FirstOrDefault(a => a.IsV6 == _v6);
        var slot = Array.IndexOf(_addressesAt[k], first);
        // The tables are this ENI's only if its address is judged by it (a state that gives one address
        // to two ENIs of an instance is refused by the reader, but a caller's state may not be read).
        if (slot < 0 || State.Instances[k].InterfaceOf(first).NetworkInterfaceId != nic.NetworkInterfaceId)
            return null;
        var policy = _endpointPolicies[_endpointsAt[k][slot]];
        return (policy.Egress, policy.Ingress);
    }

    /// <summary>Whether the matrix is between IPv6 addresses (else IPv4).</summary>
    public bool V6 => _v6;

    /// <summary>
    /// The private addresses of the family of every ENI of an instance (primary first, each ENI in its
    /// order): the endpoints it takes part through. Each is judged by the groups of its own ENI.
    /// </summary>
    internal static IpAddress[] AddressesOf(Instance instance, bool v6) => [.. instance.AllPrivateAddresses.Where(a => a.IsV6 == v6).Distinct()];

    /// <summary>The ENI (a view from <see cref="Instance.Interfaces"/>) of each address of <see cref="AddressesOf"/>, in the same order.</summary>
    internal static Instance[] InterfacesOf(Instance instance, IpAddress[] addresses) =>
        instance.SecondaryInterfaces.Length == 0 ? [.. addresses.Select(_ => instance)] : [.. addresses.Select(instance.InterfaceOf)];

    /// <summary>The access ID between the instances at these positions of the state (the empty ID for none).</summary>
    internal int CellAt(int source, int target)
    {
        if (source == target)
            return AccessInterner.None;
        var a = _classAt[source];
        var b = _classAt[target];
        if (a < 0 || b < 0 || _classes[a].VpcId != _classes[b].VpcId)
            return AccessInterner.None;
        return CellOfInstanceClasses(a, b);
    }

    internal (int Access, IpAddress? Witness) FromInternetAt(Instance target) => _internet.From(target);

    /// <summary>The addresses the instance at a position takes part through (empty when it has no class).</summary>
    internal IpAddress[] AddressesAt(int position) => _addressesAt[position];

    /// <summary>The endpoint class of each address of <see cref="AddressesAt"/>.</summary>
    internal int[] EndpointsAt(int position) => _endpointsAt[position];

    /// <summary>The class of the instance at a position of the state, or -1.</summary>
    internal int ClassAt(int position) => _classAt[position];

    internal ClassPolicy PolicyOfEndpoint(int endpointClass) => _endpointPolicies[endpointClass];

    /// <summary>
    /// What the egress of endpoint class <paramref name="viewer"/> accepts towards the address of
    /// endpoint class <paramref name="peer"/> (same network), from the peer classes the matrix worked out.
    /// </summary>
    internal int EgressTowards(int viewer, int peer)
    {
        var policy = _endpointPolicies[viewer];
        var (cells, index) = _placeOf[peer];
        return policy.Egress.Half(cells.PeerEgress[policy.Policy]![index], policy.LocalEgress);
    }

    /// <summary>What the ingress of endpoint class <paramref name="viewer"/> accepts from the address of endpoint class <paramref name="peer"/> (same network).</summary>
    internal int IngressFrom(int viewer, int peer)
    {
        var policy = _endpointPolicies[viewer];
        var (cells, index) = _placeOf[peer];
        return policy.Ingress.Half(cells.PeerIngress[policy.Policy]![index], policy.LocalIngress);
    }

    /// <summary>The access ID between two endpoint classes (of one network; a class of one endpoint has none with itself).</summary>
    internal int CellOfEndpoints(int source, int target)
    {
        var (cells, a) = _placeOf[source];
        var n = cells.Classes.Count;
        return cells.Cells[(a * n) + _placeOf[target].Index];
    }

    /// <summary>
    /// What the instance at <paramref name="source"/> reaches of the one at <paramref name="target"/>
    /// at only the target's addresses at <paramref name="targetSlots"/> (of <see cref="AddressesAt"/>):
    /// what reaches one ENI of the target, the union over those address pairs.
    /// </summary>
    internal int CellTowards(int source, int target, IReadOnlyList<int> targetSlots)
    {
        if (source == target || _classAt[source] < 0 || _classAt[target] < 0 || _classes[_classAt[source]].VpcId != _classes[_classAt[target]].VpcId)
            return AccessInterner.None;
        var union = AccessInterner.None;
        foreach (var e in _endpointsAt[source])
        {
            foreach (var j in targetSlots)
                union = _interner.Union(union, CellOfEndpoints(e, _endpointsAt[target][j]));
        }
        return union;
    }

    /// <summary>
    /// The access ID between two instance classes of one network: the union over their endpoint classes
    /// (for classes of one address each, one cell).
    /// </summary>
    internal int CellOfInstanceClasses(int source, int target)
    {
        var from = _endpointsOfClass[source];
        var to = _endpointsOfClass[target];
        if (from.Length == 1 && to.Length == 1)
            return CellOfEndpoints(from[0], to[0]);
        if (_unions.TryGetValue((source, target), out var cached))
            return cached;
        var union = AccessInterner.None;
        foreach (var e in from)
        {
            foreach (var f in to)
                union = _interner.Union(union, CellOfEndpoints(e, f));
        }
        _unions.Add((source, target), union);
        return union;
    }

    /// <summary>
    /// Each instance's rank (by position) in the ordinal order of the instance IDs and "internet", and
    /// the rank of "internet": what-if answers are listed in that order. Worked out once per matrix.
    /// </summary>
    internal (int[] Rank, int InternetRank) OrdinalRanks => _ranks ??= Ranks(State);

    private (int[], int)? _ranks;

    private static (int[], int) Ranks(NetworkState state)
    {
        var ids = state.Instances.Select(i => i.Id.Value).Append("internet").ToArray();
        var order = Enumerable.Range(0, ids.Length).ToArray();
        Array.Sort(ids.ToArray(), order, StringComparer.Ordinal);
        var rank = new int[ids.Length];
        for (var k = 0; k < order.Length; k++)
            rank[order[k]] = k;
        return (rank[..^1], rank[^1]);
    }

    /// <summary>
    /// Every endpoint in increasing order of its address: its instance's position, its slot in
    /// <see cref="AddressesAt"/> of that instance, and the address.
    /// </summary>
    internal (int[] Positions, int[] Slots, UInt128[] Addresses) ByAddress => (_sortedPositions, _sortedSlots, _sortedAddresses);

    public NetworkState State { get; }

    /// <summary>The instance classes (instances without an address of the family are in none).</summary>
    public IReadOnlyList<InstanceClass> Classes => _classes;

    /// <summary>How many compiled policies the state's instances share.</summary>
    public int PolicyCount { get; private set; }

    /// <summary>How many endpoint classes the instances' addresses fall into.</summary>
    public int EndpointClassCount => _endpointPolicies.Count;

    /// <param name="progress">Told each phase: policies compiled per instance, then the pairs of classes per network.</param>
    public static ReachMatrix Build(NetworkState state, bool v6 = false, IProgress<WorkProgress>? progress = null)
    {
        var matrix = new ReachMatrix(state, v6);
        matrix.Compute(progress);
        return matrix;
    }

    /// <summary>The painted policy classes of the state: per policy, its egress and ingress tables and its network.</summary>
    private sealed class PolicyTables
    {
        public Dictionary<string, int> Index { get; } = [];

        public List<DirectionClasses> Egress { get; } = [];

        public List<DirectionClasses> Ingress { get; } = [];

        public List<VpcId?> Network { get; } = [];
    }

    /// <summary>One address of the family of one instance: the unit every class is made of.</summary>
    private readonly record struct Endpoint(int Position, int Slot, IpAddress Address, int Policy);

    /// <summary>The phases of the matrix; the reasoning behind them is README.md beside this file.</summary>
    private void Compute(IProgress<WorkProgress>? progress)
    {
        var (policies, endpoints) = PaintPolicies(progress);
        IndexByAddress(endpoints);
        foreach (var network in endpoints.GroupBy(e => new VpcKey(State.Instances[e.Position].VpcId)))
        {
            var members = network.OrderBy(e => e.Address.Value).ThenBy(e => e.Position).ThenBy(e => e.Slot).ToArray();
            var classOf = RefineEndpointClasses(policies, network.Key, members);
            var (cells, representatives) = NumberEndpointClasses(policies, members, classOf);
            _networks[network.Key] = cells;
            FormInstanceClasses(network.Key, members, cells);
            PeerClassesUnderEveryPolicy(policies, network.Key, cells, representatives);
            FillCells(policies, cells, representatives, progress);
        }
    }

    /// <summary>
    /// Phase 1: one policy per class of instances (same network, same groups), painted once from a
    /// representative into address classes per direction; one endpoint per (instance, address of the family).
    /// </summary>
    private (PolicyTables Policies, List<Endpoint> Endpoints) PaintPolicies(IProgress<WorkProgress>? progress)
    {
        var state = State;
        var policies = new PolicyTables();
        var endpoints = new List<Endpoint>();
        var count = state.Instances.Length;
        _classAt = new int[count];
        _addressesAt = new IpAddress[count][];
        _endpointsAt = new int[count][];
        Array.Fill(_classAt, -1);
        Array.Fill(_addressesAt, []);
        Array.Fill(_endpointsAt, []);
        for (var k = 0; k < count; k++)
        {
            progress?.Report(new WorkProgress("policies", k, count));
            var instance = state.Instances[k];
            _positionOf.Add(instance.Id, k);
            var addresses = AddressesOf(instance, _v6);
            if (addresses.Length == 0)
                continue;
            // Each address is judged by the policy of the ENI that owns it.
            var interfaces = InterfacesOf(instance, addresses);
            _addressesAt[k] = addresses;
            _endpointsAt[k] = new int[addresses.Length];
            for (var slot = 0; slot < addresses.Length; slot++)
            {
                var nic = interfaces[slot];
                var key = PolicyClass.Key(state, nic);
                if (!policies.Index.TryGetValue(key, out var p))
                {
                    p = policies.Index.Count;
                    policies.Index.Add(key, p);
                    var policy = PolicyRules.Of(state, nic, NicType.Intranet);
                    policies.Egress.Add(new DirectionClasses(state, policy, Direction.Egress, _v6, _interner));
                    policies.Ingress.Add(new DirectionClasses(state, policy, Direction.Ingress, _v6, _interner));
                    policies.Network.Add(instance.VpcId);
                }
                endpoints.Add(new Endpoint(k, slot, addresses[slot], p));
            }
        }
        PolicyCount = policies.Index.Count;
        return (policies, endpoints);
    }

    /// <summary>Phase 2: every endpoint's instance in increasing order of its address (what-ifs look addresses up in it).</summary>
    private void IndexByAddress(List<Endpoint> endpoints)
    {
        var byAddress = endpoints.Select(e => (e.Position, e.Slot, e.Address.Value)).OrderBy(e => e.Value).ThenBy(e => e.Position).ToArray();
        _sortedPositions = [.. byAddress.Select(e => e.Position)];
        _sortedSlots = [.. byAddress.Select(e => e.Slot)];
        _sortedAddresses = [.. byAddress.Select(e => e.Value)];
    }

    /// <summary>
    /// Phase 3, per network: the endpoint classes, by refinement — same policy and local classes, then
    /// the same peer class under every policy of the network (a policy with one peer class tells no one
    /// apart and is skipped). Returns each member's class, numbered in no particular order.
    /// </summary>
    private static int[] RefineEndpointClasses(PolicyTables policies, VpcKey network, Endpoint[] members)
    {
        var (egress, ingress) = (policies.Egress, policies.Ingress);
        var addresses = members.Select(m => m.Address.Value).ToArray();
        var classOf = new int[members.Length];
        var start = new Dictionary<(int, int, int), int>();
        for (var k = 0; k < members.Length; k++)
        {
            var (_, _, address, p) = members[k];
            var key = (p, egress[p].LocalClassOf(address), ingress[p].LocalClassOf(address));
            if (!start.TryGetValue(key, out var id))
                start.Add(key, id = start.Count);
            classOf[k] = id;
        }
        var peerE = new int[members.Length];
        var peerI = new int[members.Length];
        var classes = start.Count;
        // Per class, the peer classes of its first member under the policy at hand (and whether one differs).
        var firstE = new int[members.Length];
        var firstI = new int[members.Length];
        var seen = new int[members.Length];
        var split = new bool[members.Length];
        for (var q = 0; q < policies.Network.Count; q++)
        {
            if (policies.Network[q] != network.Vpc || (egress[q].PeerClassCount == 1 && ingress[q].PeerClassCount == 1))
                continue;
            egress[q].PeerClassesOf(addresses, peerE);
            ingress[q].PeerClassesOf(addresses, peerI);
            // Most policies split no class: find the classes they split with array reads alone (a
            // dictionary per member and policy was most of this phase, 20,000 endpoints × 1,000 policies).
            var pass = q + 1;
            var any = false;
            for (var k = 0; k < members.Length; k++)
            {
                var c = classOf[k];
                if (seen[c] != pass)
                {
                    (seen[c], firstE[c], firstI[c], split[c]) = (pass, peerE[k], peerI[k], false);
                }
                else if (firstE[c] != peerE[k] || firstI[c] != peerI[k])
                {
                    split[c] = true;
                    any = true;
                }
            }
            if (!any)
                continue;
            // A member of a split class unlike the class's first member moves to a new class, one per
            // (class, peer classes); the others stay.
            var refined = new Dictionary<(int, int, int), int>();
            for (var k = 0; k < members.Length; k++)
            {
                var c = classOf[k];
                if (!split[c] || (firstE[c] == peerE[k] && firstI[c] == peerI[k]))
                    continue;
                if (!refined.TryGetValue((c, peerE[k], peerI[k]), out var id))
                    refined.Add((c, peerE[k], peerI[k]), id = classes++);
                classOf[k] = id;
            }
        }
        return classOf;
    }

    /// <summary>
    /// Phase 4: the endpoint classes numbered in state order of their first member, so that answers are
    /// repeatable; each with a representative address and what its members share (<see cref="ClassPolicy"/>).
    /// </summary>
    private (NetworkCells Cells, List<(IpAddress Address, int Policy)> Representatives) NumberEndpointClasses(PolicyTables policies, Endpoint[] members, int[] classOf)
    {
        var (egress, ingress) = (policies.Egress, policies.Ingress);
        var byLocal = new Dictionary<int, List<int>>();
        for (var k = 0; k < members.Length; k++)
        {
            if (!byLocal.TryGetValue(classOf[k], out var list))
                byLocal.Add(classOf[k], list = []);
            list.Add(k);
        }
        var cells = new NetworkCells([]);
        var representatives = new List<(IpAddress Address, int Policy)>();
        foreach (var (_, list) in byLocal.OrderBy(c => c.Value.Min(k => (members[k].Position, members[k].Slot))))
        {
            var id = _endpointPolicies.Count;
            foreach (var k in list)
                _endpointsAt[members[k].Position][members[k].Slot] = id;
            _placeOf.Add((cells, cells.Classes.Count));
            _endpointSizes.Add(list.Count);
            _endpointMember.Add((members[list[0]].Position, members[list[0]].Slot));
            cells.Classes.Add(id);
            var (_, _, address, p) = members[list[0]];
            representatives.Add((address, p));
            _endpointPolicies.Add(new ClassPolicy(egress[p], ingress[p], egress[p].LocalClassOf(address), ingress[p].LocalClassOf(address), p));
        }
        return (cells, representatives);
    }

    /// <summary>Phase 5: the instances whose addresses are in the same endpoint classes form one instance class, numbered in state order.</summary>
    private void FormInstanceClasses(VpcKey network, Endpoint[] members, NetworkCells cells)
    {
        var state = State;
        // Instance classes: the instances whose addresses are in the same endpoint classes, numbered in state order.
        var instanceClasses = new Dictionary<string, int>();
        foreach (var position in members.Select(m => m.Position).Distinct().Order())
        {
            var set = _endpointsAt[position].Distinct().Order().ToArray();
            var key = string.Join(',', set);
            if (!instanceClasses.TryGetValue(key, out var id))
            {
                id = _classes.Count;
                instanceClasses.Add(key, id);
                _classes.Add(new InstanceClass(id, network.Vpc, new List<Instance>()));
                _endpointsOfClass.Add(set);
                cells.InstanceClasses.Add(id);
            }
            ((List<Instance>)_classes[id].Members).Add(state.Instances[position]);
            _classOf[state.Instances[position].Id] = id;
            _classAt[position] = id;
        }
    }

    /// <summary>
    /// Phase 6: the peer class of each endpoint class's representative under every policy of the
    /// network, egress and ingress (the what-if reads these for classes on either side).
    /// </summary>
    private static void PeerClassesUnderEveryPolicy(PolicyTables policies, VpcKey network, NetworkCells cells, List<(IpAddress Address, int Policy)> representatives)
    {
        var (egress, ingress, policyNetwork) = (policies.Egress, policies.Ingress, policies.Network);
        // Every pair of endpoint classes: the source's egress towards the target, the target's ingress from the source.
        var n = cells.Classes.Count;
        var sorted = Enumerable.Range(0, n).OrderBy(c => representatives[c].Address.Value).ToArray();
        var sortedAddresses = sorted.Select(c => representatives[c].Address.Value).ToArray();
        int[] PeerClasses(DirectionClasses table)
        {
            var inOrder = new int[n];
            table.PeerClassesOf(sortedAddresses, inOrder);
            var byClass = new int[n];
            for (var k = 0; k < n; k++)
                byClass[sorted[k]] = inOrder[k];
            return byClass;
        }
        // Every policy of the network: the what-if reads these for classes on either side.
        cells.PeerEgress = new int[]?[policyNetwork.Count];
        cells.PeerIngress = new int[]?[policyNetwork.Count];
        for (var q = 0; q < policyNetwork.Count; q++)
        {
            if (policyNetwork[q] != network.Vpc)
                continue;
            cells.PeerEgress[q] = PeerClasses(egress[q]);
            cells.PeerIngress[q] = PeerClasses(ingress[q]);
        }
    }

    /// <summary>
    /// Phase 7: every pair of endpoint classes, once: the source's egress towards the target
    /// intersected with the target's ingress from the source, each looked up by class.
    /// </summary>
    private void FillCells(PolicyTables policies, NetworkCells cells, List<(IpAddress Address, int Policy)> representatives, IProgress<WorkProgress>? progress)
    {
        var (egress, ingress) = (policies.Egress, policies.Ingress.ToArray());
        var n = cells.Classes.Count;
        var peerClassI = cells.PeerIngress;
        var localI = representatives.Select(r => ingress[r.Policy].LocalClassOf(r.Address)).ToArray();
        var policyOf = representatives.Select(r => r.Policy).ToArray();
        int[] networkPolicies = [.. Enumerable.Range(0, peerClassI.Length).Where(q => peerClassI[q] is not null)];
        // Per policy of the network, the source class's peer class in its ingress: read once per row
        // rather than from a different policy's column at every cell.
        var sourceSeenBy = new int[peerClassI.Length];
        var matrix = new int[n * n];
        for (var a = 0; a < n; a++)
        {
            progress?.Report(new WorkProgress("pairs", a, n));
            var (sourceAddress, p) = representatives[a];
            var table = egress[p];
            var localE = table.LocalClassOf(sourceAddress);
            var towards = cells.PeerEgress[p]!;
            foreach (var q in networkPolicies)
                sourceSeenBy[q] = peerClassI[q]![a];
            var row = a * n;
            for (var b = 0; b < n; b++)
            {
                // A class of one endpoint does not reach itself: there is no pair.
                if (a == b && _endpointSizes[cells.Classes[a]] < 2)
                    continue;
                var outbound = table.Half(towards[b], localE);
                if (outbound == AccessInterner.None)
                    continue;
                var q = policyOf[b];
                var inbound = ingress[q].Half(sourceSeenBy[q], localI[b]);
                matrix[row + b] = _interner.Intersect(outbound, inbound);
            }
        }
        cells.Cells = matrix;
    }

    /// <summary>The instance's class, or null when it has no address of the family.</summary>
    public InstanceClass? ClassOf(Instance instance) => _classOf.TryGetValue(instance.Id, out var id) ? _classes[id] : null;

    /// <summary>What <paramref name="source"/> reaches of <paramref name="target"/> (nothing between an instance and itself, or across networks).</summary>
    public AccessSet Between(Instance source, Instance target)
    {
        if (source.Id == target.Id || ClassOf(source) is not { } a || ClassOf(target) is not { } b || a.VpcId != b.VpcId)
            return AccessSet.None;
        return _interner[CellOfInstanceClasses(a.Id, b.Id)];
    }

    /// <summary>What the source class reaches of the target class (for a class of one, nothing of itself).</summary>
    public AccessSet Between(InstanceClass source, InstanceClass target) =>
        source.VpcId != target.VpcId || (source.Id == target.Id && source.Members.Count < 2) ? AccessSet.None : _interner[CellOfInstanceClasses(source.Id, target.Id)];

    /// <summary>What the internet reaches of <paramref name="target"/>, with a witness source, as <see cref="Reach.To"/> decides it.</summary>
    public (AccessSet Access, IpAddress? Witness) FromInternet(Instance target)
    {
        var (id, witness) = _internet.From(target);
        return (_interner[id], witness);
    }

    /// <summary>What <paramref name="source"/> reaches of the internet by its egress rules, with a witness destination, as <see cref="Reach.From"/> decides it.</summary>
    public (AccessSet Access, IpAddress? Witness) ToInternet(Instance source)
    {
        var (id, witness) = _internet.To(source);
        return (_interner[id], witness);
    }

    /// <summary>
    /// The address of <paramref name="near"/> (by position) that the answer names: the first of its
    /// addresses that reaches some address of <paramref name="far"/> (or is reached by one, when
    /// <paramref name="nearIsSource"/> is false), as <see cref="Reach"/> names it.
    /// </summary>
    private IpAddress Witness(int near, int far, bool nearIsSource)
    {
        var mine = _endpointsAt[near];
        var theirs = _endpointsAt[far];
        for (var i = 0; i < mine.Length; i++)
        {
            foreach (var f in theirs)
            {
                if ((nearIsSource ? CellOfEndpoints(mine[i], f) : CellOfEndpoints(f, mine[i])) != AccessInterner.None)
                    return _addressesAt[near][i];
            }
        }
        throw new InvalidOperationException("no address pair of a reaching pair reaches");
    }

    /// <summary>The answer of <see cref="Reach.To"/>, from the matrix.</summary>
    public IReadOnlyList<Reacher> To(Instance target)
    {
        var result = new List<Reacher>();
        if (PositionOf(target) is not { } t)
            return result;
        for (var s = 0; s < State.Instances.Length; s++)
        {
            var source = State.Instances[s];
            if (source.Id == target.Id || _classAt[s] < 0)
                continue;
            var access = CellAt(s, t);
            if (access != AccessInterner.None)
                result.Add(new Reacher(source, Witness(s, t, nearIsSource: true), _interner[access].ToAccesses()));
        }
        var (fromInternet, witness) = FromInternet(target);
        if (!fromInternet.IsEmpty)
            result.Add(new Reacher(null, witness, fromInternet.ToAccesses()));
        return result;
    }

    /// <summary>The answer of <see cref="Reach.From"/>, from the matrix.</summary>
    public IReadOnlyList<Reacher> From(Instance source)
    {
        var result = new List<Reacher>();
        if (PositionOf(source) is not { } s)
            return result;
        for (var t = 0; t < State.Instances.Length; t++)
        {
            var target = State.Instances[t];
            if (target.Id == source.Id || _classAt[t] < 0)
                continue;
            var access = CellAt(s, t);
            if (access != AccessInterner.None)
                result.Add(new Reacher(target, Witness(t, s, nearIsSource: false), _interner[access].ToAccesses()));
        }
        var (toInternet, witness) = ToInternet(source);
        if (!toInternet.IsEmpty)
            result.Add(new Reacher(null, witness, toInternet.ToAccesses()));
        return result;
    }

    private int? PositionOf(Instance instance) =>
        _classOf.ContainsKey(instance.Id) ? _positionOf[instance.Id] : null;

    /// <summary>
    /// Group × group: what some member of the source group reaches of some other member of the target
    /// group (the union over member pairs), and what the internet reaches of some member; only non-empty
    /// cells. <paramref name="around"/> keeps the cells into and out of one group, and only those are
    /// computed (how a picture of a large account stays readable and quick).
    /// </summary>
    public IReadOnlyList<(string Source, string Target, AccessSet Access)> ByGroup(SecurityGroupId? around = null)
    {
        var index = new Dictionary<SecurityGroupId, int>();
        foreach (var group in State.Groups)
            index.TryAdd(group.Id, index.Count);
        var names = index.OrderBy(kv => kv.Value).Select(kv => kv.Key.Value).Append("internet").ToArray();
        var internet = names.Length - 1;
        var focus = -1;
        if (around is { } wanted && !index.TryGetValue(wanted, out focus))
            return [];
        // A group's members are ENIs: each endpoint class counts for the groups of the ENI that owns
        // its addresses (one policy per endpoint class, so one set of groups).
        int[] GroupsOf(Instance nic) => [.. nic.SecurityGroupIds.Distinct().Where(index.ContainsKey).Select(g => index[g])];
        var endpointGroups = new Dictionary<int, int[]>();
        int[] OfEndpoint(int e)
        {
            if (endpointGroups.TryGetValue(e, out var found))
                return found;
            var (position, slot) = _endpointMember[e];
            return endpointGroups[e] = GroupsOf(State.Instances[position].InterfaceOf(_addressesAt[position][slot]));
        }
        var classGroups = new Dictionary<int, int[]>();
        int[] OfClass(int c) => classGroups.TryGetValue(c, out var found) ? found : classGroups[c] = [.. _endpointsOfClass[c].SelectMany(OfEndpoint).Distinct()];

        var cells = new Dictionary<long, int>();
        void Add(int g, int h, int access)
        {
            if (focus >= 0 && g != focus && h != focus)
                return;
            var key = ((long)g * names.Length) + h;
            cells[key] = _interner.Union(cells.GetValueOrDefault(key), access);
        }
        foreach (var network in _networks.Values)
        {
            var all = network.InstanceClasses;
            var withFocus = focus < 0 ? all : [.. all.Where(c => OfClass(c).Contains(focus))];
            foreach (var a in all)
            {
                var from = OfClass(a);
                // Around one group, a source outside it counts only towards targets inside it.
                foreach (var b in focus < 0 || from.Contains(focus) ? all : withFocus)
                {
                    // A class of one instance does not reach itself.
                    if (a == b && _classes[a].Members.Count < 2)
                        continue;
                    foreach (var e in _endpointsOfClass[a])
                    {
                        foreach (var f in _endpointsOfClass[b])
                        {
                            var access = CellOfEndpoints(e, f);
                            if (access == AccessInterner.None)
                                continue;
                            foreach (var g in OfEndpoint(e))
                            {
                                foreach (var h in OfEndpoint(f))
                                    Add(g, h, access);
                            }
                        }
                    }
                }
            }
        }
        foreach (var instance in State.Instances.Where(i => _classOf.ContainsKey(i.Id)))
        {
            foreach (var nic in instance.Interfaces)
            {
                var targets = GroupsOf(nic);
                if (focus >= 0 && !targets.Contains(focus))
                    continue;
                var (fromInternet, _) = _internet.FromInterface(nic);
                if (fromInternet == AccessInterner.None)
                    continue;
                foreach (var h in targets)
                    Add(internet, h, fromInternet);
            }
        }
        return [.. cells
            .Select(c => (Source: names[c.Key / names.Length], Target: names[c.Key % names.Length], Access: _interner[c.Value]))
            .OrderBy(c => c.Source == "internet" ? 0 : 1).ThenBy(c => c.Source, StringComparer.Ordinal).ThenBy(c => c.Target, StringComparer.Ordinal)];
    }
}

/// <summary>
/// What the internet reaches of an instance and what an instance reaches of it, per policy and local
/// address class, as <see cref="Reach"/> decides it (the internet's addresses by
/// <see cref="InternetExposure.CandidateSources"/>). Policies are compiled for the entry or exit NIC.
/// </summary>
internal sealed class InternetAnswers(NetworkState state, bool v6, AccessInterner interner, Func<Instance, (DirectionClasses Egress, DirectionClasses Ingress)?> intranet)
{
    private readonly Dictionary<(string Policy, NicType Nic), (DirectionClasses Ingress, DirectionClasses Egress)> _tables = [];
    private readonly Dictionary<(string Policy, NicType Nic, Direction Direction, string Locals), (int Access, IpAddress? Witness)> _answers = [];
    private readonly Dictionary<(string Policy, NicType Nic, Direction Direction), IReadOnlyList<(IpAddress Address, UInt128 Size)>> _candidates = [];

    /// <summary>What the internet reaches of the instance: the union over its ENIs, each through its own public address or EIP, judged by its own groups; the witness of the first ENI reached.</summary>
    public (int Access, IpAddress? Witness) From(Instance target) => OverInterfaces(target, FromInterface);

    /// <summary>What the instance reaches of the internet: the union over its ENIs, each by its own egress rules.</summary>
    public (int Access, IpAddress? Witness) To(Instance source) => OverInterfaces(source, ToInterface);

    private (int Access, IpAddress? Witness) OverInterfaces(Instance instance, Func<Instance, (int, IpAddress?)> answer)
    {
        if (instance.SecondaryInterfaces.Length == 0)
            return answer(instance);
        var access = AccessInterner.None;
        IpAddress? witness = null;
        foreach (var nic in instance.Interfaces)
        {
            var (a, w) = answer(nic);
            if (a == AccessInterner.None)
                continue;
            access = interner.Union(access, a);
            witness ??= w;
        }
        return (access, witness);
    }

    /// <summary>What the internet reaches of one ENI (a view from <see cref="Instance.Interfaces"/>).</summary>
    public (int Access, IpAddress? Witness) FromInterface(Instance target)
    {
        if (target.PrivateAddresses.All(a => a.IsV6 != v6))
            return (AccessInterner.None, null);
        var (nic, entries) = InternetExposure.Entries(target, v6);
        return entries.Count > 0 ? Answer(target, nic, Direction.Ingress, entries) : (AccessInterner.None, null);
    }

    private (int Access, IpAddress? Witness) ToInterface(Instance source)
    {
        if (source.PrivateAddresses.All(a => a.IsV6 != v6))
            return (AccessInterner.None, null);
        var (nic, exits) = InternetExposure.Exits(source, v6);
        return exits.Count > 0 ? Answer(source, nic, Direction.Egress, exits) : (AccessInterner.None, null);
    }

    private (int, IpAddress?) Answer(Instance instance, NicType nic, Direction direction, IReadOnlyList<IpAddress> locals)
    {
        if (instance.NetworkType == NetworkType.Vpc)
            nic = NicType.Intranet;
        var policyKey = PolicyClass.Key(state, instance);
        if (!_tables.TryGetValue((policyKey, nic), out var tables))
        {
            // A VPC NIC's internet traffic meets its one policy, already compiled for the instances' pairs.
            if (nic == NicType.Intranet && intranet(instance) is { } known)
            {
                tables = (known.Ingress, known.Egress);
                _tables.Add((policyKey, nic), tables);
            }
        }
        if (tables.Ingress is null)
        {
            var policy = PolicyRules.Of(state, instance, nic);
            tables = (new DirectionClasses(state, policy, Direction.Ingress, v6, interner), new DirectionClasses(state, policy, Direction.Egress, v6, interner));
            _tables.Add((policyKey, nic), tables);
        }
        var table = direction == Direction.Ingress ? tables.Ingress : tables.Egress;
        int[] localClasses = [.. locals.Select(table.LocalClassOf).Distinct().Order()];
        var localKey = string.Join(',', localClasses);
        if (!_answers.TryGetValue((policyKey, nic, direction, localKey), out var answer))
        {
            if (!_candidates.TryGetValue((policyKey, nic, direction), out var candidates))
                _candidates.Add((policyKey, nic, direction), candidates = InternetExposure.CandidateSources(state, table.Policy.Instance, table.Policy.NicType, table.Policy.Groups, table.Policy.RulesInOrder(direction), v6));
            var (access, witness) = table.AnyOf(candidates, localClasses);
            answer = (interner.Intern(access), witness);
            _answers.Add((policyKey, nic, direction, localKey), answer);
        }
        return answer;
    }
}
