using System.Runtime.InteropServices;
using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Hosts;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Agent.Rendering;

/// <summary>
/// A NIC carried by a host interface (from <c>DescribeHostPolicy</c>): the ENI
/// <see cref="NetworkInterfaceId"/> of the instance, or the instance's primary NIC when it names none.
/// </summary>
public sealed record HostBinding(InstanceId InstanceId, string InterfaceName)
{
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }

    public override string ToString() => NetworkInterfaceId is { } eni ? $"{eni} of {InstanceId}" : InstanceId.Value;
}

/// <summary>One account's share of a host: the part of its state its NICs there depend on, and those NICs.</summary>
public sealed record HostPart(NetworkState State, IReadOnlyList<HostBinding> Bindings)
{
    /// <summary>
    /// The state file text <see cref="State"/> was read from, when the caller has it (the agent's
    /// fetch): what lets <see cref="PolicyRenderer.Rerender"/> see that only prefix-list entries changed.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>
    /// The resources' texts <see cref="State"/> was read from, by list (<see cref="Following.StateParts.Lists"/>'
    /// order), when the agent read it from them rather than from one text (issue 17, seventeenth session):
    /// the text they make is <see cref="Following.StateParts.Write"/>'s, so they stand for <see cref="Source"/>.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>>? SourceItems { get; init; }

    /// <summary>
    /// Each bound instance's part digest as the server gave it (the incremental fetch, issue 17): the
    /// hash of everything that instance's NICs' policies depend on. Two parts whose digests for an
    /// instance are equal render that instance's NICs alike, which lets
    /// <see cref="PolicyRenderer.Rerender"/> keep their chains. Null when the server sent none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? NicDigests { get; init; }
}

/// <summary>
/// Compiles what the engine enforces for each NIC bound to a host into the <see cref="HostRuleset"/>
/// the kernel runs. The order is the engine's (<see cref="NicPolicy.RulesInOrder"/>): priority, drop
/// before accept. Inner access comes first (it overrides every rule, semantics 2); the default
/// comes last. Consecutive rules with the same verdict are merged into one rule per shape
/// (protocol, ports, local block) whose peers form a set: within such a run the first match and
/// any match give the same verdict, so the order allows it. A group peer becomes a named set of
/// the group's members, and a prefix-list peer a named set of the list's blocks, so a Join, a Leave or
/// an entry edit changes set elements, not rules. NICs are told apart by port and MAC, so the NICs of
/// several accounts (<see cref="HostPart"/>) with the same addresses share a host; each network gets
/// its own conntrack zone.
/// </summary>
public static class PolicyRenderer
{
    public static HostRuleset Render(NetworkState state, IReadOnlyList<HostBinding> bindings, long revision) =>
        Render([new HostPart(state, bindings)], revision);

    /// <summary>
    /// <see cref="Render(IReadOnlyList{HostPart}, long, HostDeclaration?)"/> of <paramref name="after"/>, at
    /// the cost of the change when only prefix-list entries changed since <paramref name="before"/>
    /// (rendered from <paramref name="beforeParts"/>): then no chain can differ (a prefix-list peer is
    /// a named set whatever its entries), so the ruleset is <paramref name="before"/> with those lists'
    /// sets rebuilt, not every NIC compiled again (issue 16: an entry edit of a list that 100 NICs use
    /// took ~50 ms of rendering under load before its 200 elements went to the kernel). Anything else
    /// — a binding, a group, a rule, an instance, which lists exist or their family, a state without
    /// its source text — renders whole. The property test holds the two to the same result.
    /// </summary>
    /// <para>
    /// Otherwise, where both renderings carry the server's part digests (<see cref="HostPart.NicDigests"/>),
    /// a NIC whose instance's digest and binding are as before keeps its chains and the named sets
    /// they look up (issue 17: after every fetch the agent compiled all 100 NICs again, 33–46 ms
    /// under load, for a change of one); only the NICs whose parts changed are compiled, and what spans
    /// NICs — clashes, the host's declaration, conntrack zones — is decided again whole.
    /// </para>
    public static HostRuleset Rerender(HostRuleset before, IReadOnlyList<HostPart> beforeParts, IReadOnlyList<HostPart> after, long revision, HostDeclaration? declaration = null) =>
        EntriesOnly(before, beforeParts, after, revision) ?? Render(after, revision, declaration, Unchanged.Of(before, beforeParts));

