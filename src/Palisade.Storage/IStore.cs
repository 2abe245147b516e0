using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Storage.Records;

namespace Palisade.Storage;

/// <summary>
/// The store contract. All work happens inside <see cref="Read{T}"/> or <see cref="Write{T}"/>: a
/// write is one transaction that either commits whole, with one new revision, or leaves nothing
/// behind (an exception thrown by <paramref name="work"/> rolls it back and propagates). Limits
/// are checked inside the write, so concurrent writers cannot exceed them.
/// </summary>
public interface IStore : IDisposable
{
    /// <summary>Which implementation, for logs and diagnostics (<c>sqlite</c>, <c>postgres</c>).</summary>
    string Kind { get; }

    /// <summary>
    /// How many connections this node's store opens at once at most (its pool), or null when it
    /// keeps no such pool (SQLite). The request path queues for the store in front of it, where a
    /// waiting request holds no thread (issue 17: <c>StoreGate</c>).
    /// </summary>
    int? ConnectionLimit => null;

    T Read<T>(Func<IStoreSession, T> work);

    /// <summary>The latest committed revision; cheap, for caches that are valid while it stands.</summary>
    long CurrentRevision();

    /// <summary>This node's watcher of commits (its own and other nodes'): where the feeds' long polls park.</summary>
    CommitWatcher Commits { get; }

    /// <param name="action">What the write does, recorded with its revision (the ECS action name).</param>
    T Write<T>(string action, long? accountId, Func<IStoreSession, T> work);

    /// <summary>
    /// A write of no account's state that touches only rows of one shared resource (a host's agent
    /// report: that host's reports, usage and flows): serialised with the other writes naming
    /// <paramref name="resource"/> (<see cref="IStoreSession.SerializeWith"/>), beside every account's
    /// writes, not behind them — a fleet's reports otherwise took turns on one lock (issue 17). It
    /// may not make a revision (an <see cref="InvalidOperationException"/> rolls it back): a change
    /// of the control plane is an account's write or a write of no account.
    /// </summary>
    T WriteOn<T>(string action, string resource, Func<IStoreSession, T> work);

    /// <summary>Records a signature nonce in one statement of its own; false when the key used it already.</summary>
    bool TryUseNonce(string accessKeyId, string nonce, DateTimeOffset expiresAt, DateTimeOffset now);

    /// <summary>
    /// Records many signature nonces at once (issue 17, fifteenth session: the nonces arriving within one
    /// insert's round trip, in one statement): for each use, in order, whether it was the key's first
    /// use of the nonce — exactly what <see cref="TryUseNonce"/> would answer for each, one after the
    /// other (a nonce twice in one batch: the earlier is the first use).
    /// </summary>
    IReadOnlyList<bool> TryUseNonces(IReadOnlyList<NonceUse> uses, DateTimeOffset now);

    /// <summary>
    /// Adds an event to the action trail in a statement of its own, without a revision: for calls
    /// that changed nothing (refused ones). A success goes through <see cref="IStoreSession.AddTrail"/> instead.
    /// </summary>
    void RecordTrail(ActionTrailEntry entry);

    /// <summary>Deletes the action-trail events older than <paramref name="before"/>; how many went.</summary>
    int PurgeTrail(DateTimeOffset before);
}

/// <summary>
/// The store cannot answer now (the database is locked for too long, unreachable, or out of
/// connections): the caller may retry. Never a sign of bad input.
/// </summary>
public class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The store has no room for a change (the disk is full, or the database reached its size cap):
/// the write is rolled back whole, and reads still work.
/// </summary>
public sealed class StoreFullException(string message, Exception inner) : StoreUnavailableException(message, inner);

/// <summary>What a transaction can do. Account-scoped lookups never see other accounts' resources.</summary>
public partial interface IStoreSession
{
    // Accounts and keys
    AccountRecord CreateAccount(string name, DateTimeOffset now);
    AccountRecord? FindAccount(long accountId);
    AccountRecord? FindAccountByName(string name);
    IReadOnlyList<AccountRecord> ListAccounts();
    void InsertAccessKey(AccessKeyRecord key);
    AccessKeyRecord? FindAccessKey(string accessKeyId);
    IReadOnlyList<AccessKeyRecord> ListAccessKeys(long accountId);
    void SetAccessKeyStatus(string accessKeyId, AccessKeyStatus status);
    void DeleteAccessKey(string accessKeyId);

