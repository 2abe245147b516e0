using Dapper;
using Palisade.Domain.Identifiers;

namespace Palisade.Storage.Sql;

/// <summary>
/// Which hosts a change may alter the enforced policy of (issue 17, item 3), decided from what the
/// transaction wrote, not from which action wrote it: every write method that can change a host's
/// policy names what it touched, and each touched thing is resolved to the hosts whose policy
/// depends on it twice, as the transaction found it (before the write) and as it leaves it (at
/// commit). A host's policy is a function of its bound NICs, their groups (rules, inner access),
/// the members and addresses of those groups and of the groups their rules name, and the prefix
/// and port-range lists their rules name (what <c>StateExport.Body</c> narrows a host's answer to);
/// whatever of that changes was touched, and any host that depended on it before or depends on it
/// after is named. The answer is never narrower than the truth; it may be wider (a renamed
/// instance wakes nobody, but a status change of a bound instance wakes its host, rendered or not).
/// Hosts are the operator's and carry NICs of many accounts (issue 18), but each account's NICs are
/// compiled against that account's state alone, so a change reaches a host only through the writing
/// account's own NICs on it; the hosts named are those. A binding made or undone (the operator's
/// act) names the host it leaves and the host it joins: this one table is the host feed.
/// </summary>
internal sealed partial class SqlSession
{
    private enum Touched
    {
        /// <summary>A group's own rules or attributes: hosts with a NIC in it.</summary>
        Group,

        /// <summary>A group's members or their addresses: hosts with a NIC in it or in a group whose rules name it.</summary>
        Members,
        Instance,

        /// <summary>An instance's binding alone: the host that carries it (not those that see it as a member).</summary>
        Binding,
        NetworkInterface,
        PrefixList,
        PortRangeList,
        Host,
    }

    private readonly HashSet<(Touched Kind, string Id)> _touched = [];
    private readonly HashSet<string> _affectedHosts = new(StringComparer.Ordinal);
    private bool _affectsEveryHost;
    private bool _resolvedAfter;

    /// <summary>The name in <c>revision_hosts</c> of a change every host must look at (not a host name: those start with a letter or digit).</summary>
    internal const string EveryHost = "*";

    private void Touch(Touched kind, string id)
    {
        if (_resolvedAfter)
            throw new InvalidOperationException("a write after the affected hosts were resolved");
        if (_affectsEveryHost)
            return;
        // Resolved as found at its first touch in the transaction: the earliest state is the "before".
        if (_touched.Add((kind, id)))
            _affectedHosts.UnionWith(HostsDependingOn(kind, id));
    }

    private void TouchEverything() => _affectsEveryHost = true;

    /// <summary>
    /// What the transaction's writes named as they wrote (issue 17, fifteenth session: the account's view
    /// brought forward by the commit): each touched thing's kind (<c>Group</c>, <c>Members</c>,
    /// <c>Instance</c>, <c>Binding</c>, <c>NetworkInterface</c>, <c>PrefixList</c>, <c>PortRangeList</c>,
    /// <c>Host</c>) and ID; null when a write touched everything (a restore). Only the writes that can
    /// change a host's policy name what they touch (a tag does not): whoever uses this for more than
    /// that decides which actions write nothing else.
    /// </summary>
    internal IReadOnlyList<(string Kind, string Id)>? Touches() =>
        _affectsEveryHost ? null : [.. _touched.Select(t => (t.Kind.ToString(), t.Id))];

    /// <summary>
    /// The hosts the transaction's writes may have altered the policy of: those resolved before each
    /// write, and the touched things resolved again as the transaction leaves them. Called once,
    /// before the revision is written.
    /// </summary>
    internal IReadOnlySet<string> AffectedHosts()
    {
        if (_affectsEveryHost)
            return new HashSet<string>(StringComparer.Ordinal) { EveryHost };
        if (!_resolvedAfter)
        {
            foreach (var (kind, id) in _touched)
                _affectedHosts.UnionWith(HostsDependingOn(kind, id));
            _resolvedAfter = true;
        }
        return _affectedHosts;
    }

    /// <summary>
    /// PostgreSQL's numbering of a changing write, the one step all accounts' writes take in turn,
    /// in one round trip (issue 17, writes in parallel): the commit lock, the revision (the last plus
    /// one, read after the lock is held: each statement of the batch reads what committed before it),
    /// the hosts the change concerns, and the <c>NOTIFY</c>. Everything else — which hosts, the
    /// account's own revision (stable under the account's lock), the trail — is done before the lock,
    /// so the lock is held for this batch and the commit, not for one round trip per host.
    /// </summary>
    /// <param name="payload">What the other nodes learn of the commit with its notice (<see cref="AccountCommits.Payload"/>: checked to be a plain literal), or none.</param>
    internal long NumberRevisionUnderCommitLock(long? accountId, long? accountRevision, string action, DateTimeOffset now, int commitLock, string channel, string? payload = null)
    {
        using var grid = connection.QueryMultiple($"""
            SELECT 1 FROM (SELECT pg_advisory_xact_lock(@commitLock, 0)) AS held;
            WITH numbered AS (
                INSERT INTO revisions (revision, account_id, action, committed_at, account_revision)
                SELECT COALESCE(MAX(revision), 0) + 1, @accountId::bigint, @action::text, @at::text, @accountRevision::bigint FROM revisions
                RETURNING revision),
              hosts AS (
                INSERT INTO revision_hosts (revision, host_name) SELECT numbered.revision, host FROM numbered, unnest(@hosts::text[]) AS host)
            SELECT revision FROM numbered;
            NOTIFY {channel}{(payload is null ? "" : $", '{payload}'")};
            """, new { commitLock, accountId, action, at = Time.Format(now), accountRevision, hosts = AffectedHosts().ToArray() }, transaction, commandTimeout: 300);
        grid.Read<int>();
        return grid.ReadSingle<long>();
    }

