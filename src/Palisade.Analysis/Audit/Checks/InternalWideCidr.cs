namespace Palisade.Analysis.Audit.Checks;

public sealed record InternalWideCidrEvidence(Cidr Cidr, NicType NicType, bool ClassicNetwork) : Evidence;

/// <summary>An ingress accept of a whole private range (VPC) or of any wide block on the classic intranet NIC (other tenants): judged on the rule as written.</summary>
internal static class InternalWideCidr
{
    public static readonly CheckInfo Info = new("internal-wide-cidr", Severity.Medium,
        "An internal accept rule admits a very wide block",
        "0.0.0.0/0, ::/0, 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 admit far more than the instances that need access; in the classic network they admit other tenants. Name the peers' group or a narrow block instead.",
        [typeof(InternalWideCidrEvidence)]);

    public static void Run(AuditRun run)
    {
        foreach (var group in run.State.Groups)
        {
            foreach (var rule in group.Rules.Where(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept))
            {
                var intranetClassic = group.IsClassic && rule.NicType == NicType.Intranet;
                if (rule.Peer is RulePeer.CidrBlock { Cidr: var block } && AuditBlocks.IsWide(block) && (intranetClassic || (!group.IsClassic && AuditBlocks.IsPrivate(block))))
                {
                    run.Add(Info, group.Id, rule.Id, null,
                        intranetClassic
                            ? $"Rule {rule.Id} of classic group {group.Id} accepts {block} on the intranet NIC: in the classic network that admits other tenants' instances. Name a group instead."
                            : $"Rule {rule.Id} of {group.Id} accepts all of {block}, far more than the instances that need access. Name their group or a narrow block.",
                        new InternalWideCidrEvidence(block, rule.NicType, group.IsClassic),
                        intranetClassic ? Severity.High : Severity.Medium);
                }
            }
        }
    }
}
