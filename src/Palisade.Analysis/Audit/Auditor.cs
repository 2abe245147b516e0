using System.Globalization;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;

namespace Palisade.Analysis.Audit;

/// <summary>
/// The best-practice audit of a state: every check of <see cref="AuditChecks"/>, findings in a
/// stable order (severity, check, group, rule, instance). Exposure is decided by the engine over
/// all groups of each NIC, so drops, priorities, UDP and IPv6 count as they do for packets.
/// </summary>
public static class Auditor
{
    private static readonly Cidr[] PrivateBlocks =
    [
        Cidr.Parse("10.0.0.0/8"), Cidr.Parse("172.16.0.0/12"), Cidr.Parse("192.168.0.0/16"), Cidr.Parse("100.64.0.0/10"), Cidr.Parse("fc00::/7"),
    ];

    private static readonly Cidr[] WideBlocks =
    [
        Cidr.Parse("0.0.0.0/0"), Cidr.Parse("::/0"), Cidr.Parse("10.0.0.0/8"), Cidr.Parse("172.16.0.0/12"), Cidr.Parse("192.168.0.0/16"), Cidr.Parse("100.64.0.0/10"), Cidr.Parse("fc00::/7"),
    ];

    /// <param name="progress">Told each phase (exposure per instance, rules per group, then the shared checks).</param>
    public static IReadOnlyList<Finding> Run(NetworkState state, IProgress<WorkProgress>? progress = null) => Run(state, share: true, progress);

    /// <summary>The slow twin of <see cref="Run(NetworkState, IProgress{WorkProgress})"/>: every NIC compiled and judged on its own, nothing shared between instances.</summary>
    public static IReadOnlyList<Finding> RunPerInstance(NetworkState state) => Run(state, share: false, null);

