using CsCheck;
using Palisade.Server.Actions.Trail;
using Palisade.Server.Protocol;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 17, twenty-first session: a trailed call's parameters are written with the thread's buffer and
/// writer, reset for each call; the text is what a buffer and writer of its own write (the slow twin), call
/// after call on one thread — small and large, cut, masked, left out — so nothing of one call reaches the next.
/// </summary>
public sealed class TrailParametersTests
{
    private static readonly Gen<string> Name = Gen.OneOf(
        Gen.String[Gen.Char['A', 'z'], 1, 12], Gen.Const("AccessKeyId"), Gen.Const("Password"), Gen.Const("AfterRevision"), Gen.Const("KnownNic.1.Digest"));

    private static readonly Gen<string> Value = Gen.OneOf(Gen.String[Gen.Char['\u0001', '\u07ff'], 0, 40], Gen.String[Gen.Char['a', 'c'], 1000, 1100], Gen.Const("i-abc"));

    private static readonly Gen<RpcRequest> Requests = Gen.Select(Name, Value).Array[0, 60].Select(pairs =>
        new RpcRequest("GET", "ecs.local", [.. pairs.DistinctBy(p => p.Item1).Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2))], [],
            new Dictionary<string, string>(), []));

    [Fact]
    public void TheThreadsWriter_WritesWhatAWriterOfItsOwnWrites_CallAfterCall()
    {
        static bool PollsOwn(string name) => name is "AfterRevision" || name.StartsWith("KnownNic.", StringComparison.Ordinal);
        Gen.Select(Requests, Gen.Bool).Array[1, 6].Sample(calls =>
        {
            foreach (var (request, leaveOut) in calls)
            {
                Func<string, bool>? leftOut = leaveOut ? PollsOwn : null;
                Assert.Equal(TrailParameters.FullFresh(request, leftOut), TrailParameters.Json(request, leftOut));
            }
        }, iter: 300, threads: 1);
    }
}