    /// <summary>Records a nonce; false when this key already used it (within its lifetime).</summary>
    bool TryUseNonce(string accessKeyId, string nonce, DateTimeOffset expiresAt);
    void PurgeNonces(DateTimeOffset now);

    /// <summary>
    /// Serialises this write with every other write that names the same <paramref name="resource"/>,
    /// whatever their accounts: for a check across accounts (a host's interfaces, the public address
    /// pool), which the account's own lock does not cover. Call it before the check; one resource per
    /// write (or always in the same order), after which the write takes no other lock.
    /// </summary>
    void SerializeWith(string resource);

    /// <summary>
    /// <see cref="SerializeWith"/> for several resources at once, in one fixed order (one round trip on
    /// PostgreSQL): a batch of hosts' status reports (issue 17).
    /// </summary>
    void SerializeWithAll(IReadOnlyCollection<string> resources)
    {
        foreach (var resource in resources.Order(StringComparer.Ordinal))
            SerializeWith(resource);
    }

    ClientTokenRecord? FindClientToken(long accountId, string token);
    void SaveClientToken(ClientTokenRecord record);

    /// <summary>The global revision: the server's own (caches, backups), never shown to a tenant, whose numbers are <see cref="LatestRevision"/>.</summary>
    long CurrentRevision();

    /// <summary>
    /// Adds an event to the action trail in this transaction: it commits with the change or not at
    /// all, and carries the revision the change commits as (null when the write changed nothing).
    /// </summary>
    void AddTrail(ActionTrailEntry entry);

    IReadOnlyList<ActionTrailRecord> ListTrail(ActionTrailQuery query);

    /// <summary>
    /// Committed changes after <paramref name="after"/>, oldest first. With an account: its changes
    /// by the account's own revisions (1, 2, 3, …); with null: all changes by the global revision.
    /// </summary>
    IReadOnlyList<RevisionRecord> ListRevisions(long? accountId, long after, int max);

    /// <summary>Numbers account revisions a restored backup of an older format lacks.</summary>
    void NumberAccountRevisions();

    /// <summary>Gives a primary ENI to each VPC instance without one (a restored backup of an older format), as migration 007 does, and credits its bindings (011) and observed flows (014) to it.</summary>
    void AddMissingPrimaryNetworkInterfaces();

    /// <summary>Declares, as migration 008 does, the hosts a restored backup of an older format binds NICs to (carrying anything).</summary>
    void DeclareHostsOfOldBindings();

    // Backup and restore: whole rows of the control-plane tables, as the database holds them
    IEnumerable<IReadOnlyDictionary<string, object?>> DumpTable(string table, IReadOnlyList<string> columns, string orderBy);
    void LoadRow(string table, IReadOnlyDictionary<string, object?> row);

    // The account resource families: find, list, count, insert and delete, each the same way (IAccountTable.cs)
    IAccountTable<VpcId, VpcRecord> Vpcs { get; }
    IAccountTable<VSwitchId, VSwitchRecord> VSwitches { get; }
    IAccountTable<SecurityGroupId, GroupRecord> Groups { get; }
    IAccountTable<InstanceId, InstanceRecord> Instances { get; }

    /// <summary>A primary ENI's addresses and groups are its instance's: setting them on a primary ENI sets the instance's.</summary>
    IAccountTable<NetworkInterfaceId, NetworkInterfaceRecord> NetworkInterfaces { get; }

    /// <summary>Elastic IP addresses, by allocation ID.</summary>
    IAccountTable<string, EipRecord> Eips { get; }

    /// <summary>Prefix lists and port-range lists; what a rule naming one counts against its group's quota is <see cref="RuleQuotaUsed"/>.</summary>
    IEntryListTable<PrefixListId, PrefixListRecord> PrefixLists { get; }
    IEntryListTable<PortRangeListId, PortRangeListRecord> PortRangeLists { get; }

    // VPCs and vSwitches
    IReadOnlyList<VSwitchRecord> ListVSwitchesOfVpc(VpcId vpcId);

    // Security groups

    /// <summary>A group of any account, for rules that reference another account's group.</summary>
    GroupRecord? FindGroupAnyAccount(SecurityGroupId id);
    int CountGroupsInVpc(VpcId vpcId);
    void UpdateGroup(GroupRecord group);

