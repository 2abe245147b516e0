using Palisade.Analysis.Policies;

namespace Palisade.Analysis.Reachability;

/// <summary>
/// Reachability in the state after a change, pair by pair on demand, built on the matrix of the state
/// before it: the policy of every instance the change does not affect is the same in both states (that
/// is what <c>Change.Affected</c> promises), so its compiled tables and the answers cached in them are
/// reused; only the policies of affected instances are compiled again. Answers are interned by the
/// matrix's interner, so that an unchanged pair has the same ID before and after. Instance addresses
/// are the same in both states (no change moves one).
/// </summary>
internal sealed class ReachAfter
{
    private readonly ReachMatrix _before;
    private readonly (DirectionClasses Egress, DirectionClasses Ingress)?[] _tables;
    // Per position, the tables of each address of AddressesAt: those of the ENI that owns it.
    private readonly (DirectionClasses Egress, DirectionClasses Ingress)[]?[] _slotTables;
    // For affected instances only: unaffected ones answer with the matrix's endpoint classes.
    private readonly IpAddress[]?[] _addresses;
    private readonly int[]?[] _localEgress;
    private readonly int[]?[] _localIngress;
    private readonly InternetAnswers _internet;
    private readonly Dictionary<InstanceId, int> _position = [];

    /// <param name="moved">For a join or a leave: the instance that changes groups. The other affected
    /// instances keep their groups and rules, so their tables are the matrix's, patched at that
    /// instance's addresses (<see cref="DirectionClasses.Patched"/>), instead of compiled afresh.</param>
    /// <param name="groupsAltered">For a change of some groups' own rules or settings, or of what their
    /// rules name (<see cref="WhatIf.Change.GroupsAltered"/>): an ENI in none of those groups keeps the
    /// matrix's tables, even on an affected instance.</param>
    /// <param name="listEdit">For an edit of prefix lists' entries, nothing else: the other affected
    /// ENIs' tables are the matrix's patched where the lists changed (<see cref="DirectionClasses.PatchedForLists"/>),
    /// instead of compiled afresh.</param>
    public ReachAfter(ReachMatrix before, NetworkState after, IReadOnlySet<InstanceId> affected, (InstanceId Instance, NetworkInterfaceId? Interface)? moved = null,
        IReadOnlySet<SecurityGroupId>? groupsAltered = null, PrefixListEditRanges? listEdit = null)
    {
        _before = before;
        State = after;
        var v6 = before.V6;
        var count = after.Instances.Length;
        _tables = new (DirectionClasses, DirectionClasses)?[count];
        _slotTables = new (DirectionClasses, DirectionClasses)[]?[count];
        _addresses = new IpAddress[]?[count];
        _localEgress = new int[]?[count];
        _localIngress = new int[]?[count];
        _internet = new InternetAnswers(after, v6, before.Interner, TablesOfInterface);
        Affected = [.. after.Instances.Select(i => affected.Contains(i.Id))];
        for (var k = 0; k < count; k++)
            _position.TryAdd(after.Instances[k].Id, k);
        var compiled = new Dictionary<string, (DirectionClasses Egress, DirectionClasses Ingress)>();
        IReadOnlyList<(IpAddress Address, (Instance Owner, Instance Nic)[] Holders)>? movedHolders = null;
        for (var k = 0; k < count; k++)
        {
            var instance = after.Instances[k];
            if (!Affected[k])
            {
                // Unaffected: its endpoint classes' tables and local classes, as in the matrix (looked up there when asked).
                var endpoints = before.EndpointsAt(k);
                if (endpoints.Length > 0)
                {
                    _slotTables[k] = [.. endpoints.Select(e => before.PolicyOfEndpoint(e)).Select(p => (p.Egress, p.Ingress))];
                    _tables[k] = _slotTables[k]![0];
                }
                continue;
            }
            var addresses = ReachMatrix.AddressesOf(instance, v6);
            _addresses[k] = addresses;
            if (addresses.Length == 0)
            {
                _localEgress[k] = _localIngress[k] = [];
                continue;
            }
            var interfaces = ReachMatrix.InterfacesOf(instance, addresses);
            var slots = new (DirectionClasses Egress, DirectionClasses Ingress)[addresses.Length];
            var beforeEndpoints = before.EndpointsAt(k);
            for (var slot = 0; slot < addresses.Length; slot++)
            {
                var nic = interfaces[slot];
                if (groupsAltered is { } altered && !nic.SecurityGroupIds.Any(altered.Contains)
                    && beforeEndpoints.Length == addresses.Length && before.AddressesAt(k)[slot] == addresses[slot])
                {
                    var unchanged = before.PolicyOfEndpoint(beforeEndpoints[slot]);
                    slots[slot] = (unchanged.Egress, unchanged.Ingress);
                    continue;
                }
                var key = PolicyClass.Key(after, nic);
                if (!compiled.TryGetValue(key, out var tables))
                {
                    var policy = PolicyRules.Of(after, nic, NicType.Intranet);
                    // The same address judged by the same ENI before: its old tables, patched at the
                    // moved ENI's addresses (a join or leave changes no one else's groups or rules).
                    if (moved is { } mover && instance.Id != mover.Instance && beforeEndpoints.Length == addresses.Length
                        && before.AddressesAt(k)[slot] == addresses[slot]
                        && before.PolicyOfEndpoint(beforeEndpoints[slot]) is var old
                        && old.Egress.Patched(policy, movedHolders ??= DirectionClasses.HoldersOf(after, MovedAddresses(after, mover))) is { } egress
                        && old.Ingress.Patched(policy, movedHolders) is { } ingress)
                        tables = (egress, ingress);
                    // The same address judged by the same rules before: its old tables, patched where the lists changed.
                    else if (listEdit is not null && beforeEndpoints.Length == addresses.Length && before.AddressesAt(k)[slot] == addresses[slot]
                        && before.PolicyOfEndpoint(beforeEndpoints[slot]) is var unedited
                        && unedited.Egress.PatchedForLists(policy, listEdit) is { } editedEgress
                        && unedited.Ingress.PatchedForLists(policy, listEdit) is { } editedIngress)
                        tables = (editedEgress, editedIngress);
                    else
                    {
                        tables = (new DirectionClasses(after, policy, Direction.Egress, v6, before.Interner), new DirectionClasses(after, policy, Direction.Ingress, v6, before.Interner));
                        CompiledAfresh = true;
                    }
                    compiled.Add(key, tables);
                }
                slots[slot] = tables;
            }
            _slotTables[k] = slots;
            _tables[k] = slots[0];
            _localEgress[k] = [.. addresses.Select((a, slot) => slots[slot].Egress.LocalClassOf(a))];
            _localIngress[k] = [.. addresses.Select((a, slot) => slots[slot].Ingress.LocalClassOf(a))];
        }
    }

