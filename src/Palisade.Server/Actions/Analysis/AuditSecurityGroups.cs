using Palisade.Analysis.Audit;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Analysis;

/// <summary>
/// Palisade extension: the best-practice audit of the caller's groups and instances in a region —
/// the same checks as <c>palisade audit</c> on a state file, on the live control plane, against the
/// limits this server is configured with.
/// </summary>
internal sealed class AuditSecurityGroups : EcsAction, IAnalysisAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var findings = c.Read(s => Auditor.Run(StoredState.Load(s, c.AccountId, region.RegionId), c.Limits));
        return new EcsObject
        {
            { "RegionId", region.RegionId },
            { "TotalCount", findings.Count },
            { "Findings", EcsList.Of("Finding", findings.Select(f => new EcsObject
                {
                    { "Check", f.Check },
                    { "Severity", f.Severity.ToWire() },
                    { "SecurityGroupId", f.SecurityGroupId?.Value ?? "" },
                    { "SecurityGroupRuleId", f.SecurityGroupRuleId?.Value ?? "" },
                    { "InstanceId", f.InstanceId?.Value ?? "" },
                    { "Message", f.Message },
                    { "Evidence", Evidence(f) },
                })) },
        };
    }

    /// <summary>The check's typed evidence, its fields already in ECS casing; ECS writes a missing value as "".</summary>
    private static EcsObject Evidence(Finding f)
    {
        var evidence = new EcsObject();
        foreach (var (name, value) in f.Evidence.Fields)
            evidence.Add(name, value is IReadOnlyList<string> items ? EcsList.Of("Item", items) : value ?? "");
        return evidence;
    }
}
