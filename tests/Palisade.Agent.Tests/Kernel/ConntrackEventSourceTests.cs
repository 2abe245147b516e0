using Palisade.Agent.Kernel;

namespace Palisade.Agent.Tests.Kernel;

/// <summary>
/// Where the agent reads conntrack's events from (issue 20): its own netlink socket, and
/// <c>conntrack -E</c> when the socket cannot be opened — said once in the log, not at every restart
/// of the watch. No namespace is made: the one named does not exist, so the socket cannot be opened
/// and the fallback fails at once too.
/// </summary>
public sealed class ConntrackEventSourceTests
{
    [Fact]
    public async Task WhenTheSocketCannotBeOpened_ConntrackEIsRead_AndWhySaidOnce()
    {
        var log = new List<string>();
        using var kernel = new NftCommand("palisade-no-such-namespace-" + Guid.NewGuid().ToString("N")[..8]) { EventLog = log.Add, InProcess = false };
        for (var watch = 0; watch < 2; watch++)
        {
            // The fallback runs conntrack -E in that namespace: it ends at once (or cannot start), and the watch says so.
            var failed = await Record.ExceptionAsync(async () =>
            {
                await foreach (var _ in kernel.WatchNewConnectionBatchesAsync(CancellationToken.None))
                {
                }
            });
            Assert.True(failed is NetfilterException or System.ComponentModel.Win32Exception, $"the fallback's end: {failed}");
            Assert.Null(kernel.NetlinkCounts);
        }
        var said = Assert.Single(log);
        Assert.Contains("the netlink socket cannot be opened (no network namespace", said, StringComparison.Ordinal);
        Assert.Contains("reading conntrack -E instead", said, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSocketsOwnNamespace_CannotBeOneThatIsNotThere()
    {
        Assert.Null(ConntrackNetlinkSocket.Open("palisade-no-such-namespace", out var why));
        Assert.Equal("no network namespace palisade-no-such-namespace under /run/netns", why);
    }
}
