namespace Palisade.Analysis.Reachability;

/// <summary>
/// Reachability pair by pair in the state where one group's inner access goes from Accept to Drop,
/// read off the matrix of the state before without compiling any table again. Inner access changes
/// no rule and no peer block: a table of a policy holding the group answers otherwise only for a peer
/// address that a member of the group holds and that no other group of the policy with inner access
/// Accept holds — there it answers by its rules alone (<see cref="DirectionClasses.RulesOnly"/>; inner
/// access Drop decides nothing, ARCHITECTURE.md semantics 2). Everywhere else the matrix's answer stands.
/// The audit's inner-access check asks this for every member pair of every such group; compiling the
/// members' tables again per group (<see cref="ReachAfter"/>, the twin the property test holds it to)
/// was most of that check's cost.
/// </summary>
internal sealed class InnerAccessDropped
{
    private readonly ReachMatrix _matrix;
    private readonly SecurityGroupId _group;
    private readonly Memberships _memberships;
    // Per table: whether the group is among its policy's, and the policy's other groups with inner access Accept.
    private readonly Dictionary<DirectionClasses, (bool HasGroup, SecurityGroupId[] OtherAccept)> _tables = new(ReferenceEqualityComparer.Instance);
    // Per position, the groups holding each address of ReachMatrix.AddressesAt in its network.
    private readonly Dictionary<int, SecurityGroupId[][]> _heldAt = [];

    public InnerAccessDropped(ReachMatrix matrix, SecurityGroupId group, Memberships memberships)
    {
        _matrix = matrix;
        _group = group;
        _memberships = memberships;
    }

    /// <summary>
    /// As <see cref="ReachAfter.CellAt(int, int, IReadOnlyList{int})"/> of the state with the group's
    /// inner access Drop: what the instance at <paramref name="source"/> reaches of the one at
    /// <paramref name="target"/> at its addresses at <paramref name="targetSlots"/>, the union over the address pairs.
    /// </summary>
    public int CellAt(int source, int target, IReadOnlyList<int> targetSlots)
    {
        var matrix = _matrix;
        if (source == target || matrix.ClassAt(source) < 0 || matrix.ClassAt(target) < 0
            || matrix.State.Instances[source].VpcId != matrix.State.Instances[target].VpcId)
            return AccessInterner.None;
        var interner = matrix.Interner;
        var (fromEndpoints, toEndpoints) = (matrix.EndpointsAt(source), matrix.EndpointsAt(target));
        var (fromAddresses, toAddresses) = (matrix.AddressesAt(source), matrix.AddressesAt(target));
        var (fromHeld, toHeld) = (HeldAt(source), HeldAt(target));
        var union = AccessInterner.None;
        for (var i = 0; i < fromEndpoints.Length; i++)
        {
            var from = matrix.PolicyOfEndpoint(fromEndpoints[i]);
            foreach (var j in targetSlots)
            {
                var to = matrix.PolicyOfEndpoint(toEndpoints[j]);
                var egressChanges = Changes(from.Egress, toHeld[j]);
                var ingressChanges = Changes(to.Ingress, fromHeld[i]);
                var cell = matrix.CellOfEndpoints(fromEndpoints[i], toEndpoints[j]);
                if (egressChanges || ingressChanges)
                {
                    var outbound = egressChanges
                        ? from.Egress.RulesOnly(from.Egress.PeerClassOf(toAddresses[j]), from.LocalEgress)
                        : matrix.EgressTowards(fromEndpoints[i], toEndpoints[j]);
                    var inbound = ingressChanges
                        ? to.Ingress.RulesOnly(to.Ingress.PeerClassOf(fromAddresses[i]), to.LocalIngress)
                        : matrix.IngressFrom(toEndpoints[j], fromEndpoints[i]);
                    cell = interner.Intersect(outbound, inbound);
                }
                union = interner.Union(union, cell);
            }
        }
        return union;
    }

    /// <summary>Whether the table answers otherwise for a peer address held by members of <paramref name="held"/> once the group's inner access is Drop.</summary>
    private bool Changes(DirectionClasses table, SecurityGroupId[] held)
    {
        if (held.Length == 0 || Array.IndexOf(held, _group) < 0)
            return false;
        if (!_tables.TryGetValue(table, out var groups))
        {
            var policy = table.Policy;
            // Inner access is between members over private addresses: a classic internet NIC has none.
            var intranet = policy.NicType == NicType.Intranet;
            _tables.Add(table, groups = (intranet && policy.Groups.Any(g => g.Id == _group),
                [.. policy.Groups.Where(g => g.Id != _group && g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept).Select(g => g.Id)]));
        }
        return groups.HasGroup && !groups.OtherAccept.Any(held.Contains);
    }

    private SecurityGroupId[][] HeldAt(int position)
    {
        if (!_heldAt.TryGetValue(position, out var held))
        {
            var instance = _matrix.State.Instances[position];
            _heldAt.Add(position, held = [.. _matrix.AddressesAt(position).Select(a => _memberships.GroupsHolding(instance, a))]);
        }
        return held;
    }

    /// <summary>
    /// Which groups' members hold each private address, per network (a group's members are ENIs, and
    /// inner access and group peers see only members of the viewer's own network — as
    /// <see cref="Engine.Policies.RuleResolver.MemberAddresses"/> resolves them). Built once per state.
    /// </summary>
    internal sealed class Memberships
    {
        private readonly Dictionary<(NetworkType, VpcId?, IpAddress), SecurityGroupId[]> _holding = [];

        public Memberships(NetworkState state)
        {
            var holding = new Dictionary<(NetworkType, VpcId?, IpAddress), HashSet<SecurityGroupId>>();
            foreach (var nic in state.Instances.SelectMany(i => i.Interfaces))
            {
                foreach (var address in nic.MemberAddresses)
                {
                    var key = Key(nic, address);
                    if (!holding.TryGetValue(key, out var groups))
                        holding.Add(key, groups = []);
                    groups.UnionWith(nic.SecurityGroupIds);
                }
            }
            foreach (var (key, groups) in holding)
                _holding.Add(key, [.. groups]);
        }

        /// <summary>The groups whose members in <paramref name="viewer"/>'s network hold <paramref name="address"/>.</summary>
        public SecurityGroupId[] GroupsHolding(Instance viewer, IpAddress address) =>
            _holding.TryGetValue(Key(viewer, address), out var groups) ? groups : [];

        private static (NetworkType, VpcId?, IpAddress) Key(Instance nic, IpAddress address) =>
            (nic.NetworkType, nic.NetworkType == NetworkType.Classic ? null : nic.VpcId, address);
    }
}
