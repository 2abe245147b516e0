using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Storage;

namespace Palisade.Server.Tests.Support;

/// <summary>
/// A node's store that forwards every call to the real one, but fails <see cref="IStore.RecordTrail"/>
/// with <see cref="Failure"/> once a test sets it (a trail write that fails where nobody awaits it).
/// </summary>
public class TrailFailingStore : DispatchProxy
{
    private IStore _inner = null!;

    /// <summary>What the next trail writes throw; null forwards them.</summary>
    public Func<Exception>? Failure { get; set; }

    /// <summary>Replaces the server's store with one around it (<see cref="TestControlPlane.StartAsync"/>'s <c>services</c>); <paramref name="made"/> receives it.</summary>
    public static void Around(IServiceCollection services, Action<TrailFailingStore> made)
    {
        var real = services.Last(d => d.ServiceType == typeof(IStore));
        services.Add(ServiceDescriptor.Singleton<IStore>(sp =>
        {
            var proxy = Create<IStore, TrailFailingStore>();
            var failing = (TrailFailingStore)(object)proxy;
            failing._inner = (IStore)real.ImplementationFactory!(sp);
            made(failing);
            return proxy;
        }));
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IStore.RecordTrail) && Failure is { } failure)
            throw failure();
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