    /// <summary>The groups (of any account) with a rule whose peer is <paramref name="id"/>.</summary>
    IReadOnlyList<(SecurityGroupId Group, long AccountId)> GroupsReferencing(SecurityGroupId id);

    // Rules, in the order they were added
    IReadOnlyList<SecurityGroupRule> ListRules(SecurityGroupId groupId);

    /// <summary>The rules of every group of the account in the region, by group, each group's in <see cref="ListRules"/>'s order: one query, not one per group.</summary>
    IReadOnlyList<(SecurityGroupId Group, SecurityGroupRule Rule)> ListRulesInRegion(long accountId, string regionId);
    int CountRules(SecurityGroupId groupId);

    /// <summary>How many of the group's rules name another group as their peer.</summary>
    int CountGroupReferenceRules(SecurityGroupId groupId);

    /// <summary>Adds a rule; false (and nothing written) when the group already holds a rule with the same identity.</summary>
    bool InsertRule(SecurityGroupId groupId, SecurityGroupRule rule);
    void DeleteRule(SecurityGroupId groupId, SecurityGroupRuleId ruleId);

    /// <summary>Replaces a rule in place (same ID and position); false when another rule of the group has the new identity.</summary>
    bool UpdateRule(SecurityGroupId groupId, SecurityGroupRule rule);

    /// <summary>
    /// What the group's rules count against its rule quota: one per rule, except that a rule naming a
    /// prefix list counts as that list's MaxEntries and a rule naming a port-range list as that
    /// list's MaxEntries (both: their product), as ECS counts them.
    /// </summary>
    int RuleQuotaUsed(SecurityGroupId groupId);

    // Instances and memberships
    IReadOnlyList<InstanceId> MembersOf(SecurityGroupId groupId);

    /// <summary>
    /// The account's instances in the group, by ID as <see cref="MembersOf"/> orders them, each with its own
    /// groups in their order (issue 17, seventeenth session: a rule's limits checked over a group of thousands
    /// of members in one statement); <see cref="MembersOf"/> and a find of each member of the account is its slow twin.
    /// </summary>
    IReadOnlyList<(InstanceId Instance, IReadOnlyList<SecurityGroupId> Groups)> GroupsOfMembers(long accountId, SecurityGroupId groupId);

    /// <summary>The NICs in a group: the instances (by their primary ENI) and the secondary ENIs.</summary>
    int CountMembers(SecurityGroupId groupId);
    int CountInstancesInVSwitch(VSwitchId id);
    void SetInstanceStatus(InstanceId id, string status);
    void SetInstanceAttributes(InstanceId id, string name, string description);
    void SetInstanceResourceGroup(InstanceId id, string resourceGroupId);
    void SetMemberships(InstanceId id, IReadOnlyList<SecurityGroupId> groups);

    // Network interfaces (ENIs)

    /// <summary>The ENIs attached to an instance: its primary one first, then the others in the order they were made.</summary>
    IReadOnlyList<NetworkInterfaceRecord> NetworkInterfacesOf(InstanceId id);
    void SetNetworkInterfaceAttributes(NetworkInterfaceId id, string name, string description);
    void SetNetworkInterfaceInstance(NetworkInterfaceId id, InstanceId? instanceId);
    void SetNetworkInterfaceGroups(NetworkInterfaceRecord eni, IReadOnlyList<SecurityGroupId> groups);
    void SetNetworkInterfaceAddresses(NetworkInterfaceRecord eni, IReadOnlyList<IpAddress> addresses);

    /// <summary>
    /// The private addresses in use in a VPC (or, with null, in the account's classic network): a set made for
    /// this call, the caller's to add the addresses it allocates to (twenty-third session: a join copied a
    /// VPC's ~20,000 addresses once more to do so).
    /// </summary>
    HashSet<IpAddress> AddressesInUse(long accountId, VpcId? vpcId);

    /// <summary>Whether any instance or EIP of any account holds this public address.</summary>
    bool PublicAddressInUse(IpAddress address);

    /// <summary>The public addresses of every account (instances' and EIPs') inside <paramref name="block"/>: what a new one must avoid.</summary>
    IReadOnlySet<IpAddress> PublicAddressesIn(Cidr block);

    /// <summary>Gives a VPC instance a public address (AllocatePublicIpAddress).</summary>
    void AddPublicAddress(InstanceId id, IpAddress address);

