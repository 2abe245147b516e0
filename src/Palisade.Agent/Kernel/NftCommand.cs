using System.Threading.Channels;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Palisade.Agent.Rendering;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Kernel;

/// <summary>
/// <see cref="INetfilter"/> through the <c>nft</c> and <c>conntrack</c> commands, run in the agent's
/// network namespace (<c>ip netns exec NAME</c>) or in its own when none is named. Every child has
/// a deadline (<see cref="Timeout"/>): a hung <c>nft</c> is killed and counts as a refusal, so the
/// agent never stalls behind it. nft itself runs in the agent's process through libnftables when the
/// library is there (<see cref="InProcess"/>; the same texts, no process per transaction); reads
/// (drift, counters) and the fallback run the <c>nft</c> command.
/// </summary>
public sealed class NftCommand(string? netns) : INetfilter, IDisposable
{
    /// <summary>How long one <c>nft</c> or <c>conntrack</c> run may take before it is killed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the conntrack event reader waits after a short read before reading again, so that a
    /// busy host's events arrive many to a read (<see cref="ConntrackEventReader.Start"/>); zero reads
    /// each as it comes. The sampler adds up per minute: a few milliseconds late costs nothing.
    /// </summary>
    public TimeSpan EventCoalescing { get; init; } = ConntrackEventReader.DefaultCoalescing;

    /// <summary>Run nft through libnftables in this process when it can be loaded (false: always the <c>nft</c> command).</summary>
    public bool InProcess { get; init; } = true;

    private readonly Lock _opening = new();
    private LibNftables? _library;
    private string? _libraryProblem;

    /// <summary>How nft is run, for the agent's log: in process, or as a command and why.</summary>
    public string Mode
    {
        get
        {
            var library = Library();
            return library is not null ? "nft through libnftables in the agent's process"
                : $"nft as a command{(_libraryProblem is null ? "" : $" ({_libraryProblem})")}";
        }
    }

    private LibNftables? Library()
    {
        if (!InProcess)
            return null;
        lock (_opening)
        {
            if (_library is null && _libraryProblem is null)
                _library = LibNftables.Open(netns, out _libraryProblem);
            return _library is { Stuck: false } ? _library : null;
        }
    }

    public void Dispose()
    {
        lock (_opening)
        {
            _library?.Dispose();
            _library = null;
        }
    }

    public async Task ApplyAsync(string transaction, CancellationToken cancel)
    {
        var (code, _, error) = await RunAsync("nft", ["-f", "-"], transaction, cancel);
        if (code != 0)
            throw new NetfilterException($"nft -f refused the transaction (exit {code}): {FirstLines(error)}");
    }

    public async Task CheckAsync(string transaction, CancellationToken cancel)
    {
        var (code, _, error) = await RunAsync("nft", ["-c", "-f", "-"], transaction, cancel);
        if (code != 0)
            throw new NetfilterException($"nft -c refused (exit {code}): {FirstLines(error)}");
    }

    public async Task<KernelShape?> ReadBackAsync(CancellationToken cancel)
    {
        var (code, output, error) = await RunAsync("nft", ["-j", "list", "table", "inet", NftText.TableName], null, cancel);
        if (code != 0)
        {
            if (error.Contains("No such file or directory", StringComparison.Ordinal))
                return null;
            throw new NetfilterException($"nft -j list table failed (exit {code}): {FirstLines(error)}");
        }
        var (bridgeCode, bridgeOutput, _) = await RunAsync("nft", ["-j", "list", "table", "bridge", NftText.TableName], null, cancel);
        var rules = new Dictionary<string, int>(StringComparer.Ordinal);
        var sets = new HashSet<string>(StringComparer.Ordinal);
        var hooks = new HashSet<string>(StringComparer.Ordinal);
        Collect(output, "inet", rules, sets, hooks);
        if (bridgeCode == 0)
            Collect(bridgeOutput, "bridge", rules, sets, hooks);
        return new KernelShape(rules, sets) { Hooks = hooks };
    }

