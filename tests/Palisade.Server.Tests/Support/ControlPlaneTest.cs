namespace Palisade.Server.Tests.Support;

/// <summary>
/// The set-up the server tests share: a control plane of the test's own (a fresh store, on SQLite or
/// on the PostgreSQL of the run), started before each test and disposed after it. A test class
/// says how its plane is started (<see cref="StartPlaneAsync"/>) and what it builds on it (<see cref="SetUpAsync"/>).
/// </summary>
public abstract class ControlPlaneTest : IAsyncLifetime
{
    protected TestControlPlane Plane { get; private set; } = null!;

    protected virtual Task<TestControlPlane> StartPlaneAsync() => TestControlPlane.StartAsync();

    protected virtual Task SetUpAsync() => Task.CompletedTask;

    /// <summary>A new account (named, or with a made-up name) and the scenario its key signs.</summary>
    protected Scenario NewScenario(string? accountName = null) => new(Plane.Client(Plane.NewAccount(accountName)));

    public async Task InitializeAsync()
    {
        Plane = await StartPlaneAsync();
        await SetUpAsync();
    }

    public virtual async Task DisposeAsync() => await Plane.DisposeAsync();
}