    /// <summary>The NICs of an earlier rendering that a new one may keep, by binding and part digest.</summary>
    private sealed class Unchanged
    {
        private readonly Dictionary<HostBinding, string> _digests = [];
        private readonly Dictionary<(NicRef, string), NftNic> _nics = [];
        private readonly Dictionary<string, NftAddressSet> _sets = new(StringComparer.Ordinal);

        /// <summary>How many NICs the last rendering kept (for tests).</summary>
        public int Kept { get; set; }

        public static Unchanged? Of(HostRuleset before, IReadOnlyList<HostPart> beforeParts)
        {
            var unchanged = new Unchanged();
            foreach (var part in beforeParts)
            {
                if (part.NicDigests is not { } digests)
                    continue;
                foreach (var binding in part.Bindings)
                {
                    if (digests.TryGetValue(binding.InstanceId.Value, out var digest))
                        unchanged._digests[binding] = digest;
                }
            }
            if (unchanged._digests.Count == 0)
                return null;
            foreach (var nic in before.Nics)
                unchanged._nics[(nic.Ref, nic.InterfaceName)] = nic;
            foreach (var set in before.Sets)
                unchanged._sets[set.Name] = set;
            return unchanged;
        }

        /// <summary>
        /// The earlier NIC for <paramref name="binding"/> of <paramref name="part"/> when its instance's
        /// part digest and its binding are the same (an instance is one account's, so the digest is of
        /// the same account's part) and every set it looks up is at hand; null when it must be compiled.
        /// </summary>
        public NftNic? Find(HostPart part, HostBinding binding, NicRef nic)
        {
            if (part.NicDigests?.GetValueOrDefault(binding.InstanceId.Value) is not { } digest
                || !_digests.TryGetValue(binding, out var earlier) || earlier != digest
                || !_nics.TryGetValue((nic, binding.InterfaceName), out var kept)
                || !NamedSets(kept).All(_sets.ContainsKey))
                return null;
            return kept;
        }

        /// <summary>The earlier set of that name (a kept NIC's chains look it up; its part, hence its elements, did not change).</summary>
        public NftAddressSet Set(string name) => _sets[name];
    }

    /// <summary>The named sets a NIC's chains look up.</summary>
    private static IEnumerable<string> NamedSets(NftNic nic) =>
        nic.Ingress.Rules.Concat(nic.Egress.Rules).OfType<NftRule>().Select(r => r.Peer).OfType<AddressSource.Named>().Select(n => n.SetName);

    /// <summary>For tests: how many NICs <see cref="Rerender"/> keeps from <paramref name="before"/> rather than compiling them (0 when it renders whole or only rebuilds prefix-list sets).</summary>
    public static int KeptBy(HostRuleset before, IReadOnlyList<HostPart> beforeParts, IReadOnlyList<HostPart> after, long revision, HostDeclaration? declaration = null)
    {
        if (EntriesOnly(before, beforeParts, after, revision) is not null || Unchanged.Of(before, beforeParts) is not { } unchanged)
            return 0;
        Render(after, revision, declaration, unchanged);
        return unchanged.Kept;
    }

    private static HostRuleset? EntriesOnly(HostRuleset before, IReadOnlyList<HostPart> beforeParts, IReadOnlyList<HostPart> after, long revision)
    {
        if (beforeParts.Count != after.Count)
            return null;
        for (var i = 0; i < after.Count; i++)
        {
            var (old, now) = (beforeParts[i], after[i]);
            if (!old.Bindings.SequenceEqual(now.Bindings)
                || !old.State.PrefixLists.Select(l => (l.Id, l.IsV6)).SequenceEqual(now.State.PrefixLists.Select(l => (l.Id, l.IsV6)))
                || !SameButPrefixLists(old, now))
                return null;
        }
        var sets = before.Sets.ToBuilder();
        for (var i = 0; i < sets.Count; i++)
        {
            var set = sets[i];
            if (!set.Interval || !(set.Name.StartsWith("pl4_", StringComparison.Ordinal) || set.Name.StartsWith("pl6_", StringComparison.Ordinal)))
                continue;
            var id = PrefixListId.Parse(set.Name[4..]);
            var lists = after.Select(p => p.State.FindPrefixList(id)).OfType<PrefixList>().ToList();
            if (lists.Count == 0)
                return null;
            var entries = Merge(lists[0].Entries);
            if (lists.Skip(1).Any(l => !Merge(l.Entries).SequenceEqual(entries)))
                return null;
            sets[i] = set with { Elements = entries };
        }
        return before with { Revision = revision, Sets = sets.ToImmutable() };
    }

