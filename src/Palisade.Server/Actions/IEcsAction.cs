using Palisade.Server.Responses;

namespace Palisade.Server.Actions;

/// <summary>The API versions Palisade speaks.</summary>
public static class ApiVersions
{
    public const string Ecs = "2014-05-26";
    public const string Vpc = "2016-04-28";

    /// <summary>RAM's version, for the AccessKey actions a key uses on its own account.</summary>
    public const string Ram = "2015-05-01";

    /// <summary>STS's version, for GetCallerIdentity.</summary>
    public const string Sts = "2015-04-01";
}

/// <summary>One ECS (or VPC) action. One class per action, in <c>Actions/&lt;Area&gt;/</c>.</summary>
public interface IEcsAction
{
    string Name { get; }

    string Version { get; }

    /// <summary>Changes state: refused to read-only keys; <c>DryRun</c> rolls it back.</summary>
    bool Mutates { get; }

    /// <summary>The response fields after <c>RequestId</c>.</summary>
    EcsObject Execute(ActionContext context);

    /// <summary>Whether a read's answer may be served from the read cache while the revision stands.</summary>
    bool Cacheable => !Mutates;
}

/// <summary>An action that waits (a long poll) and so must not hold a thread while it does.</summary>
public interface IAsyncEcsAction : IEcsAction
{
    Task<EcsObject> ExecuteAsync(ActionContext context, CancellationToken cancel);
}

public abstract class EcsAction : IEcsAction
{
    public virtual string Name => GetType().Name;

    public virtual string Version => ApiVersions.Ecs;

    public abstract bool Mutates { get; }

    public abstract EcsObject Execute(ActionContext context);
}
