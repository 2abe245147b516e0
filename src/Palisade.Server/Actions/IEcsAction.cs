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

    /// <summary>
    /// Whether the object <see cref="ExecuteAsync"/> answers is made afresh for the call and held by nobody else,
    /// so the endpoint may empty it once the answer is rendered (<see cref="EcsObject.Release"/>). A long poll's
    /// task was made when it arrived and is old by the time it answers: whatever it still references when a
    /// collection comes is kept alive (twenty-fourth session), though the call is over.
    /// </summary>
    bool AnswersAnObjectOfItsOwn => false;
}

/// <summary>
/// What every action declares up front, in its base list: its API version, whether it changes state
/// (<see cref="WriteAction"/>) or only reads (<see cref="ReadAction"/>), and, for a read, whether its
/// answer may be cached. These are fixed per class, so the request path can rely on them and no
/// action can get them wrong by forgetting an override.
/// </summary>
internal abstract class EcsAction(string version, bool mutates, bool cacheable) : IEcsAction
{
    public string Name => GetType().Name;

    public string Version => version;

    public bool Mutates => mutates;

    public bool Cacheable => cacheable;

    public EcsObject Execute(ActionContext context) => Execute(context, context.Parameters);

    /// <summary>The action itself, over its input: the request's parameters <paramref name="p"/> (<c>c.Parameters</c>).</summary>
    protected abstract EcsObject Execute(ActionContext c, ParameterReader p);
}

/// <summary>
/// An action that only reads: read-only keys may call it, and its answer is served from the read
/// cache while the revision stands, unless it is declared <c>cacheable: false</c> because it depends
/// on more than the revision (the trail, agents' reports, a long poll, an analysis asked for now).
/// </summary>
internal abstract class ReadAction(string version = ApiVersions.Ecs, bool cacheable = true) : EcsAction(version, mutates: false, cacheable);

/// <summary>
/// An action that changes state: refused to read-only keys, never cached, run inside
/// <see cref="ActionContext.Write"/> (so <c>DryRun</c> rehearses it and rolls it back).
/// </summary>
internal abstract class WriteAction(string version = ApiVersions.Ecs) : EcsAction(version, mutates: true, cacheable: false);