    private static void Collect(string json, string family, Dictionary<string, int> rules, HashSet<string> sets, HashSet<string> hooks)
    {
        using var doc = JsonDocument.Parse(json);
        foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("chain", out var chain))
            {
                rules.TryAdd($"{family} {chain.GetProperty("name").GetString()}", 0);
                if (chain.TryGetProperty("hook", out var hook))
                {
                    var priority = chain.TryGetProperty("prio", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32().ToString(CultureInfo.InvariantCulture) : "?";
                    var policy = chain.TryGetProperty("policy", out var pol) ? pol.GetString() : "accept";
                    hooks.Add($"{family} {chain.GetProperty("name").GetString()} {hook.GetString()} {priority} {policy}");
                }
            }
            else if (item.TryGetProperty("rule", out var rule))
                rules[$"{family} {rule.GetProperty("chain").GetString()}"] = rules.GetValueOrDefault($"{family} {rule.GetProperty("chain").GetString()}") + 1;
            else if (item.TryGetProperty("set", out var set))
                sets.Add($"{family} {set.GetProperty("name").GetString()}");
            else if (item.TryGetProperty("map", out var map))
                sets.Add($"{family} {map.GetProperty("name").GetString()}");
        }
    }

    public async Task<IReadOnlyDictionary<string, CounterReading>> HarvestCountersAsync(CancellationToken cancel)
    {
        var (code, output, error) = await RunAsync("nft", ["-j", "reset", "counters", "table", "inet", NftText.TableName], null, cancel);
        if (code != 0)
        {
            if (error.Contains("No such file or directory", StringComparison.Ordinal))
                return new Dictionary<string, CounterReading>();
            throw new NetfilterException($"nft reset counters failed (exit {code}): {FirstLines(error)}");
        }
        return ReadCounters(output);
    }

    /// <summary>The counters of <c>nft -j list/reset counters</c>, by name.</summary>
    public static IReadOnlyDictionary<string, CounterReading> ReadCounters(string json)
    {
        var counters = new Dictionary<string, CounterReading>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
            return counters;
        using var doc = JsonDocument.Parse(json);
        foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("counter", out var counter) && counter.TryGetProperty("name", out var name))
                counters[name.GetString()!] = new CounterReading(counter.GetProperty("packets").GetInt64(), counter.GetProperty("bytes").GetInt64());
        }
        return counters;
    }

    public async Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel)
    {
        var (code, output, error) = await RunAsync("conntrack", ["-L"], null, cancel);
        if (code != 0)
            throw new NetfilterException($"conntrack -L failed (exit {code}): {FirstLines(error)}");
        return [.. output.Split('\n').Select(ConntrackLine.ParseTracked).OfType<TrackedConnection>()];
    }

    /// <summary>Where conntrack's new-connection events are read from (<see cref="ConntrackEventSource"/>).</summary>
    public ConntrackEventSource EventSource { get; init; } = ConntrackEventSource.Netlink;

    /// <summary>Where the event reader says which source it uses, why it fell back, and the events it lost (the agent's log).</summary>
    public Action<string>? EventLog { get; init; }

    /// <summary>How often lost events are told to <see cref="EventLog"/> at most.</summary>
    private static readonly TimeSpan LossLogInterval = TimeSpan.FromMinutes(1);

    private string? _netlinkProblem;
    private bool _netlinkTold;
    private ConntrackNetlinkSocket? _netlink;

    /// <summary>What the netlink reader of the current (or last) watch has seen; null when the events came from <c>conntrack -E</c>.</summary>
    public ConntrackEventCounts? NetlinkCounts => _netlink?.Counts.Snapshot();

    /// <summary>
    /// The connections the kernel accepts, in batches as they are read: from conntrack's netlink group
    /// by a socket of the agent's own (<see cref="ConntrackNetlinkSocket"/>), or — when it is asked for,
    /// or the socket cannot be opened (said once in <see cref="EventLog"/>) — from <c>conntrack -E</c>.
    /// </summary>
    public IAsyncEnumerable<IReadOnlyList<TrackedConnection>> WatchNewConnectionBatchesAsync(CancellationToken cancel)
    {
        if (EventSource == ConntrackEventSource.Netlink && _netlinkProblem is null)
        {
            var socket = ConntrackNetlinkSocket.Open(netns, out var why);
            if (socket is not null)
            {
                if (!_netlinkTold)
                    EventLog?.Invoke($"conntrack events read from netlink in {netns ?? "the agent's namespace"} (receive buffer {socket.ReceiveBuffer / (1024.0 * 1024):0.#} MiB)");
                _netlinkTold = true;
                _netlink = socket;
                return WatchNetlinkAsync(socket, cancel);
            }
            _netlinkProblem = why;
            EventLog?.Invoke($"conntrack events: the netlink socket cannot be opened ({why}); reading conntrack -E instead");
        }
        _netlink = null;
        return WatchCommandAsync(cancel);
    }

    private async IAsyncEnumerable<IReadOnlyList<TrackedConnection>> WatchNetlinkAsync(ConntrackNetlinkSocket socket, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        var batches = Channel.CreateBounded<TrackedConnection[]>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        socket.Start(batches.Writer, EventCoalescing, stop.Token);
        var told = (Lost: 0L, At: DateTime.MinValue);
        void SayLosses()
        {
            var lost = Interlocked.Read(ref socket.Counts.Lost) + Interlocked.Read(ref socket.Counts.Overruns);
            if (lost > told.Lost && DateTime.UtcNow - told.At > LossLogInterval)
            {
                told = (lost, DateTime.UtcNow);
                EventLog?.Invoke($"conntrack events: the kernel overran the netlink buffer; so far {socket.Counts.Snapshot()}");
            }
        }
        try
        {
            await foreach (var batch in DrainAsync(batches.Reader, SayLosses, cancel))
                yield return batch;
            if (cancel.IsCancellationRequested)
                yield break;
            // Completed with an error: the socket failed.
            await batches.Reader.Completion;
            throw new NetfilterException("conntrack's netlink events ended");
        }
        finally
        {
            // The reading thread ends within its wait (stop), or at once when blocked on the full channel (completed).
            await stop.CancelAsync();
            batches.Writer.TryComplete();
            socket.Dispose();
        }
    }

    /// <summary>
    /// <c>conntrack -E -e NEW</c> in the agent's namespace, read while it runs (a child of ours, killed
    /// by its PID on cancel) by <see cref="ConntrackEventReader"/> on its own thread, in blocks: each
    /// block's connections are one batch. A bigger netlink buffer than the default rides out bursts;
    /// when the kernel overruns it anyway conntrack says so and goes on (those events are lost, as
    /// sampling allows).
    /// </summary>
    private async IAsyncEnumerable<IReadOnlyList<TrackedConnection>> WatchCommandAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        var start = new ProcessStartInfo
        {
            FileName = netns is null ? "conntrack" : "ip",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (netns is null ? [] : new[] { "netns", "exec", netns, "conntrack" }).Concat(["-E", "-e", "NEW", "-b", "8388608"]))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new NetfilterException("could not start conntrack -E");
        // Its complaints (an overrun buffer) are read so that the pipe never fills; they are not events.
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        // A few batches in flight: while the sampler is behind, the reader waits and the kernel's buffer holds the burst.
        var batches = Channel.CreateBounded<TrackedConnection[]>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        ConntrackEventReader.WidenPipe(process.StandardOutput.BaseStream);
        ConntrackEventReader.Start(process.StandardOutput.BaseStream, batches.Writer, EventCoalescing);
        try
        {
            await foreach (var batch in DrainAsync(batches.Reader, null, cancel))
                yield return batch;
            if (cancel.IsCancellationRequested)
                yield break;
            await process.WaitForExitAsync(CancellationToken.None);
            throw new NetfilterException($"conntrack -E ended (exit {process.ExitCode}): {FirstLines(await errors)}");
        }
        finally
        {
            // The reading thread ends with the output (the process killed) or, blocked on a full channel, when it is completed.
            batches.Writer.TryComplete();
            try
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>The reader's batches as they come, until its writer completes (an error of the writer is thrown); ends quietly when cancelled.</summary>
    private static async IAsyncEnumerable<TrackedConnection[]> DrainAsync(ChannelReader<TrackedConnection[]> batches, Action? afterEachRound, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        while (true)
        {
            try
            {
                if (!await batches.WaitToReadAsync(cancel))
                    yield break;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            while (batches.TryRead(out var batch))
                yield return batch;
            afterEachRound?.Invoke();
        }
    }

    public async IAsyncEnumerable<TrackedConnection> WatchNewConnectionsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        await foreach (var batch in WatchNewConnectionBatchesAsync(cancel).WithCancellation(cancel))
        {
            foreach (var connection in batch)
                yield return connection;
        }
    }

    public async Task DeleteConnectionAsync(TrackedConnection tracked, CancellationToken cancel)
    {
        var connection = tracked.Flow;
        List<string> args = ["-D", "-p", ConntrackLine.ProtocolName(connection.Protocol), "-s", connection.Source.ToString(), "-d", connection.Destination.ToString()];
        if (connection.Protocol.HasPorts())
            args.AddRange(["--sport", connection.SourcePort.ToString(CultureInfo.InvariantCulture), "--dport", connection.DestinationPort.ToString(CultureInfo.InvariantCulture)]);
        // The zone: another network's connection with the same addresses is not this one.
        args.AddRange(["-w", tracked.Zone.ToString(CultureInfo.InvariantCulture)]);
        var (code, _, error) = await RunAsync("conntrack", [.. args], null, cancel);
        // Exit 1 with "0 flow entries": it ended by itself meanwhile.
        if (code != 0 && !error.Contains("0 flow entries", StringComparison.Ordinal))
            throw new NetfilterException($"conntrack -D failed (exit {code}): {FirstLines(error)}");
    }

    public async Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel)
    {
        var problems = new List<string>();
        foreach (var key in new[] { "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables" })
        {
            var (code, output, error) = await RunAsync("sysctl", ["-n", key], null, cancel);
            if (code != 0)
                problems.Add($"{key} cannot be read (is br_netfilter loaded?): {FirstLines(error)}");
            else if (output.Trim() != "1")
                problems.Add($"{key} is {output.Trim()}, not 1: bridged traffic does not reach the inet hooks, so no NIC's groups can be enforced (its IP traffic is dropped instead)");
        }
        return problems;
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(string tool, string[] args, string? input, CancellationToken cancel)
    {
        // Transactions (-f -, and -c -f - as a dry run) go through the library. What reads the kernel's
        // live values (reset counters) or checks it for drift runs as a command: a held context
        // answers from its cache while the ruleset's generation stands, and counters move without it.
        if (tool == "nft" && input is not null && Library() is { } library)
            return await library.RunAsync(input, json: false, dryRun: args.Contains("-c"), Timeout, cancel);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(Timeout);
        try
        {
            return await RunOnceAsync(tool, args, input, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new NetfilterException($"{tool} {string.Join(' ', args)} did not finish within {Timeout.TotalSeconds:F0} s and was killed");
        }
    }

    private async Task<(int Code, string Output, string Error)> RunOnceAsync(string tool, string[] args, string? input, CancellationToken cancel)
    {
        var start = new ProcessStartInfo
        {
            FileName = netns is null ? tool : "ip",
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (netns is not null)
        {
            foreach (var a in new[] { "netns", "exec", netns, tool })
                start.ArgumentList.Add(a);
        }
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new NetfilterException($"could not start {tool}");
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(cancel);
            var error = process.StandardError.ReadToEndAsync(cancel);
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), cancel);
                process.StandardInput.Close();
            }
            await process.WaitForExitAsync(cancel);
            return (process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException)
        {
            // Our own child, ended by its PID (and its children: ip netns exec runs the tool under it).
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            throw;
        }
    }

    private static string FirstLines(string text) => string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(4));
}