    /// <summary>The private addresses of the ENI that joins or leaves: the instance's own (its primary ENI), or the secondary ENI's.</summary>
    private static IReadOnlyCollection<IpAddress> MovedAddresses(NetworkState after, (InstanceId Instance, NetworkInterfaceId? Interface) mover)
    {
        if (after.FindInstance(mover.Instance) is not { } instance)
            return [];
        return mover.Interface is { } eni && instance.SecondaryInterfaces.FirstOrDefault(e => e.Id == eni) is { } secondary
            ? secondary.PrivateAddresses
            : instance.PrivateAddresses;
    }

    /// <summary>The tables of an ENI (a view from <see cref="Instance.Interfaces"/>) after the change: those of its first address of the family.</summary>
    private (DirectionClasses Egress, DirectionClasses Ingress)? TablesOfInterface(Instance nic)
    {
        if (!_position.TryGetValue(nic.Id, out var k) || _slotTables[k] is not { } slots)
            return null;
        var first = nic.PrivateAddresses.FirstOrDefault(a => a.IsV6 == _before.V6);
        var slot = Array.IndexOf(AddressesAt(k), first);
        return slot < 0 ? null : slots[slot];
    }

    public NetworkState State { get; }

    /// <summary>Whether some table was compiled afresh, rather than kept or patched from the matrix's.</summary>
    public bool CompiledAfresh { get; private set; }

    /// <summary>Whether the instance at each position is one whose policy the change can alter.</summary>
    public bool[] Affected { get; }

    /// <summary>
    /// The access ID from the instance at <paramref name="source"/> to the one at <paramref name="target"/>
    /// (positions in the state): the union over their address pairs of what the source's egress accepts
    /// towards the target's address and the target's ingress from the source's.
    /// </summary>
    public int CellAt(int source, int target) => CellAt(source, target, null);

    /// <summary>
    /// As <see cref="CellAt(int, int)"/>, towards only the target's addresses at <paramref name="targetSlots"/>
    /// (of <see cref="AddressesAt"/>; every one when null): what reaches one ENI of the target.
    /// </summary>
    public int CellAt(int source, int target, IReadOnlyList<int>? targetSlots)
    {
        if (source == target || _slotTables[source] is not { } from || _slotTables[target] is not { } to
            || State.Instances[source].VpcId != State.Instances[target].VpcId)
            return AccessInterner.None;
        var interner = _before.Interner;
        var union = AccessInterner.None;
        var sources = AddressesAt(source);
        var targets = AddressesAt(target);
        for (var i = 0; i < sources.Length; i++)
        {
            for (var n = 0; n < (targetSlots?.Count ?? targets.Length); n++)
            {
                var j = targetSlots?[n] ?? n;
                var outbound = from[i].Egress.Half(from[i].Egress.PeerClassOf(targets[j]), LocalEgressAt(source, i));
                if (outbound == AccessInterner.None)
                    continue;
                var inbound = to[j].Ingress.Half(to[j].Ingress.PeerClassOf(sources[i]), LocalIngressAt(target, j));
                union = interner.Union(union, interner.Intersect(outbound, inbound));
            }
        }
        return union;
    }

    public (int Access, IpAddress? Witness) FromInternetAt(Instance target) => _internet.From(target);

    public bool HasAddress(int position) => _tables[position] is not null;

    /// <summary>The tables of the first address of the instance at a position.</summary>
    public (DirectionClasses Egress, DirectionClasses Ingress) TablesAt(int position) => _tables[position]!.Value;

    /// <summary>The tables of address <paramref name="slot"/> of <see cref="AddressesAt"/>: those of the ENI that owns it.</summary>
    public (DirectionClasses Egress, DirectionClasses Ingress) TablesAt(int position, int slot) => _slotTables[position]![slot];

    /// <summary>The addresses of the instance at a position that take part (see <see cref="ReachMatrix.AddressesOf"/>).</summary>
    public IpAddress[] AddressesAt(int position) => _addresses[position] ?? _before.AddressesAt(position);

    /// <summary>The local class of address <paramref name="slot"/> of <see cref="AddressesAt"/> in the egress table.</summary>
    public int LocalEgressAt(int position, int slot) =>
        _localEgress[position] is { } mine ? mine[slot] : _before.PolicyOfEndpoint(_before.EndpointsAt(position)[slot]).LocalEgress;

    public int LocalIngressAt(int position, int slot) =>
        _localIngress[position] is { } mine ? mine[slot] : _before.PolicyOfEndpoint(_before.EndpointsAt(position)[slot]).LocalIngress;
}