    private void RecordAffectedHosts(long revision)
    {
        foreach (var host in AffectedHosts())
            connection.Execute("INSERT INTO revision_hosts (revision, host_name) VALUES (@revision, @host)", new { revision, host }, transaction);
    }

    private IEnumerable<string> HostsDependingOn(Touched kind, string id) => kind switch
    {
        Touched.Group => HostsWithNicIn([id]),
        Touched.Members => HostsWithNicIn([id, .. Query<string>(
            "SELECT DISTINCT security_group_id FROM security_group_rules WHERE peer_kind = @kind AND peer_value = @id", new { id, kind = RuleCodec.PeerGroup })]),
        Touched.PrefixList => HostsWithNicIn([.. Query<string>(
            "SELECT DISTINCT security_group_id FROM security_group_rules WHERE peer_kind = @kind AND peer_value = @id", new { id, kind = RuleCodec.PeerPrefixList })]),
        Touched.PortRangeList => HostsWithNicIn([.. Query<string>(
            "SELECT DISTINCT security_group_id FROM security_group_rules WHERE port_range_list_id = @id", new { id })]),
        Touched.Instance => InstanceHosts(id),
        Touched.Binding => [.. Query<string>("SELECT host_name FROM host_bindings WHERE instance_id = @id", new { id })],
        Touched.NetworkInterface => NetworkInterfaceHosts(id),
        Touched.Host => [id],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// The hosts with a bound instance in one of <paramref name="groups"/>, through the instance or one
    /// of its ENIs. Two joins from the groups' members (each by index), not one filter over every
    /// binding: written as <c>b.instance_id IN (…) OR b.instance_id IN (…)</c>, PostgreSQL scanned all
    /// of <c>host_bindings</c>, every account's, for each touched thing of every write (issue 17: 26 ms
    /// a call at 100,000 bindings against 0.8 ms, a seeding rate that fell as the fleet grew).
    /// </summary>
    internal List<string> HostsWithNicIn(string[] groups)
    {
        if (groups.Length == 0)
            return [];
        return [.. Query<string>($"""
            SELECT b.host_name FROM memberships m
            JOIN host_bindings b ON b.instance_id = m.instance_id
            WHERE {InList("m.security_group_id", "groups")}
            UNION
            SELECT b.host_name FROM network_interface_groups g
            JOIN network_interfaces n ON n.network_interface_id = g.network_interface_id
            JOIN host_bindings b ON b.instance_id = n.instance_id
            WHERE {InList("g.security_group_id", "groups")}
            """, new { groups })];
    }

    /// <summary>An instance's host, and the hosts that see it as a member of its groups (its own and its ENIs').</summary>
    private List<string> InstanceHosts(string instanceId)
    {
        var groups = Query<string>("""
            SELECT security_group_id FROM memberships WHERE instance_id = @instanceId
            UNION SELECT g.security_group_id FROM network_interface_groups g
                  JOIN network_interfaces n ON n.network_interface_id = g.network_interface_id WHERE n.instance_id = @instanceId
            """, new { instanceId }).ToList();
        var hosts = Query<string>("SELECT host_name FROM host_bindings WHERE instance_id = @instanceId", new { instanceId }).ToList();
        foreach (var group in groups)
            hosts.AddRange(HostsDependingOn(Touched.Members, group));
        return hosts;
    }

    /// <summary>An ENI's instance's hosts (as <see cref="InstanceHosts"/>), and those that see it as a member of its groups.</summary>
    private List<string> NetworkInterfaceHosts(string networkInterfaceId)
    {
        var hosts = new List<string>();
        foreach (var instance in Query<string>("SELECT instance_id FROM network_interfaces WHERE network_interface_id = @networkInterfaceId AND instance_id IS NOT NULL", new { networkInterfaceId }))
            hosts.AddRange(InstanceHosts(instance));
        foreach (var group in Query<string>("SELECT security_group_id FROM network_interface_groups WHERE network_interface_id = @networkInterfaceId", new { networkInterfaceId }))
            hosts.AddRange(HostsDependingOn(Touched.Members, group));
        return hosts;
    }

    /// <summary>An EIP's target: an instance, or an ENI (whose instance then shows the address).</summary>
    private void TouchEipTarget(string allocationId)
    {
        foreach (var (type, target) in Query<(string? Type, string? Target)>("SELECT instance_type, instance_id FROM eip_addresses WHERE allocation_id = @allocationId", new { allocationId }))
            TouchTarget(type, target);
    }

    private void TouchTarget(string? type, string? target)
    {
        if (target is null)
            return;
        if (type == nameof(Records.EipTargetType.NetworkInterface))
            Touch(Touched.NetworkInterface, target);
        else
            Touch(Touched.Instance, target);
    }

    private void TouchGroup(SecurityGroupId id) => Touch(Touched.Group, id.Value);

    private void TouchInstance(InstanceId id) => Touch(Touched.Instance, id.Value);

    private void TouchNetworkInterface(NetworkInterfaceId id) => Touch(Touched.NetworkInterface, id.Value);
}
