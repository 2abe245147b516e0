using System.Buffers;
using System.IO.Pipelines;
using Palisade.Server.Hosting;

namespace Palisade.Server.Tests.ServerHosting;

/// <summary>
/// Issue 15: under SslStream each sealed record was written to the socket's pipe with a flush of its
/// own, so an answer of four records woke the socket's sender four times. While an answer is being
/// flushed its records are gathered and sent by the one flush that ends it; anything SslStream writes
/// on its own (handshake, alerts, tickets) is still sent at once. A real <see cref="Pipe"/> stands for
/// the socket: what its reader can read is what would be sent.
/// </summary>
public sealed class TlsGatheringTests
{
    private readonly Pipe _socket = new(new PipeOptions(pauseWriterThreshold: 0));

    private long Sendable()
    {
        if (!_socket.Reader.TryRead(out var result))
            return 0;
        var length = result.Buffer.Length;
        _socket.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }

    private static byte[] Record(int length, byte fill) => Enumerable.Repeat(fill, length).ToArray();

    [Fact]
    public async Task OutsideAnAnswer_EveryWriteIsSentAtOnce()
    {
        var output = new TlsRecords.GatheringOutput(_socket.Writer);

        await output.WriteAsync(Record(120, 1)); // e.g. a session ticket or an alert
        Assert.Equal(120, Sendable());
        await output.WriteAsync(Record(16_401, 2));
        Assert.Equal(16_401, Sendable());
    }

    [Fact]
    public async Task AnAnswersRecords_AreGathered_AndSentByTheFlushThatEndsIt_InOrder()
    {
        var output = new TlsRecords.GatheringOutput(_socket.Writer);

        output.BeginAnswer();
        await output.WriteAsync(Record(16_401, 1));
        await output.WriteAsync(Record(16_401, 2));
        await output.WriteAsync(Record(9_000, 3));
        Assert.Equal(0, Sendable());
        await output.FlushAsync();
        output.EndAnswer();

        Assert.True(_socket.Reader.TryRead(out var result));
        var sent = result.Buffer.ToArray();
        _socket.Reader.AdvanceTo(result.Buffer.End);
        Assert.Equal(Record(16_401, 1).Concat(Record(16_401, 2)).Concat(Record(9_000, 3)), sent);

        // The answer is over: the next write is sent at once again.
        await output.WriteAsync(Record(50, 4));
        Assert.Equal(50, Sendable());
    }

    [Fact]
    public async Task ALongAnswer_IsSentOnceAsMuchAsTheGatheringHolds_IsGathered()
    {
        var output = new TlsRecords.GatheringOutput(_socket.Writer);
        var record = Record(16_401, 7);
        var fit = TlsRecords.GatherBytes / record.Length;

        output.BeginAnswer();
        for (var i = 0; i < fit; i++)
            await output.WriteAsync(record);
        Assert.Equal(0, Sendable());
        // The record that would pass the bound is written with everything before it.
        await output.WriteAsync(record);
        Assert.Equal((fit + 1) * (long)record.Length, Sendable());
        // And gathering starts again after it.
        await output.WriteAsync(record);
        Assert.Equal(0, Sendable());
        await output.FlushAsync();
        output.EndAnswer();
        Assert.Equal(record.Length, Sendable());
    }
}
