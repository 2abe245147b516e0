namespace Palisade.Analysis.Audit;

/// <summary>The checks of the audit. IDs are stable: scripts and SARIF consumers key on them.</summary>
public static class AuditChecks
{
    public static readonly CheckInfo RiskyPortExposed = new("risky-port-exposed", Severity.High,
        "A sensitive port is reachable from the internet",
        "After all groups of the instance, their priorities and drop rules, a packet from an internet address reaches a port of a service that should never face the internet (SSH, RDP, databases, caches, brokers, file sharing). Allow it only from known addresses or a group, or put a drop rule at a lower priority number in front of it.");

    public static readonly CheckInfo InternalAllPorts = new("internal-all-ports", Severity.Medium,
        "An internal accept rule opens all ports or all protocols",
        "Internal traffic should be opened port by port for the services that need it. Replace the rule with rules for the ports the peers use.");

    public static readonly CheckInfo InternalWideCidr = new("internal-wide-cidr", Severity.Medium,
        "An internal accept rule admits a very wide block",
        "0.0.0.0/0, ::/0, 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 admit far more than the instances that need access; in the classic network they admit other tenants. Name the peers' group or a narrow block instead.");

    public static readonly CheckInfo InternalCidrInsteadOfGroup = new("internal-cidr-instead-of-group", Severity.Low,
        "Internal access is granted by address block where a group reference would say it",
        "The block covers exactly the private addresses of instances that share a group; a rule naming that group follows them when they change, a block does not.");

    public static readonly CheckInfo SamePriorityConflict = new("same-priority-conflict", Severity.Medium,
        "Overlapping accept and drop rules share a priority",
        "At equal priority drop wins, which is easy to misread. Give the intended winner a lower priority number.");

    public static readonly CheckInfo ShadowedRule = new("shadowed-rule", Severity.Low,
        "A rule never decides",
        "On every instance of its group, rules of higher priority (or equal priority and drop) decide every packet it matches. Remove it, or raise its priority if it was meant to win.");

    public static readonly CheckInfo RedundantRule = new("redundant-rule", Severity.Info,
        "Removing the rule would change nothing",
        "Where it decides, the next matching rule or the default gives the same verdict. Remove it to keep the rule set readable.");

    public static readonly CheckInfo UnusedGroup = new("unused-group", Severity.Low,
        "The group has no instances and no rule references it",
        "Delete groups nobody uses: they are noise in every review and a trap when someone joins an instance by mistake.");

    public static readonly CheckInfo UndocumentedGroup = new("undocumented-group", Severity.Info,
        "The group has no meaningful name, no description and no tags",
        "Name the group for its role, describe what it protects, and tag its owner and environment.");

    public static readonly CheckInfo OversizedGroup = new("oversized-group", Severity.Low,
        "One group holds most instances of a network",
        "When more than half of a VPC's instances (of at least 10) share one group, every rule of that group applies to nearly everything: a port opened for one role is open on all of them, and group references to it name the whole network. Split it into one group per role and keep shared rules small.");

    public static readonly CheckInfo GroupLimitNear = new("group-limit-near", Severity.Info,
        "A limit is close",
        "A NIC may be in 5 groups with 1,000 rules over all of them, and a group may hold 200 rules; close to a limit, the next change fails.");

    public static readonly CheckInfo DanglingReference = new("dangling-reference", Severity.Medium,
        "A rule references a group that does not exist",
        "The rule matches nothing any more. Remove it, or point it at the group that replaced the old one.");

    public static readonly CheckInfo InstanceWithoutGroup = new("instance-without-group", Severity.High,
        "An instance is in no security group",
        "Every instance must be in at least one group; join it to the group of its role.");

    public static readonly IReadOnlyList<CheckInfo> All =
    [
        RiskyPortExposed, InternalAllPorts, InternalWideCidr, InternalCidrInsteadOfGroup, SamePriorityConflict, ShadowedRule, RedundantRule,
        UnusedGroup, UndocumentedGroup, OversizedGroup, GroupLimitNear, DanglingReference, InstanceWithoutGroup,
    ];
}
