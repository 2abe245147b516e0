namespace Palisade.Analysis.Audit.Checks;

/// <summary>Nothing beyond the instance the finding names.</summary>
public sealed record NoEvidence : Evidence;

/// <summary>An instance the state puts in no group.</summary>
internal static class InstanceWithoutGroup
{
    public static readonly CheckInfo Info = new("instance-without-group", Severity.High,
        "An instance is in no security group",
        "Every instance must be in at least one group; join it to the group of its role.",
        [typeof(NoEvidence)]);

    public static void Run(AuditRun run)
    {
        foreach (var instance in run.State.Instances.Where(i => i.SecurityGroupIds.Length == 0))
            run.Add(Info, null, null, instance.Id, $"{instance.Id} is in no security group. Join it to the group of its role.", new NoEvidence());
    }
}