    /// <summary>
    /// Whether two parts' sources are the same but for their prefix lists: by their texts
    /// (<see cref="StateSources.SameButPrefixLists"/>), or by their resources' texts list by list, every
    /// list but <c>PrefixLists</c> the same items in the same order (the texts written from them then
    /// differ in that member alone, the region being the agent's). A part without either is not the same.
    /// </summary>
    private static bool SameButPrefixLists(HostPart old, HostPart now)
    {
        if (old.SourceItems is { } before && now.SourceItems is { } after)
        {
            if (before.Count != after.Count)
                return false;
            for (var l = 0; l < before.Count; l++)
            {
                // The same list (the held union's, shared by the fetches that did not change it) is the same items, without a walk.
                if (Following.StateParts.Lists[l].List != "PrefixLists" && !ReferenceEquals(before[l], after[l]) && !before[l].SequenceEqual(after[l], StringComparer.Ordinal))
                    return false;
            }
            return true;
        }
        return old.Source is not null && now.Source is not null && StateSources.SameButPrefixLists(old.Source, now.Source);
    }

    /// <param name="declaration">
    /// What this host declares it carries (the agent's own <c>--interfaces</c> and <c>--addresses</c>):
    /// a binding outside is left closed and said, whatever the server sent (issue 18). Null trusts the server's bindings.
    /// </param>
    public static HostRuleset Render(IReadOnlyList<HostPart> parts, long revision, HostDeclaration? declaration = null) =>
        Render(parts, revision, declaration, null);

