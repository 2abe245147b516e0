using CsCheck;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Authentication off the store gate, its nonces recorded in batches on PostgreSQL
/// (<see cref="ServerOptions.AuthenticationOffTheGate"/>, issue 17, fifteenth session), against its slow
/// twin (a read slot and one insert per nonce): two nodes on one store each way; for random bursts of
/// signed requests, each sent one to four times at once to either node, both accept each request
/// exactly once and refuse every other copy as a replay, on whichever node it lands. On SQLite the
/// nodes share the side file of nonces (nothing to batch); on PostgreSQL, when the run asks for it,
/// the shared table, in batches.
/// </summary>
public sealed class NonceBatchTests : IAsyncLifetime
{
    private readonly TestControlPlane[] _fast = new TestControlPlane[2];
    private readonly TestControlPlane[] _slow = new TestControlPlane[2];

    public async Task InitializeAsync()
    {
        _fast[0] = await TestControlPlane.StartAsync();
        _fast[1] = await TestControlPlane.StartAsync(sameStoreAs: _fast[0]);
        var slow = new ServerOptions { AuthenticationOffTheGate = false };
        _slow[0] = await TestControlPlane.StartAsync(options: slow);
        _slow[1] = await TestControlPlane.StartAsync(options: slow, sameStoreAs: _slow[0]);
    }

    public async Task DisposeAsync()
    {
        foreach (var plane in new[] { _fast[1], _fast[0], _slow[1], _slow[0] })
            await plane.DisposeAsync();
    }

    [Fact]
    public async Task ReplaysAtOnceOnEitherNode_AreRefused_AsWithOneInsertEach()
    {
        var fastKey = _fast[0].NewAccount("nonces-fast");
        var slowKey = _slow[0].NewAccount("nonces-slow");
        await Gen.Select(Gen.Int[1, 4], Gen.Int[0, 1]).Array[1, 4].Array[1, 12].SampleAsync(async burst =>
        {
            var fast = await BurstAsync(_fast, fastKey, burst);
            var slow = await BurstAsync(_slow, slowKey, burst);
            Assert.Equal(slow, fast);
            // Each request once, whatever the node: the other copies are replays.
            Assert.All(fast, outcomes => Assert.Equal(1, outcomes.Split(',').Count(o => o == "ok")));
        }, iter: 30, threads: 1);
    }

    /// <summary>Per request of the burst, its copies' outcomes ("ok" or the code), sorted.</summary>
    private static async Task<List<string>> BurstAsync(TestControlPlane[] nodes, Storage.Accounts.AccountService.NewKey key, (int Copies, int Node)[][] burst)
    {
        var clients = nodes.Select(n => n.Client(key, SignatureStyle.V1Get)).ToArray();
        var sends = new List<(int Request, Task<string> Outcome)>();
        for (var r = 0; r < burst.Length; r++)
        {
            using var request = clients[0].Build("DescribeRegions", [], ApiVersions.Ecs);
            var uri = request.RequestUri!;
            foreach (var (copies, node) in burst[r])
            {
                for (var c = 0; c < copies; c++)
                    sends.Add((r, OutcomeAsync(clients[(node + c) % 2], uri)));
            }
        }
        await Task.WhenAll(sends.Select(s => s.Outcome));
        return [.. sends.GroupBy(s => s.Request).OrderBy(g => g.Key).Select(g => string.Join(",", g.Select(s => s.Outcome.Result).Order()))];
    }

    private static async Task<string> OutcomeAsync(EcsClient client, Uri uri)
    {
        var answer = await client.SendRawAsync(uri);
        var text = await answer.Content.ReadAsStringAsync();
        return (int)answer.StatusCode == 200 ? "ok" : text.Contains("SignatureNonceUsed", StringComparison.Ordinal) ? "SignatureNonceUsed" : $"{(int)answer.StatusCode} {text}";
    }
}