    // Elastic IP addresses

    /// <summary>The EIP associated with an instance or ENI, if any.</summary>
    EipRecord? EipOf(string targetId);
    void SetEipTarget(string allocationId, EipTargetType? type, string? targetId);

    // Tags (one row per resource and key)
    IReadOnlyList<Tag> ListTags(string resourceType, string resourceId);
    void SetTag(long accountId, string resourceType, string resourceId, Tag tag);
    void RemoveTag(string resourceType, string resourceId, string key);
    void RemoveAllTags(string resourceType, string resourceId);

    /// <summary>Every tag of the account's resources of a type, for listing and filtering.</summary>
    IReadOnlyList<(string ResourceId, Tag Tag)> ListTagsOfType(long accountId, string resourceType);

    /// <summary>The account's newest revision, in its own numbering (0 when it has none): what the tenant sees as its revision.</summary>
    long LatestRevision(long accountId);

    // Enforcement: host bindings (control-plane state) and agent reports (bookkeeping, no revision)
    /// <summary>Binds the NIC (replacing its binding, if any: one NIC is on one interface).</summary>
    void SaveHostBinding(HostBindingRecord binding);

    /// <summary>The binding of the instance's primary NIC (its primary ENI, or a classic instance's NIC).</summary>
    HostBindingRecord? FindHostBinding(InstanceId id);

    /// <summary>The binding of an ENI, primary or secondary.</summary>
    HostBindingRecord? FindHostBinding(NetworkInterfaceId id);
    HostBindingRecord? FindHostBindingByInterface(string hostName, string interfaceName);

    /// <summary>The account's bindings, on one host or (with null) on all, by host and interface.</summary>
    IReadOnlyList<HostBindingRecord> ListHostBindings(long accountId, string? hostName);
    void DeleteHostBinding(HostBindingRecord binding);

    /// <summary>What the agents of the account's hosts (or of one) reported, a row a NIC, by host, instance and ENI.</summary>
    IReadOnlyList<AgentReportRecord> ListAgentReports(long accountId, string? hostName);

    // Hosts (issue 18): the operator's declarations and host credentials; the host's view over all accounts

    void SaveHost(HostRecord host);
    HostRecord? FindHost(string hostName);
    IReadOnlyList<HostRecord> ListHosts();
    void InsertHostCredential(HostCredentialRecord credential);
    HostCredentialRecord? FindHostCredential(string accessKeyId);

    /// <summary>
    /// The host credentials of the IDs given that exist (a node's batch of status reports, issue 17,
    /// seventeenth session: one statement a batch); <see cref="FindHostCredential"/> once an ID is its slow twin.
    /// </summary>
    IReadOnlyList<HostCredentialRecord> FindHostCredentials(IReadOnlyCollection<string> accessKeyIds);

    /// <summary>The host credentials of one host, or (with null) of every host, by host, creation time and ID.</summary>
    IReadOnlyList<HostCredentialRecord> ListHostCredentials(string? hostName);

    /// <summary>
    /// Deletes a host credential (revoked: its requests get <c>InvalidAccessKeyId.NotFound</c>). The
    /// commit names its host in the host feed, so the host's parked long polls wake and find their
    /// credential gone at once.
    /// </summary>
    void DeleteHostCredential(HostCredentialRecord credential);

    /// <summary>Notes that the credential signed a request at <paramref name="at"/>: bookkeeping, no revision.</summary>
    void MarkHostCredentialUsed(string accessKeyId, DateTimeOffset at);

    /// <summary>
    /// Notes many credentials' uses (a node's batch, issue 17): one statement for every credential used
    /// in the same second, not one a credential. <see cref="MarkHostCredentialUsed"/> is its slow twin.
    /// </summary>
    void MarkHostCredentialsUsed(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> uses);

    /// <summary>The account that owns an instance, whichever it is (the operator's and the host's view; never a tenant's).</summary>
    long? FindInstanceOwner(InstanceId id);

    /// <summary>The account that owns an ENI, whichever it is (the operator's view; never a tenant's).</summary>
    long? FindNetworkInterfaceOwner(NetworkInterfaceId id);

    /// <summary>Every binding on a host, of every account, by interface.</summary>
    IReadOnlyList<HostBindingRecord> ListBindingsOnHost(string hostName);