    private static HostRuleset Render(IReadOnlyList<HostPart> parts, long revision, HostDeclaration? declaration, Unchanged? unchanged)
    {
        var problems = new List<string>();
        var sets = new SortedDictionary<string, NftAddressSet>(StringComparer.Ordinal);
        // Instance here is the NIC's own view (Instance.Interfaces): a secondary ENI's addresses and
        // groups, so that its policy is the engine's for that ENI and nothing of its instance's others.
        var found = new List<(HostPart Part, HostBinding Binding, Instance Instance, NicRef Ref, MacAddress Mac)>();
        foreach (var part in parts)
        {
            foreach (var binding in part.Bindings)
            {
                if (part.State.FindInstance(binding.InstanceId) is not { } instance)
                    problems.Add($"{binding} on {binding.InterfaceName}: not in the state; its traffic stays closed");
                else if (NicOf(instance, binding) is { } nic)
                    found.Add((part, binding, nic.View, nic.Ref, nic.Mac));
                else
                    problems.Add($"{binding} on {binding.InterfaceName}: the instance has no such network interface in the state; its traffic stays closed");
            }
        }
        // Never trust the server blindly: one port carries one NIC, one NIC sits on one port, and a
        // MAC is one NIC's. What breaks that is left closed (its port has no chain), and said.
        var refused = new HashSet<(NicRef, string)>();
        if (declaration is not null)
        {
            foreach (var f in found)
            {
                if (declaration.Refusal(f.Binding.InterfaceName, f.Instance.PrivateAddresses) is { } why)
                {
                    problems.Add($"{f.Ref} on {f.Binding.InterfaceName}: {why}; outside this host's declaration, left closed and reported as not enforced");
                    refused.Add((f.Ref, f.Binding.InterfaceName));
                }
            }
        }
        foreach (var clash in found.GroupBy(f => f.Binding.InterfaceName, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"interface {clash.Key} is bound to {string.Join(" and ", clash.Select(c => c.Ref.ToString()).Order(StringComparer.Ordinal))}; left closed");
            refused.UnionWith(clash.Select(c => (c.Ref, c.Binding.InterfaceName)));
        }
        foreach (var clash in found.GroupBy(f => f.Mac).Where(g => g.Select(c => c.Binding.InterfaceName).Distinct().Count() > 1))
        {
            problems.Add($"MAC {clash.Key} is claimed on {string.Join(" and ", clash.Select(c => c.Binding.InterfaceName).Order(StringComparer.Ordinal))}; left closed");
            refused.UnionWith(clash.Select(c => (c.Ref, c.Binding.InterfaceName)));
        }
        var kept = found.Where(f => !refused.Contains((f.Ref, f.Binding.InterfaceName))).ToList();
        var zones = ConntrackZones.Assign(kept.Select(f => NetworkOf(f.Instance)));
        var nics = new List<NftNic>();
        foreach (var (part, binding, instance, nicRef, mac) in kept.OrderBy(f => f.Binding.InterfaceName, StringComparer.Ordinal))
        {
            if (instance.NetworkType == NetworkType.Classic)
                problems.Add($"{instance.Id}: a classic-network instance; only its intranet NIC is enforced here");
            var network = NetworkOf(instance);
            if (unchanged?.Find(part, binding, nicRef) is { } same)
            {
                // Its part did not change: its chains are as compiled before, and so are the sets they look up.
                nics.Add(same with { Zone = zones[network] });
                foreach (var name in NamedSets(same))
                    sets.TryAdd(name, unchanged.Set(name));
                unchanged.Kept++;
                continue;
            }
            // The NIC's rules in the engine's order, gathered as NicPolicy.Compile gathers them; not its match
            // tables (issue 17, nineteenth session: the renderer never decides a packet, and compiling built a
            // map of every inner-access member's address — a 1,000-member group's — for each NIC rendered).
            var policy = NicRules.Gather(part.State, instance);
            var resolver = new RuleResolver(part.State, instance);
            nics.Add(new NftNic(instance.Id, binding.InterfaceName, mac, network, zones[network],
                [.. instance.PrivateAddresses.Order()],
                Chain(policy, resolver, part.State, instance, nicRef.Name, Direction.Ingress, sets),
                Chain(policy, resolver, part.State, instance, nicRef.Name, Direction.Egress, sets)) { Ref = nicRef });
        }
        return new HostRuleset(revision, [.. sets.Values], [.. nics], [.. problems]);
    }

    /// <summary>
    /// The NIC a binding names, as the engine sees it: the ENI's view of its instance
    /// (<see cref="Instance.Interfaces"/>: its own addresses and groups, the one notion of "the groups
    /// of an address" the engine and analysis use), which NIC it is, and its MAC (a primary NIC's is its
    /// instance's; a secondary ENI's as the state says, or derived from its ID as the server does).
    /// Null when the instance has no such ENI.
    /// </summary>
    private static (Instance View, NicRef Ref, MacAddress Mac)? NicOf(Instance instance, HostBinding binding)
    {
        if (binding.NetworkInterfaceId is not { } eni || instance.NetworkInterfaceId == eni)
            return (instance, new NicRef(instance.Id, binding.NetworkInterfaceId, Secondary: false), MacAddress.ForInstance(instance.Id));
        if (instance.SecondaryInterfaces.FirstOrDefault(e => e.Id == eni) is not { } secondary)
            return null;
        var view = instance.Interfaces.First(v => v.IsSecondaryInterface && v.NetworkInterfaceId == eni);
        return (view, new NicRef(instance.Id, eni, Secondary: true), secondary.MacAddress ?? MacAddress.Of(eni));
    }

    /// <summary>The network a NIC's addresses mean something in: its VPC (IDs are unique across accounts), or the classic network.</summary>
    public static string NetworkOf(Instance instance) =>
        instance.NetworkType == NetworkType.Vpc && instance.VpcId is { } vpc ? vpc.ToString() : "classic";

    public static string IngressChainName(InstanceId id) => IngressChainName(id.Value);