    private static IReadOnlyList<Finding> Run(NetworkState state, bool share, IProgress<WorkProgress>? progress)
    {
        var findings = new List<Finding>();
        // Each policy is compiled once for all the checks (once per policy class when shared).
        var policies = new SharedPolicies(state, share);
        RiskyPortsExposed(state, policies, findings, progress);
        var addresses = AddressIndex.Of(state);
        for (var k = 0; k < state.Groups.Length; k++)
        {
            progress?.Report(new WorkProgress("rules", k, state.Groups.Length));
            RuleChecks(state, state.Groups[k], addresses, findings);
        }
        progress?.Report(new WorkProgress("overlapping rules", 0, 0));
        SamePriorityConflicts(state, policies, findings);
        progress?.Report(new WorkProgress("unused rules", 0, 0));
        UselessRules(state, policies, findings);
        progress?.Report(new WorkProgress("groups", 0, 0));
        GroupChecks(state, findings);
        return [.. findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Check, StringComparer.Ordinal)
            .ThenBy(f => f.SecurityGroupId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.SecurityGroupRuleId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.InstanceId?.Value, StringComparer.Ordinal)];
    }

    private static KeyValuePair<string, object?> E(string key, object? value) => new(key, value);

    private sealed record Exposure(int Port, string Service, IpProtocol Protocol, InternetExposure.Witness Witness);

    private static void RiskyPortsExposed(NetworkState state, SharedPolicies policies, List<Finding> findings, IProgress<WorkProgress>? progress)
    {
        // Per NIC key and family: for each sensitive port, the first protocol with a witness.
        var exposures = new Dictionary<(string, bool), List<Exposure>>();
        var done = 0;
        foreach (var instance in state.Instances.Where(i => i.SecurityGroupIds.Length > 0))
        {
            progress?.Report(new WorkProgress("internet exposure", done++, state.Instances.Length));
            var reported = new HashSet<int>();
            foreach (var v6 in new[] { false, true })
            {
                var (nic, destination) = InternetExposure.Entry(instance, v6);
                if (destination is not { } dst)
                    continue;
                var policy = policies.Of(instance, nic);
                var key = (policies.Key(instance, nic, [dst]), v6);
                if (!exposures.TryGetValue(key, out var exposed))
                {
                    exposed = [];
                    var sources = InternetExposure.CandidateSources(state, policy, v6);
                    var sourcePorts = InternetExposure.CandidateSourcePorts(policy);
                    foreach (var (port, service) in RiskyPorts.All)
                    {
                        foreach (var protocol in new[] { IpProtocol.Tcp, IpProtocol.Udp })
                        {
                            if (InternetExposure.Find(policy, sources, sourcePorts, dst, protocol, port) is not { } witness)
                                continue;
                            exposed.Add(new Exposure(port, service, protocol, witness));
                            break;
                        }
                    }
                    exposures.Add(key, exposed);
                }
                foreach (var (port, service, protocol, witness) in exposed)
                {
                    if (!reported.Add(port))
                        continue;
                    var rule = witness.Decision.DecidingRule;
                    findings.Add(new Finding(AuditChecks.RiskyPortExposed.Id, Severity.High, rule?.GroupId, rule?.Rule.Id, instance.Id,
                        $"{service} ({protocol.ToWire()} {port}) on {instance.Id} is reachable from the internet: a packet from " +
                        $"{witness.Flow.Source} is accepted by rule {rule?.Rule.Id} of {rule?.GroupId} (priority {rule?.Rule.Priority}). " +
                        "Allow it only from known addresses or a group, or drop it at a lower priority number.",
                        [
                            E("protocol", protocol.ToWire()), E("port", port), E("sourceIp", witness.Flow.Source.ToString()),
                            E("sourcePort", witness.Flow.SourcePort), E("destinationIp", dst.ToString()),
                            E("nicType", nic.ToWire()), E("priority", rule?.Rule.Priority.Value),
                        ]));
                }
            }
        }
    }

    private static bool IsPrivate(Cidr c) => PrivateBlocks.Any(p => p.Covers(c));

    private static void RuleChecks(NetworkState state, SecurityGroup group, AddressIndex addresses, List<Finding> findings)
    {
        foreach (var rule in group.Rules.Where(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept))
        {
            // Internal: from a group, a private block, or (classic network) on the intranet NIC.
            var intranetClassic = group.IsClassic && rule.NicType == NicType.Intranet;
            var internalPeer = rule.Peer switch
            {
                RulePeer.Group => true,
                RulePeer.CidrBlock { Cidr: var c } => IsPrivate(c) || intranetClassic,
                _ => false,
            };
            var allPorts = rule.Protocol == IpProtocol.All || (rule.Protocol.HasPorts() && rule.PortRangeListId is null && rule.Ports.Low <= 1 && rule.Ports.High >= PortRange.MaxPort);
            if (internalPeer && allPorts)
            {
                findings.Add(new Finding(AuditChecks.InternalAllPorts.Id, Severity.Medium, group.Id, rule.Id, null,
                    $"Rule {rule.Id} of {group.Id} accepts {(rule.Protocol == IpProtocol.All ? "every protocol" : $"every {rule.Protocol.ToWire()} port")} from {rule.Peer}. Open only the ports the peers use.",
                    [E("protocol", rule.Protocol.ToWire()), E("portRange", rule.Ports.ToString()), E("peer", rule.Peer.ToString())]));
            }
            if (rule.Peer is RulePeer.CidrBlock { Cidr: var block } && WideBlocks.Any(w => w == block) && (intranetClassic || (!group.IsClassic && IsPrivate(block))))
            {
                findings.Add(new Finding(AuditChecks.InternalWideCidr.Id, intranetClassic ? Severity.High : Severity.Medium, group.Id, rule.Id, null,
                    intranetClassic
                        ? $"Rule {rule.Id} of classic group {group.Id} accepts {block} on the intranet NIC: in the classic network that admits other tenants' instances. Name a group instead."
                        : $"Rule {rule.Id} of {group.Id} accepts all of {block}, far more than the instances that need access. Name their group or a narrow block.",
                    [E("cidr", block.ToString()), E("nicType", rule.NicType.ToWire()), E("classicNetwork", group.IsClassic)]));
            }
            if (rule.Peer is RulePeer.CidrBlock { Cidr: var narrow } && IsPrivate(narrow) && !WideBlocks.Any(w => w == narrow)
                && SuggestGroup(addresses, group, narrow) is { } suggestion)
            {
                findings.Add(new Finding(AuditChecks.InternalCidrInsteadOfGroup.Id, Severity.Low, group.Id, rule.Id, null,
                    $"Rule {rule.Id} of {group.Id} admits {narrow}, which holds exactly the instances {string.Join(", ", suggestion.Instances)}; they are all in {suggestion.Group}. A rule naming {suggestion.Group} follows them when they change.",
                    [E("cidr", narrow.ToString()), E("instances", suggestion.Instances.Select(i => i.Value).ToArray()), E("suggestedGroup", suggestion.Group.Value)]));
            }
        }
        foreach (var rule in group.Rules)
        {
            if (rule.Peer is RulePeer.Group g && g.OwnerAccount is null && g.OwnerId is null && state.FindGroup(g.GroupId) is null)
            {
                findings.Add(new Finding(AuditChecks.DanglingReference.Id, Severity.Medium, group.Id, rule.Id, null,
                    $"Rule {rule.Id} of {group.Id} names {g.GroupId}, which does not exist: it matches nothing. Remove it or name the group that replaced it.",
                    [E("referencedGroup", g.GroupId.Value)]));
            }
        }
    }

    private sealed record Suggestion(SecurityGroupId Group, IReadOnlyList<InstanceId> Instances);

    /// <summary>The instances whose private addresses the block holds, when they all share a group (other than the rule's own).</summary>
    private static Suggestion? SuggestGroup(AddressIndex addresses, SecurityGroup group, Cidr block)
    {
        var inside = addresses.Within(group.VpcId, block);
        if (inside.Count == 0)
            return null;
        var shared = inside.Select(i => i.SecurityGroupIds.AsEnumerable()).Aggregate((a, b) => a.Intersect(b)).Where(g => g != group.Id).Order().FirstOrDefault();
        return shared == default ? null : new Suggestion(shared, [.. inside.Select(i => i.Id).Order()]);
    }

    /// <summary>Private addresses by network, sorted, so that the instances inside a block are found by two binary searches.</summary>
    private sealed class AddressIndex
    {
        private readonly Dictionary<string, (UInt128[] Values, bool[] V6, int[] Instances)> _byNetwork = [];
        private readonly NetworkState _state;

        private AddressIndex(NetworkState state) => _state = state;

        public static AddressIndex Of(NetworkState state)
        {
            var index = new AddressIndex(state);
            foreach (var network in Enumerable.Range(0, state.Instances.Length).GroupBy(k => state.Instances[k].VpcId?.Value ?? ""))
            {
                var entries = network.SelectMany(k => state.Instances[k].PrivateAddresses.Select(a => (a.IsV6, a.Value, k)))
                    .OrderBy(e => e.IsV6).ThenBy(e => e.Value).ToArray();
                index._byNetwork[network.Key] = ([.. entries.Select(e => e.Value)], [.. entries.Select(e => e.IsV6)], [.. entries.Select(e => e.k)]);
            }
            return index;
        }

        /// <summary>The instances of the network with a private address in the block, in state order.</summary>
        public List<Instance> Within(VpcId? vpc, Cidr block)
        {
            if (!_byNetwork.TryGetValue(vpc?.Value ?? "", out var entries))
                return [];
            var found = new SortedSet<int>();
            // Entries are ordered by family, then value: find the first of the block's family at or after its first address.
            var low = 0;
            var high = entries.Values.Length;
            while (low < high)
            {
                var mid = (low + high) / 2;
                if ((entries.V6[mid] ? 1 : 0) < (block.IsV6 ? 1 : 0) || (entries.V6[mid] == block.IsV6 && entries.Values[mid] < block.First))
                    low = mid + 1;
                else
                    high = mid;
            }
            for (var k = low; k < entries.Values.Length && entries.V6[k] == block.IsV6 && entries.Values[k] <= block.Last; k++)
                found.Add(entries.Instances[k]);
            return [.. found.Select(k => _state.Instances[k])];
        }
    }

    private static void SamePriorityConflicts(NetworkState state, SharedPolicies policies, List<Finding> findings)
    {
        var seen = new HashSet<(SecurityGroupRuleId, SecurityGroupRuleId)>();
        // A later instance of a policy already judged can only find pairs already seen.
        var judged = new HashSet<string>();
        foreach (var instance in state.Instances.Where(i => i.SecurityGroupIds.Length > 0))
        {
            if (!judged.Add(policies.Key(instance, NicType.Intranet)))
                continue;
            var policy = policies.Of(instance, NicType.Intranet);
            foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
            {
                var rules = policy.RulesInOrder(direction).ToArray();
                foreach (var accept in rules.Where(r => r.Rule.Policy == Verdict.Accept))
                {
                    foreach (var drop in rules.Where(r => r.Rule.Policy == Verdict.Drop && r.Rule.Priority == accept.Rule.Priority && Overlap(accept.Rule, r.Rule)))
                    {
                        if (!seen.Add((accept.Rule.Id, drop.Rule.Id)))
                            continue;
                        findings.Add(new Finding(AuditChecks.SamePriorityConflict.Id, Severity.Medium, accept.GroupId, accept.Rule.Id, instance.Id,
                            $"On {instance.Id}, accept rule {accept.Rule.Id} of {accept.GroupId} and drop rule {drop.Rule.Id} of {drop.GroupId} overlap at priority {accept.Rule.Priority}: the drop wins where they overlap. Give the intended winner a lower priority number.",
                            [E("acceptRule", accept.Rule.Id.Value), E("dropRule", drop.Rule.Id.Value), E("dropGroup", drop.GroupId.Value), E("priority", accept.Rule.Priority.Value)]));
                    }
                }
            }
        }
    }

    /// <summary>Shadowed and redundant rules, judged on every NIC the rule applies to: a rule useful on one instance is useful.</summary>
    private static void UselessRules(NetworkState state, SharedPolicies policies, List<Finding> findings)
    {
        // Per compiled policy and direction (a policy is one object per NIC key): the cuts of all its rules.
        var boundaries = new Dictionary<(NicPolicy, Direction), RuleUsefulness.Boundaries>();
        foreach (var group in state.Groups)
        {
            var members = state.MembersOf(group.Id);
            if (members.Length == 0)
                continue;
            foreach (var rule in group.Rules)
            {
                var reference = new RuleRef(group.Id, rule);
                // Members with the same NIC key give the same verdicts; later ones add nothing to the unions below.
                var verdicts = members
                    .Select(m => (Member: m, Nic: m.NetworkType == NetworkType.Classic ? rule.NicType : NicType.Intranet))
                    .DistinctBy(x => policies.NicKey(x.Member, x.Nic))
                    .Select(x =>
                    {
                        var policy = policies.Of(x.Member, x.Nic);
                        if (!boundaries.TryGetValue((policy, rule.Direction), out var cuts))
                            boundaries.Add((policy, rule.Direction), cuts = RuleUsefulness.Boundaries.Of(state, x.Member, policy, rule.Direction));
                        return RuleUsefulness.Of(state, x.Member, policy, rule.Direction, reference, cuts);
                    })
                    .Where(v => v.Checked).ToList();
                if (verdicts.Count == 0)
                    continue;
                if (verdicts.All(v => !v.Decides))
                {
                    var blockers = verdicts.SelectMany(v => v.Blockers).Distinct().ToList();
                    var differs = blockers.Any(b => b.Rule.Policy != rule.Policy);
                    findings.Add(new Finding(AuditChecks.ShadowedRule.Id, Severity.Low, group.Id, rule.Id, null,
                        $"Rule {rule.Id} of {group.Id} never decides: {string.Join(", ", blockers.Select(b => $"{b.Rule.Id} of {b.GroupId}"))} decide{(blockers.Count == 1 ? "s" : "")} every packet it matches{(differs ? ", some with the opposite verdict" : "")}. Remove it, or give it a lower priority number if it was meant to win.",
                        [E("coveredBy", blockers.Select(b => b.Rule.Id.Value).ToArray()), E("verdictDiffers", differs)]));
                }
                else if (verdicts.All(v => !v.ChangesSomething))
                {
                    var fallbacks = verdicts.SelectMany(v => v.Fallbacks).Distinct().ToList();
                    findings.Add(new Finding(AuditChecks.RedundantRule.Id, Severity.Info, group.Id, rule.Id, null,
                        $"Removing rule {rule.Id} of {group.Id} would change no verdict: where it decides, {(fallbacks.Count > 0 ? string.Join(", ", fallbacks.Select(b => $"{b.Rule.Id} of {b.GroupId}")) : "the default")} says the same.",
                        [E("coveredBy", fallbacks.Select(b => b.Rule.Id.Value).ToArray()), E("byDefault", fallbacks.Count == 0)]));
                }
            }
        }
    }

    private static bool Overlap(SecurityGroupRule a, SecurityGroupRule b)
    {
        if (a.NicType != b.NicType)
            return false;
        if (a.Protocol != b.Protocol && a.Protocol != IpProtocol.All && b.Protocol != IpProtocol.All)
            return false;
        if (a.Protocol.HasPorts() && b.Protocol.HasPorts() && a.PortRangeListId is null && b.PortRangeListId is null
            && (a.Ports.High < b.Ports.Low || b.Ports.High < a.Ports.Low))
            return false;
        return (a.Peer, b.Peer) switch
        {
            (RulePeer.CidrBlock x, RulePeer.CidrBlock y) => x.Cidr.IsV6 == y.Cidr.IsV6 && (x.Cidr.Covers(y.Cidr) || y.Cidr.Covers(x.Cidr)),
            (RulePeer.Group x, RulePeer.Group y) => x.GroupId == y.GroupId,
            (RulePeer.PrefixList x, RulePeer.PrefixList y) => x.PrefixListId == y.PrefixListId,
            _ => false,
        };
    }

    private static void GroupChecks(NetworkState state, List<Finding> findings)
    {
        var referenced = state.Groups.SelectMany(g => g.Rules).Select(r => r.Peer).OfType<RulePeer.Group>().Select(p => p.GroupId).ToHashSet();
        foreach (var group in state.Groups)
        {
            var members = state.MembersOf(group.Id);
            if (members.Length == 0 && !referenced.Contains(group.Id))
            {
                findings.Add(new Finding(AuditChecks.UnusedGroup.Id, Severity.Low, group.Id, null, null,
                    $"{group.Id} has no instances and no rule references it. Delete it.", [E("rules", group.Rules.Length)]));
            }
            var autoName = group.Name.Length == 0 || group.Name == group.Id.Value || group.Name.StartsWith("sg-", StringComparison.Ordinal);
            if (autoName && group.Description.Length == 0 && group.Tags.IsDefaultOrEmpty)
            {
                findings.Add(new Finding(AuditChecks.UndocumentedGroup.Id, Severity.Info, group.Id, null, null,
                    $"{group.Id} has no meaningful name, no description and no tags. Name it for its role, describe what it protects, tag its owner.",
                    [E("name", group.Name)]));
            }
            if (group.Rules.Length >= 180)
            {
                findings.Add(new Finding(AuditChecks.GroupLimitNear.Id, Severity.Info, group.Id, null, null,
                    $"{group.Id} holds {group.Rules.Length} of at most 200 rules.", [E("rules", group.Rules.Length), E("limit", 200)]));
            }
        }
        foreach (var instance in state.Instances)
        {
            if (instance.SecurityGroupIds.Length == 0)
            {
                findings.Add(new Finding(AuditChecks.InstanceWithoutGroup.Id, Severity.High, null, null, instance.Id,
                    $"{instance.Id} is in no security group. Join it to the group of its role.", []));
                continue;
            }
            var rules = instance.SecurityGroupIds.Sum(g => state.FindGroup(g)?.Rules.Length ?? 0);
            if (instance.SecurityGroupIds.Length >= Instance.MaxSecurityGroups - 1 || rules >= 900)
            {
                findings.Add(new Finding(AuditChecks.GroupLimitNear.Id, Severity.Info, null, null, instance.Id,
                    $"{instance.Id} is in {instance.SecurityGroupIds.Length} of at most {Instance.MaxSecurityGroups} groups, with {rules.ToString(CultureInfo.InvariantCulture)} of at most 1,000 rules over them.",
                    [E("groups", instance.SecurityGroupIds.Length), E("rules", rules)]));
            }
        }
        OversizedGroups(state, findings);
    }

    /// <summary>A network must hold at least this many instances before one group holding most of them is a finding: in a small VPC one group for everything is normal.</summary>
    public const int OversizedMinimumInstances = 10;

    /// <summary>
    /// A group holding more than half of its network's instances (a VPC, or the classic network), when
    /// the network has at least <see cref="OversizedMinimumInstances"/>. Half, because then the group
    /// is no longer a role: most instances share its rules, whatever they run.
    /// </summary>
    private static void OversizedGroups(NetworkState state, List<Finding> findings)
    {
        var perNetwork = state.Instances.GroupBy(i => i.VpcId).ToDictionary(g => g.Key?.Value ?? "", g => g.Count());
        foreach (var group in state.Groups)
        {
            var members = state.MembersOf(group.Id).Count(m => m.VpcId == group.VpcId);
            var total = perNetwork.GetValueOrDefault(group.VpcId?.Value ?? "");
            if (total < OversizedMinimumInstances || members * 2 <= total)
                continue;
            var network = group.VpcId is { } vpc ? vpc.Value : "the classic network";
            findings.Add(new Finding(AuditChecks.OversizedGroup.Id, Severity.Low, group.Id, null, null,
                $"{group.Id} holds {members} of the {total} instances of {network}: its rules apply to nearly everything there. Split it into one group per role.",
                [E("members", members), E("networkInstances", total), E("vpcId", group.VpcId?.Value)]));
        }
    }
}
