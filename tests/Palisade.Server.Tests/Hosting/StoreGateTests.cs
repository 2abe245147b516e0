using Palisade.Server.Hosting;

namespace Palisade.Server.Tests.ServerHosting;

/// <summary>
/// Issue 17: with the store's pool full, a request used to wait inside the synchronous
/// <c>OpenConnection</c>, one thread each (257–285 threads at 3,000 agents). Requests beyond the
/// pool now wait for a slot of the <see cref="StoreGate"/> without a thread.
/// </summary>
public sealed class StoreGateTests
{
    [Fact]
    public void Slots_FollowThePool_ReadsLeaveTheWritesShareAndOneConnection()
    {
        using var fleet = new StoreGate(40, 16);
        Assert.Equal((23, 16), (fleet.Reads, fleet.Writes));
        using var small = new StoreGate(4, 16);
        Assert.Equal((1, 2), (small.Reads, small.Writes));
        using var tiny = new StoreGate(1, 16);
        Assert.Equal((1, 1), (tiny.Reads, tiny.Writes));
        Assert.Equal((0, 0), (StoreGate.Open.Reads, StoreGate.Open.Writes));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StagesBeyondThePool_WaitWithoutAThread_AndAllComplete(bool reads)
    {
        var kind = reads ? StoreGate.Kind.Read : StoreGate.Kind.Write;
        using var gate = new StoreGate(10, 16);
        var slots = kind == StoreGate.Kind.Read ? gate.Reads : gate.Writes;
        const int beyond = 200;
        using var release = new ManualResetEventSlim();
        using var entered = new SemaphoreSlim(0);
        var inside = 0;
        var most = 0;
        int Stage()
        {
            var now = Interlocked.Increment(ref inside);
            int seen;
            while ((seen = Volatile.Read(ref most)) < now && Interlocked.CompareExchange(ref most, now, seen) != seen)
            {
            }
            entered.Release();
            release.Wait(); // a store call holding its connection (and its thread) until released
            Interlocked.Decrement(ref inside);
            return 1;
        }

        // Every slot taken by a stage that blocks its own thread.
        var holding = Enumerable.Range(0, slots).Select(_ => Task.Run(() => gate.RunAsync(kind, Stage, CancellationToken.None).AsTask())).ToList();
        for (var i = 0; i < slots; i++)
            await entered.WaitAsync();
        Assert.Equal(slots, gate.InUse(kind));

        // 200 more, started one after another on one thread of their own: each returns at once,
        // waiting without a thread. A gate that blocked would never return the first (the bound
        // below only keeps such a bug from hanging the suite; it measures no speed).
        var waiting = new List<Task<int>>();
        var issuer = new Thread(() =>
        {
            for (var i = 0; i < beyond; i++)
                waiting.Add(gate.RunAsync(kind, Stage, CancellationToken.None).AsTask());
        });
        issuer.Start();
        var returned = issuer.Join(TimeSpan.FromSeconds(60));
        if (!returned)
            release.Set();
        Assert.True(returned, $"a stage beyond the pool held its caller's thread ({waiting.Count} of {beyond} returned)");
        Assert.Equal(beyond, waiting.Count);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        Assert.Equal(slots, Volatile.Read(ref inside));

        release.Set();
        var done = await Task.WhenAll(holding.Concat(waiting));
        Assert.Equal(slots + beyond, done.Sum());
        // Never more stages at once than slots: the pool behind the gate is never waited for.
        Assert.Equal(slots, most);
        Assert.Equal(0, gate.InUse(kind));
    }

    [Fact]
    public async Task AWaiterWhoseClientLeft_IsNotRun_AndTheSlotIsKept()
    {
        using var gate = new StoreGate(4, 16);
        using var release = new ManualResetEventSlim();
        using var entered = new SemaphoreSlim(0);
        var holder = Task.Run(() => gate.RunAsync(StoreGate.Kind.Read, () => { entered.Release(); release.Wait(); return 1; }, CancellationToken.None).AsTask());
        await entered.WaitAsync();
        using var leave = new CancellationTokenSource();
        var ran = false;
        var waiter = Task.Run(() => gate.RunAsync(StoreGate.Kind.Read, () => ran = true, leave.Token).AsTask());
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        release.Set();
        Assert.Equal(1, await holder);
        Assert.False(ran);
        Assert.Equal(0, gate.InUse(StoreGate.Kind.Read));
        Assert.True(await gate.RunAsync(StoreGate.Kind.Read, () => true, CancellationToken.None));
    }

    [Fact]
    public async Task AnOpenGate_RunsEveryStageAtOnce()
    {
        using var gate = new StoreGate(null, 16);
        using var all = new CountdownEvent(8);
        // Eight stages that each wait for all eight: they finish only if none waits for a slot.
        var stages = Enumerable.Range(0, 8).Select(_ => Task.Run(() => gate.RunAsync(StoreGate.Kind.Write, () => { all.Signal(); all.Wait(); return 1; }, CancellationToken.None).AsTask()));
        Assert.Equal(8, (await Task.WhenAll(stages)).Sum());
    }
}