    public static string EgressChainName(InstanceId id) => EgressChainName(id.Value);

    /// <param name="nic">The NIC's <see cref="NicRef.Name"/>: its instance's ID for a primary NIC, the ENI's ID for a secondary one.</param>
    public static string IngressChainName(string nic) => $"in_{nic}";

    public static string EgressChainName(string nic) => $"out_{nic}";

    private static NftChain Chain(NicRules policy, RuleResolver resolver, NetworkState state, Instance nic, string nicName, Direction direction,
        SortedDictionary<string, NftAddressSet> sets)
    {
        var ingress = direction == Direction.Ingress;
        var peerField = ingress ? AddressField.Source : AddressField.Destination;
        NftVerdict VerdictOf(Verdict v) => v == Verdict.Drop ? NftVerdict.Drop : ingress ? NftVerdict.Accept : NftVerdict.Return;
        var rules = new List<NftChainRule>();

        // Semantics 2: members of a shared group whose inner access is Accept always talk.
        foreach (var group in policy.Groups.Where(g => g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept))
        {
            foreach (var family in Families)
            {
                var set = MemberSet(state, group.Id, nic, family, sets);
                rules.Add(new NftRule(family, peerField, new AddressSource.Named(set), IpProtocol.All, [], null, null, VerdictOf(Verdict.Accept),
                    $"inner access of {group.Id}"));
            }
        }

        var name = ingress ? IngressChainName(nicName) : EgressChainName(nicName);
        var ordered = policy.Of(direction);
        var setNumber = 0;
        for (var start = 0; start < ordered.Length;)
        {
            var verdict = ordered[start].Rule.Policy;
            var end = start;
            while (end < ordered.Length && ordered[end].Rule.Policy == verdict)
                end++;
            rules.AddRange(Run(ordered[start..end], resolver, state, nic, peerField, VerdictOf(verdict), name, ref setNumber, sets));
            start = end;
        }

        // The default: inbound closed; outbound open unless the NIC is in an advanced group. (An
        // inner-access Drop group adds nothing here: inbound is closed anyway.)
        return new NftChain(name, [.. rules], ingress ? NftVerdict.Drop : VerdictOf(policy.DefaultEgress));
    }

    private static readonly AddressFamily[] Families = [AddressFamily.V4, AddressFamily.V6];

