using System.IO.Pipelines;
using CsCheck;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.AnalysisWorker.Tests;

/// <summary>
/// The analysis process's loop in this process, over in-memory pipes: what the server sends is read
/// back as sent, and each Compare is answered with the impact computed here directly; a Compare
/// without its before, or at a revision not kept, is answered NeedsBefore. (The real child, started
/// by the server, is tested in Palisade.Server.Tests' AnalysisProcessTests.)
/// </summary>
public sealed class ImpactWorkerTests
{
    private static string Show(IEnumerable<ImpactWire.Flow> flows) =>
        string.Join("; ", flows.Select(f => $"{f.Source}->{f.Target} {f.Protocol} {string.Join(",", f.Ports)}"));

    private sealed class Loop : IAsyncDisposable
    {
        private readonly Pipe _toWorker = new();
        private readonly Pipe _fromWorker = new();
        private readonly Task _running;
        private readonly ImpactWire.Frame _frame = new();
        private readonly byte[] _length = new byte[4];
        private long _ids;

        public Loop() => _running = ImpactWorker.RunAsync(_toWorker.Reader.AsStream(), _fromWorker.Writer.AsStream());

        public async Task<ImpactWire.Answered> CompareAsync(long account, string region, long revision, NetworkState? before, NetworkState after)
        {
            var id = ++_ids;
            ImpactWire.WriteCompare(_frame, id, account, region, revision, before, after);
            await _toWorker.Writer.WriteAsync(_frame.Written);
            var answer = ImpactWire.ReadAnswer((await ImpactWire.ReadFrameAsync(_fromWorker.Reader.AsStream(), _length))!.Value);
            Assert.Equal(id, answer.Id);
            return answer;
        }

        public async ValueTask DisposeAsync()
        {
            await _toWorker.Writer.CompleteAsync();
            await _running.WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task ACompare_IsAnsweredWithTheImpact_AndABeforeIsKeptPerRevision()
    {
        await using var loop = new Loop();
        // Rules taken away, not filtered for: a filter that rarely passes fails the generator on some seeds (CI's "Failing Where max count").
        var states = SmallUniverse.State.Select(s => s.WithGroups(s.Groups.Select(g => g with { Rules = [] }))).Array[3].Single();
        var (before, after, other) = (states[0], states[1], states[2]);
        after = new NetworkState(before.RegionId, after.Groups, after.Instances, after.PrefixLists, after.PortRangeLists);
        other = new NetworkState(before.RegionId, other.Groups, other.Instances, other.PrefixLists, other.PortRangeLists);

        // Not kept yet: asked for.
        Assert.Equal(ImpactWire.Status.NeedsBefore, (await loop.CompareAsync(7, before.RegionId, 1, null, after)).Status);
        foreach (var (given, then) in new[] { (before, after), (null, other), (null, after) })
        {
            var answer = await loop.CompareAsync(7, before.RegionId, 1, given, then);
            Assert.Equal(ImpactWire.Status.Answered, answer.Status);
            var here = ImpactAnalysis.Between(before, then);
            Assert.Equal(Show(here.Gained.Select(ImpactWire.Flow.Of)), Show(answer.Gained));
            Assert.Equal(Show(here.Lost.Select(ImpactWire.Flow.Of)), Show(answer.Lost));
        }
        // Another revision, or another account: asked for again.
        Assert.Equal(ImpactWire.Status.NeedsBefore, (await loop.CompareAsync(7, before.RegionId, 2, null, after)).Status);
        Assert.Equal(ImpactWire.Status.NeedsBefore, (await loop.CompareAsync(8, before.RegionId, 1, null, after)).Status);
    }

    [Fact]
    public void AnAnswer_ReadsBackAsWritten()
    {
        // Strings repeated within an answer (read once and shared), any characters, and long ones (past the looked-up length).
        Gen<string>[] texts = [Gen.String[Gen.Char.AlphaNumeric, 0, 20], Gen.OneOf(Gen.Const("i-a"), Gen.Const("i-ab"), Gen.Const("i-abc"), Gen.Const("0.0.0.0/0"), Gen.Const("0.0.0.0/1"), Gen.Const(""), Gen.Const("é-ü")), Gen.String[Gen.Char['\u00e0', '\u024f'], 0, 40], Gen.String[Gen.Char.AlphaNumeric, 250, 300]];
        var text = Gen.OneOf(texts);
        var flow = Gen.Select(text, text, Gen.OneOf(Gen.Const("TCP"), Gen.Const("UDP"), Gen.Const("ALL")), text.Array[0, 3])
            .Select((s, t, p, ports) => new ImpactWire.Flow(s, t, p, ports));
        Gen.Select(Gen.Long, flow.Array[0, 40], flow.Array[0, 40], Gen.Long[0, long.MaxValue]).Sample((id, gained, lost, ticks) =>
        {
            // A frame is its writer's own (CsCheck samples on several threads).
            var frame = new ImpactWire.Frame();
            ImpactWire.WriteAnswer(frame, id, ImpactWire.Status.Answered, TimeSpan.FromTicks(ticks), gained, lost, null);
            var back = ImpactWire.ReadAnswer(frame.Written[4..]);
            Assert.Equal((id, ImpactWire.Status.Answered, ticks), (back.Id, back.Status, back.Cpu.Ticks));
            Assert.Equal(Show(gained), Show(back.Gained));
            Assert.Equal(Show(lost), Show(back.Lost));
        });
    }
    [Fact]
    public void FramesReadIntoAReusedBuffer_AreTheFramesReadIntoNewArrays()
    {
        // Sizes around the buffer's growth and past what it keeps.
        var size = Gen.OneOf(Gen.Int[1, 300], Gen.Int[60_000, 200_000], Gen.Const(ImpactWire.ReusedPayload.MaxKept + 1));
        Gen.Select(size, Gen.Byte).Array[1, 8].Sample(frames =>
        {
            var stream = new MemoryStream();
            foreach (var (length, fill) in frames)
            {
                stream.Write(BitConverter.GetBytes(length));
                stream.Write(Enumerable.Range(0, length).Select(i => (byte)(fill + i)).ToArray());
            }
            var (fresh, reused) = (new MemoryStream(stream.ToArray()), new MemoryStream(stream.ToArray()));
            var (lengthFresh, lengthReused, buffer) = (new byte[4], new byte[4], new ImpactWire.ReusedPayload());
            for (var i = 0; ; i++)
            {
                var a = ImpactWire.ReadFrameAsync(fresh, lengthFresh).Result;
                var b = ImpactWire.ReadFrameAsync(reused, lengthReused, buffer).Result;
                Assert.Equal(a is null, b is null);
                if (a is null)
                {
                    Assert.Equal(frames.Length, i);
                    break;
                }
                Assert.True(a.Value.Span.SequenceEqual(b!.Value.Span), $"frame {i} differs");
            }
        }, iter: 60);
    }
}