/// <summary>Where the agent reads conntrack's new-connection events from.</summary>
public enum ConntrackEventSource
{
    /// <summary>A netlink socket of its own subscribed to conntrack's group; <c>conntrack -E</c> when it cannot be opened.</summary>
    Netlink,

    /// <summary><c>conntrack -E -e NEW</c>, a child process whose text is parsed.</summary>
    Command,
}

/// <summary>One line of <c>conntrack -L</c>, read as the connection's first packet.</summary>
public static class ConntrackLine
{
    /// <summary>The connection and its zone (<c>zone=N</c>, 0 when absent).</summary>
    public static TrackedConnection? ParseTracked(string line)
    {
        if (Parse(line) is not { } flow)
            return null;
        var zone = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(f => f.StartsWith("zone=", StringComparison.Ordinal)) is { } z
            && int.TryParse(z.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new TrackedConnection(flow, zone);
    }

    /// <summary>One line of <c>conntrack -E</c> (<c>[NEW] tcp 6 120 SYN_SENT src=… zone=N</c>): the event's connection, or null for anything else.</summary>
    public static TrackedConnection? ParseEvent(string line)
    {
        var text = line.AsSpan().TrimStart();
        if (!text.StartsWith("[NEW]", StringComparison.Ordinal))
            return null;
        return ParseTracked(text[5..].ToString());
    }

    public static Flow? Parse(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3)
            return null;
        IpProtocol? protocol = fields[0] switch
        {
            "tcp" => IpProtocol.Tcp,
            "udp" => IpProtocol.Udp,
            "icmp" => IpProtocol.Icmp,
            "icmpv6" => IpProtocol.IcmpV6,
            "gre" => IpProtocol.Gre,
            _ => null,
        };
        if (protocol is null)
            return null;
        string? First(string key) => fields.FirstOrDefault(f => f.StartsWith(key, StringComparison.Ordinal))?[key.Length..];
        if (!IpAddress.TryParse(First("src="), out var source) || !IpAddress.TryParse(First("dst="), out var destination))
            return null;
        int Port(string key) => int.TryParse(First(key), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
        return new Flow(source, destination, protocol.Value, Port("dport="), Port("sport="));
    }

    public static string ProtocolName(IpProtocol protocol) => protocol switch
    {
        IpProtocol.Tcp => "tcp",
        IpProtocol.Udp => "udp",
        IpProtocol.Icmp => "icmp",
        IpProtocol.IcmpV6 => "icmpv6",
        IpProtocol.Gre => "gre",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, null),
    };
}