    /// <summary>
    /// One run of rules with one verdict, as few kernel rules as it allows: the rules whose peer is
    /// a block (CIDR or prefix list) and that name no source ports or local block go into one set
    /// per family and kind; the others (group peers, quintuple rules) stay rules of their own.
    /// </summary>
    private static IEnumerable<NftChainRule> Run(RuleRef[] run, RuleResolver resolver, NetworkState state, Instance nic, AddressField peerField, NftVerdict verdict,
        string chainName, ref int setNumber, SortedDictionary<string, NftAddressSet> sets)
    {
        var output = new List<NftChainRule>();
        var pooled = new Dictionary<(AddressFamily, RunSetKind), (List<(Cidr Peer, IpProtocol Protocol, int Low, int High, string Owner)> Items, List<string> Ids)>();
        foreach (var r in run)
        {
            var rule = r.Rule;
            var resolvedPorts = resolver.DestinationPorts(rule).ToList();
            if (rule.Protocol.HasPorts() && resolvedPorts.Count == 0)
                continue; // a port range list the state does not hold: the rule matches nothing.
            var ports = rule.Protocol.HasPorts() ? Normalize(resolvedPorts) : [];
            PortRange? sourcePorts = rule.Protocol.HasPorts() && rule.SourcePorts is { } sp && !(sp.Low == 0 && sp.High == PortRange.MaxPort) ? sp : null;
            foreach (var family in Families)
            {
                if (rule.LocalCidr is { } local && local.IsV6 != (family == AddressFamily.V6))
                    continue;
                // The engine matches the protocol number whatever the family (ICMPv6 in IPv4 is odd but possible), and so does the kernel.
                var protocol = rule.Protocol;
                if (rule.Peer is RulePeer.Group g)
                {
                    var set = MemberSet(state, g.GroupId, nic, family, sets);
                    output.Add(new NftRule(family, peerField, new AddressSource.Named(set), protocol, ports, sourcePorts, rule.LocalCidr, verdict, rule.Id.ToString()) { CountedRule = rule.Id.ToString() });
                    continue;
                }
                if (rule.Peer is RulePeer.PrefixList pl)
                {
                    // A named interval set of the list's blocks: an entry edit is a set-element update, not a rule rewrite.
                    if (PrefixListSet(state, pl.PrefixListId, family, sets) is { } listSet)
                        output.Add(new NftRule(family, peerField, new AddressSource.Named(listSet), protocol, ports, sourcePorts, rule.LocalCidr, verdict, rule.Id.ToString()) { CountedRule = rule.Id.ToString() });
                    continue;
                }
                var blocks = resolver.PeerBlocks(r).Where(b => b.IsV6 == (family == AddressFamily.V6)).ToList();
                if (blocks.Count == 0)
                    continue;
                if (sourcePorts is not null || rule.LocalCidr is not null)
                {
                    var merged = Merge(blocks);
                    output.Add(new NftRule(family, peerField, merged.Length == 1 && merged[0].PrefixLength == 0 ? null : new AddressSource.Inline(merged), protocol, ports,
                        sourcePorts, rule.LocalCidr, verdict, rule.Id.ToString()) { CountedRule = rule.Id.ToString() });
                    continue;
                }
                var kind = protocol == IpProtocol.All ? RunSetKind.Peer : protocol.HasPorts() ? RunSetKind.PeerProtocolPort : RunSetKind.PeerProtocol;
                if (!pooled.TryGetValue((family, kind), out var pool))
                {
                    pool = ([], []);
                    pooled[(family, kind)] = pool;
                }
                var ranges = ports.IsEmpty ? [(0, PortRange.MaxPort)] : ports.Select(p => (p.Low, p.High)).ToList();
                foreach (var block in blocks)
                {
                    foreach (var (low, high) in ranges)
                        pool.Items.Add((block, protocol, low, high, rule.Id.ToString()));
                }
                pool.Ids.Add(rule.Id.ToString());
            }
        }
        foreach (var ((family, kind), (items, ids)) in pooled.OrderBy(p => p.Key))
        {
            var elements = Disjoint(kind, items);
            var comment = ids.Count <= 3 ? string.Join(" ", ids) : $"{ids[0]} and {ids.Count - 1} more";
            if (elements.Length == 1)
            {
                var e = elements[0];
                if (kind != RunSetKind.PeerProtocolPort || e.AllPorts || e.PortLow > 0)
                {
                    output.Add(new NftRule(family, peerField, e.Peer.PrefixLength == 0 ? null : new AddressSource.Inline([e.Peer]), kind == RunSetKind.Peer ? IpProtocol.All : e.Protocol,
                        kind == RunSetKind.PeerProtocolPort && !e.AllPorts ? [PortRange.Create(e.PortLow, e.PortHigh)] : [], null, null, verdict, comment) { CountedRule = e.Owner });
                    continue;
                }
            }
            output.Add(new NftRunSet(family, peerField, $"{chainName}_{setNumber++}", kind, elements, verdict, comment));
        }
        return output;
    }

