namespace Palisade.Server.Actions.Insight;

/// <summary>
/// Palisade extension: what a change would do to reachability, before it is made. <c>ChangeAction</c>
/// names a mutating ECS action and the other parameters are that action's own; the change is
/// checked exactly as the action would check it (its errors are this call's errors), made inside a
/// transaction that is rolled back, and the answer is the <c>Impact</c> a <c>DryRun</c> of it gives:
/// the flows gained and lost. Nothing changes and no revision is added.
/// </summary>
// The answer is a function of the state and the request: kept while the revision stands (as
// every cacheable read), so a client asking again costs nothing; a new question costs its
// account's analysis budget.
internal sealed class DescribeChangeImpact : ReadAction, IAnalysisAction
{
    public static readonly IReadOnlySet<string> Changes = new HashSet<string>(StringComparer.Ordinal)
    {
        "AuthorizeSecurityGroup", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroup", "RevokeSecurityGroupEgress",
        "ModifySecurityGroupRule", "ModifySecurityGroupEgressRule", "JoinSecurityGroup", "LeaveSecurityGroup",
        "DeleteSecurityGroup", "ModifySecurityGroupPolicy", "ModifyInstanceAttribute", "DeleteInstance", "DeleteInstances",
        // An entry edit changes every decision that names the list.
        "ModifyPrefixList", "ModifyPortRangeList",
    };

    private static readonly Lazy<ActionCatalog> Catalog = new(ActionCatalog.FromAssembly);

    protected override EcsObject Execute(ActionContext c, ParameterReader p) => Stage(c)();

    /// <summary>The checks and the rehearsal (in a write transaction) now; the comparing of the states later, on a worker.</summary>
    public Func<EcsObject> Stage(ActionContext c)
    {
        var name = c.Parameters.Required("ChangeAction");
        if (!Changes.Contains(name))
            throw new EcsException(EcsErrors.ParameterInvalid("ChangeAction", $"'{(name.Length > 40 ? name[..40] + "…" : name)}' is not one of {string.Join(", ", Changes.Order(StringComparer.Ordinal))}."));
        c.Region();
        var change = Catalog.Value.Find(ApiVersions.Ecs, name)!;
        var parameters = c.Parameters.All
            .Where(p => p.Key is not ("ChangeAction" or "DryRun" or "ClientToken"))
            .Append(new KeyValuePair<string, string>("DryRun", "true"))
            .ToList();
        var rehearsal = c.For(change, parameters);
        var impact = DryRunImpact.Prepare(rehearsal);
        change.Execute(rehearsal);
        if (!rehearsal.DryRunPassed)
            throw new InvalidOperationException($"{name} finished without rehearsing its change");
        var after = rehearsal.StateAfterDryRun;
        return () => new EcsObject { { "ChangeAction", name }, { "Impact", impact.Complete(after) } };
    }
}
