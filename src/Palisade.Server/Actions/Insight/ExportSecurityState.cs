namespace Palisade.Server.Actions.Insight;

/// <summary>
/// Palisade extension, read by <c>palisade export</c>, <c>eval</c> and <c>reach</c> without
/// <c>--state</c>: the caller's groups, rules and instances in <c>RegionId</c>, in one consistent
/// read, as a state file (the document <c>palisade export --account</c> writes from the local
/// store), so the offline commands answer about the live control plane with the same code.
/// </summary>
internal sealed class ExportSecurityState : ReadAction, IAnalysisAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        return c.Read(s => new EcsObject
        {
            { "AccountRevision", s.LatestRevision(c.AccountId) },
            { "State", StateExport.Body(s, c.AccountId, region.RegionId) },
        });
    }
}