    /// <summary>
    /// The same packets as the union of <paramref name="items"/>, as elements no two of which
    /// overlap (the kernel refuses overlapping intervals in a concatenated set), each counted for
    /// the one ECS rule that decides its packets: per protocol, the port line is cut where any range
    /// starts or ends; in each piece the covering items are taken in the run's order (the engine's
    /// first match) and each keeps only the addresses no earlier item took (CIDR subtraction), so an
    /// element's <see cref="NftElement.Owner"/> is exactly the rule the engine names; neighbouring
    /// pieces with the same blocks and owners join.
    /// </summary>
    internal static ImmutableArray<NftElement> Disjoint(RunSetKind kind, IEnumerable<(Cidr Peer, IpProtocol Protocol, int Low, int High, string Owner)> items)
    {
        var result = new List<NftElement>();
        var byProtocol = kind == RunSetKind.Peer
            ? items.GroupBy(_ => IpProtocol.All)
            : items.GroupBy(i => i.Protocol);
        foreach (var group in byProtocol.OrderBy(g => g.Key))
        {
            var list = group.ToList();
            if (kind != RunSetKind.PeerProtocolPort)
            {
                result.AddRange(FirstMatch(list).Select(b => new NftElement(b.Block, group.Key, 0, PortRange.MaxPort, b.Owner)));
                continue;
            }
            var cuts = list.SelectMany(i => new[] { i.Low, i.High + 1 }).Distinct().Order().ToList();
            (int Low, int High, List<(Cidr Block, string Owner)> Blocks)? open = null;
            for (var c = 0; c + 1 < cuts.Count; c++)
            {
                var (low, high) = (cuts[c], cuts[c + 1] - 1);
                var blocks = FirstMatch(list.Where(i => i.Low <= low && i.High >= high));
                if (open is { } o && o.High + 1 == low && o.Blocks.SequenceEqual(blocks))
                {
                    open = (o.Low, high, o.Blocks);
                    continue;
                }
                Flush();
                open = blocks.Count == 0 ? null : (low, high, blocks);
            }
            Flush();

            void Flush()
            {
                if (open is { } done)
                    result.AddRange(done.Blocks.Select(b => new NftElement(b.Block, group.Key, done.Low, done.High, b.Owner)));
                open = null;
            }
        }
        return [.. result];
    }

    /// <summary>
    /// The blocks of <paramref name="items"/> (in rule order) cut so each address belongs to the first
    /// item holding it: what that item's rule decides. Sorted by block; none inside another.
    /// </summary>
    private static List<(Cidr Block, string Owner)> FirstMatch(IEnumerable<(Cidr Peer, IpProtocol Protocol, int Low, int High, string Owner)> items)
    {
        var taken = new List<Cidr>();
        var owned = new List<(Cidr Block, string Owner)>();
        foreach (var item in items)
        {
            foreach (var piece in Subtract(item.Peer, taken))
                owned.Add((piece, item.Owner));
            taken.Add(item.Peer);
        }
        // Pieces of one owner that cover one another cannot arise (each piece avoids what was taken before it).
        return [.. owned.OrderBy(o => o.Block.First).ThenBy(o => o.Block.PrefixLength)];
    }

    /// <summary><paramref name="block"/> without the addresses of <paramref name="minus"/>, as the fewest CIDR blocks halving finds.</summary>
    internal static IEnumerable<Cidr> Subtract(Cidr block, IReadOnlyList<Cidr> minus)
    {
        var overlapping = minus.Where(m => m.First <= block.Last && block.First <= m.Last).ToList();
        if (overlapping.Count == 0)
        {
            yield return Cidr.Create(block.Network, block.PrefixLength);
            yield break;
        }
        if (overlapping.Any(m => m.Covers(block)))
            yield break;
        // Some block strictly inside this one: split it in halves and look again.
        var length = block.PrefixLength + 1;
        var low = Cidr.Create(block.Network, length);
        var high = Cidr.Create(new IpAddress(block.IsV6, block.First | ((UInt128)1 << (block.Network.BitLength - length))), length);
        foreach (var part in Subtract(low, overlapping).Concat(Subtract(high, overlapping)))
            yield return part;
    }

    /// <summary>Port ranges (at least one) sorted and joined; empty when they cover every port, so no match is needed.</summary>
    internal static ImmutableArray<PortRange> Normalize(IEnumerable<PortRange> ranges)
    {
        var sorted = ranges.Select(r => (r.Low, r.High)).OrderBy(r => r.Low).ToList();
        if (sorted.Count == 0)
            return [];
        var result = new List<(int Low, int High)>();
        foreach (var (low, high) in sorted)
        {
            if (result.Count > 0 && low <= result[^1].High + 1)
                result[^1] = (result[^1].Low, Math.Max(result[^1].High, high));
            else
                result.Add((low, high));
        }
        if (result.Count == 1 && result[0].Low == 0 && result[0].High == PortRange.MaxPort)
            return [];
        // Only PortRange.Any reaches down to port 0, and it covers every port: no range here starts at 0.
        return [.. result.Select(r => PortRange.Create(r.Low, r.High))];
    }

