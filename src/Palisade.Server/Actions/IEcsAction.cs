using Palisade.Server.Responses;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Actions;

/// <summary>One ECS (or VPC) action. One class per action, in <c>Actions/&lt;Area&gt;/</c>.</summary>
internal interface IEcsAction
{
    string Name { get; }

    string Version { get; }

    /// <summary>Changes state: refused to read-only keys; <c>DryRun</c> rolls it back.</summary>
    bool Mutates { get; }

    /// <summary>The response fields after <c>RequestId</c>.</summary>
    EcsObject Execute(ActionContext context);

    /// <summary>Whether a read's answer may be served from the read cache while the revision stands.</summary>
    bool Cacheable { get; }
}

/// <summary>
/// An analysis: its work grows with the account's state (every instance pair, every rule), so it is
/// admitted by <see cref="Protocol.AnalysisAdmission"/> (weighed against the account's budget,
/// queued for an analysis worker), not only counted by the request limits.
/// </summary>
internal interface IAnalysisAction : IEcsAction
{
    /// <summary>
    /// Runs on the request's thread what must hold the store's write lock (a rehearsal), and returns
    /// the rest, which runs on an analysis worker at a lower priority: a worker must never hold the
    /// lock other tenants' writes wait for. By default everything is the rest.
    /// </summary>
    Func<EcsObject> Stage(ActionContext context) => () => Execute(context);
}

/// <summary>An action that waits (a long poll) and so must not hold a thread while it does.</summary>
internal interface IAsyncEcsAction : IEcsAction
{
    Task<EcsObject> ExecuteAsync(ActionContext context, CancellationToken cancel);
}

internal abstract class EcsAction : IEcsAction
{
    public virtual string Name => GetType().Name;

    public virtual string Version => ApiVersions.Ecs;

    public abstract bool Mutates { get; }

    public abstract EcsObject Execute(ActionContext context);

    /// <summary>
    /// Reads are cached by default; an action whose answer depends on more than the revision (the
    /// trail, agents' reports, a long poll, an analysis asked for now) overrides this.
    /// </summary>
    public virtual bool Cacheable => !Mutates;
}

/// <summary>An action of the VPC API (2016-04-28): VPCs and vSwitches.</summary>
internal abstract class VpcAction : EcsAction
{
    public override string Version => ApiVersions.Vpc;
}
