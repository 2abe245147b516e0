using Palisade.Analysis.Audit;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Analysis;

/// <summary>
/// Palisade extension: the best-practice audit of the caller's groups and instances in a region —
/// the same checks as <c>palisade audit</c> on a state file, on the live control plane.
/// </summary>
public sealed class AuditSecurityGroups : EcsAction, IAnalysisAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var findings = c.Read(s => Auditor.Run(StoredState.Load(s, c.AccountId, region.RegionId)));
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

    private static EcsObject Evidence(Finding f)
    {
        var evidence = new EcsObject();
        foreach (var (key, value) in f.Evidence)
        {
            // Keys in the ECS casing of the rest of the answer.
            var name = char.ToUpperInvariant(key[0]) + key[1..];
            evidence.Add(name, value switch
            {
                string[] items => EcsList.Of("Item", items),
                null => "",
                bool or int or long or string => value,
                _ => value.ToString(),
            });
        }
        return evidence;
    }
}