    /// <summary>Blocks with the ones another covers removed, sorted: what an interval set holds.</summary>
    internal static ImmutableArray<Cidr> Merge(IEnumerable<Cidr> blocks)
    {
        var sorted = blocks.Distinct().OrderBy(b => b.First).ThenBy(b => b.PrefixLength).ToList();
        var kept = new List<Cidr>();
        foreach (var b in sorted)
        {
            if (kept.Count > 0 && kept[^1].Covers(b))
                continue;
            kept.Add(Cidr.Create(b.Network, b.PrefixLength));
        }
        return [.. kept];
    }

    /// <summary>
    /// The named set of a prefix list's blocks of one family, created on first use; null when the
    /// state does not hold the list or it is of the other family (the rule matches nothing there).
    /// </summary>
    private static string? PrefixListSet(NetworkState state, PrefixListId id, AddressFamily family, SortedDictionary<string, NftAddressSet> sets)
    {
        if (state.FindPrefixList(id) is not { } list || list.IsV6 != (family == AddressFamily.V6))
            return null;
        var name = (family == AddressFamily.V4 ? "pl4_" : "pl6_") + id;
        if (!sets.ContainsKey(name))
            sets[name] = new NftAddressSet(name, family, Merge(list.Entries), Interval: true);
        return name;
    }

    /// <summary>The named set of a group's members that share <paramref name="nic"/>'s network (semantics 5), created on first use.</summary>
    private static string MemberSet(NetworkState state, SecurityGroupId groupId, Instance nic, AddressFamily family, SortedDictionary<string, NftAddressSet> sets)
    {
        var group = state.FindGroup(groupId);
        var ownNetwork = group is not null && (nic.NetworkType == NetworkType.Vpc ? group.VpcId == nic.VpcId : group.VpcId is null);
        var network = nic.NetworkType == NetworkType.Vpc ? nic.VpcId!.Value.ToString() : "classic";
        var name = (family == AddressFamily.V4 ? "m4_" : "m6_") + groupId + (ownNetwork ? "" : "_" + network);
        if (!sets.ContainsKey(name))
        {
            var members = state.MembersOf(groupId);
            var elements = ImmutableCollectionsMarshal.AsArray(members) is { } array
                ? MemberElements.GetValue(array, _ => new()).GetOrAdd((nic.NetworkType, nic.VpcId, family), key => Members(members, key.Type, key.Vpc, key.Family))
                : Members(members, nic.NetworkType, nic.VpcId, family);
            sets[name] = new NftAddressSet(name, family, elements);
        }
        return name;
    }

    /// <summary>
    /// A group's members' addresses of one family in one network, as a set's elements, by the members
    /// array they were made from (<see cref="NetworkState.MembersOf"/>: immutable, and shared by a state
    /// made from another with only its groups changed, <see cref="NetworkState.WithGroups"/>). Issue 17,
    /// eighteenth session: a NIC whose part changed by a rule was compiled again with its member sets —
    /// a 1,000-member group's set was most of the agent's ~0.6 MiB and 1 ms of render a change, though
    /// the members had not changed. The elements are a function of that array, the network and the
    /// family alone (<see cref="Members"/>, the slow twin), so the same array gives the same elements;
    /// an entry goes with its array.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Instance[], System.Collections.Concurrent.ConcurrentDictionary<(NetworkType Type, VpcId? Vpc, AddressFamily Family), ImmutableArray<Cidr>>> MemberElements = new();

    /// <summary>The addresses of <paramref name="members"/> of <paramref name="family"/> in the NIC's network (its type and VPC), each once, in order, as host blocks.</summary>
    internal static ImmutableArray<Cidr> Members(ImmutableArray<Instance> members, NetworkType type, VpcId? vpc, AddressFamily family) =>
        [.. members
            .Where(m => m.NetworkType == type && (type == NetworkType.Classic || m.VpcId == vpc))
            .SelectMany(m => m.MemberAddresses)
            .Where(a => a.IsV6 == (family == AddressFamily.V6))
            .Distinct()
            .Order()
            .Select(Cidr.Host)];
}