    /// <summary>
    /// Every binding on each host named, of every account, by host (a host with none is absent), each host's
    /// in <see cref="ListBindingsOnHost"/>'s order (a node's batch of status reports, seventeenth session: one
    /// statement a batch); <see cref="ListBindingsOnHost"/> once a host is its slow twin.
    /// </summary>
    IReadOnlyDictionary<string, IReadOnlyList<HostBindingRecord>> ListBindingsOnHosts(IReadOnlyCollection<string> hostNames);

    /// <summary>The account's own revision as of global revision <paramref name="globalRevision"/> (0 when it had none).</summary>
    long AccountRevisionAt(long accountId, long globalRevision);

    /// <summary>
    /// The host's feed (issue 17): the commits after global revision <paramref name="after"/>, of any
    /// account, that may alter what the host's agent enforces (its bindings, or what one of its NICs'
    /// policies depends on; decided by the store at commit), oldest first (global numbers).
    /// </summary>
    IReadOnlyList<RevisionRecord> ListHostRevisions(string hostName, long after, int max);

    /// <summary>
    /// Replaces what the agent of a host reported, for every account, with <paramref name="reports"/> — unless the
    /// host's rows are of a newer report than <paramref name="report"/> (a higher applied revision, or the same
    /// and a later arrival: issue 17, twentieth session, a report answered before its write may be written after
    /// a newer one); leaves no revision. True when written. The NICs of one account in a report carry one
    /// applied revision and time (the store keeps them once a host and account: migration 016).
    /// </summary>
    bool SaveHostReports(HostReportMark report, IReadOnlyList<AgentReportRecord> reports);

    /// <summary>
    /// Replaces the reports of every host named with the rows given, each host's only when its report is at
    /// least as new as the one its rows are of (<see cref="SaveHostReports"/>'s guard); a node's batch of status
    /// reports: one upsert of the marks, one of the accounts' revisions, and the NIC rows of the hosts whose NIC set changed. <see cref="SaveHostReports"/>
    /// once a host is its slow twin. Answers the hosts whose rows were replaced.
    /// </summary>
    IReadOnlySet<string> ReplaceHostReports(IReadOnlyList<HostReportMark> reports, IReadOnlyList<AgentReportRecord> rows);

    /// <summary>Over all accounts: NICs bound to a host, and those whose agent enforces their account's newest revision.</summary>
    (long Bound, long InSync) CountNicsInSync();

    // Rule usage (issue 20): bookkeeping like agent reports, no revision

    /// <summary>Adds a host's hit counts to the bucket starting at <paramref name="bucketStart"/>; a rule with hits gets <paramref name="now"/> as its last hit.</summary>
    void AddRuleUsage(long accountId, string hostName, DateTimeOffset bucketStart, IReadOnlyList<RuleUsageDelta> deltas, DateTimeOffset now);

    /// <summary>
    /// Notes that the host's agent counted up to <paramref name="now"/>. A host silent for longer than
    /// <paramref name="maxGap"/> starts counting anew (what it did not see in between is unknown).
    /// </summary>
    void MarkUsageHost(long accountId, string hostName, DateTimeOffset now, TimeSpan maxGap);

    /// <summary>
    /// <see cref="MarkUsageHost"/> for many reports, in their order, as one read and one upsert (a node's
    /// batch of status reports); the same rows as <see cref="MarkUsageHost"/> called for each in turn.
    /// </summary>
    void MarkUsageHosts(IReadOnlyList<(long AccountId, string HostName, DateTimeOffset Now)> marks, TimeSpan maxGap);

    /// <summary>The account's usage of the given rules from <paramref name="since"/> on, by rule, host and bucket.</summary>
    IReadOnlyList<RuleUsageRecord> ListRuleUsage(long accountId, IReadOnlyCollection<string> ruleIds, DateTimeOffset since);

    IReadOnlyList<UsageHostRecord> ListUsageHosts(long accountId);

    /// <summary>Deletes the account's usage buckets that start before <paramref name="before"/>; how many went.</summary>
    int PurgeRuleUsage(long accountId, DateTimeOffset before);
}

/// <summary>A signature nonce a request used: its key, the nonce, and when the request's timestamp stops being accepted.</summary>
public readonly record struct NonceUse(string AccessKeyId, string Nonce, DateTimeOffset ExpiresAt);
