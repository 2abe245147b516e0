using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Palisade.Agent.Kernel;

/// <summary>One datagram as the kernel delivered it, before it is parsed (for captures).</summary>
public delegate void DatagramTap(ReadOnlySpan<byte> datagram);

/// <summary>
/// conntrack's new-connection events straight from the kernel (issue 20): an <c>AF_NETLINK</c> /
/// <c>NETLINK_NETFILTER</c> socket subscribed to <c>NFNLGRP_CONNTRACK_NEW</c> — what <c>conntrack -E
/// -e NEW</c> does before it formats each event as text for us to parse back; here there is no child
/// process and no text. The socket is made in the namespace of the host the agent serves by a thread
/// of its own that enters it (<c>setns</c>), makes the socket and comes straight back (a socket keeps
/// the namespace it was made in; only native calls run while inside, so nothing the runtime starts can
/// inherit it). Its receive buffer is made large (<see cref="DefaultBuffer"/>, <c>SO_RCVBUFFORCE</c>,
/// else what <c>SO_RCVBUF</c> allows) to ride out bursts; when the kernel overruns it anyway the next
/// read fails with <c>ENOBUFS</c>: that is counted with the socket's own drop count (the events lost,
/// read from the namespace's <c>/proc/net/netlink</c>) and reading goes on. Reads take many datagrams
/// per system call (<c>recvmmsg</c>), and like the text reader it waits a few milliseconds after a short
/// read so that a busy host's events arrive many to a read. Parsing is <see cref="ConntrackNetlinkMessage"/>'s.
/// </summary>
public sealed class ConntrackNetlinkSocket : IDisposable
{
    /// <summary>The receive buffer asked for: as <c>conntrack -E -b</c> had it (8 MiB; the kernel doubles it for its bookkeeping).</summary>
    public const int DefaultBuffer = 8 << 20;

    /// <summary>Datagrams taken per read, and the room for each (a conntrack event is a few hundred bytes).</summary>
    private const int Slots = 128, SlotSize = 4096;

    /// <summary>How long one read waits for an event before the reader looks whether it is to stop.</summary>
    private const int WaitMilliseconds = 200;

    private readonly Lock _closing = new();
    private int _fd;
    private int _procFd;
    private bool _reading; // once started, the reading thread owns the descriptors and closes them as it ends
    private volatile bool _disposed;

    private ConntrackNetlinkSocket(Opened opened) => (_fd, _procFd, ReceiveBuffer, PortId) = (opened.Fd, opened.ProcFd, opened.Granted, opened.PortId);

    /// <summary>The receive buffer the kernel granted (bytes, as <c>SO_RCVBUF</c> reads it back).</summary>
    public int ReceiveBuffer { get; }

    /// <summary>The socket's netlink port id in its namespace (its row in <c>/proc/net/netlink</c>).</summary>
    public uint PortId { get; }

    /// <summary>What the reader has seen; read it with <see cref="ConntrackEventCounts.Snapshot"/>.</summary>
    public ConntrackEventCounts Counts { get; } = new();

    /// <summary>Called with every datagram read, before it is parsed (tests capture real messages with it).</summary>
    public DatagramTap? Tap { get; init; }

    /// <summary>
    /// The socket in <paramref name="netns"/> (the process's own namespace when null), subscribed and
    /// with its buffer, or null and why not (no such namespace, no permission, no
    /// <c>nf_conntrack_netlink</c>, not Linux).
    /// </summary>
    public static ConntrackNetlinkSocket? Open(string? netns, out string? why, int buffer = DefaultBuffer, DatagramTap? tap = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            why = "netlink sockets are Linux's";
            return null;
        }
        string? path = null;
        if (netns is not null)
        {
            path = new[] { "/run/netns", "/var/run/netns" }.Select(d => Path.Combine(d, netns)).FirstOrDefault(File.Exists);
            if (path is null)
            {
                why = $"no network namespace {netns} under /run/netns";
                return null;
            }
        }
        Opened? opened = null;
        // A thread of its own, ended as soon as the socket is made: whatever happens inside, no thread the agent goes on using ever was in the namespace.
        var thread = new Thread(() => opened = OpenHere(path, buffer)) { IsBackground = true, Name = "conntrack-netlink-open" };
        thread.Start();
        thread.Join();
        if (opened is not { Problem: null } o)
        {
            why = opened?.Problem ?? "the opening thread failed";
            return null;
        }
        why = null;
        return new ConntrackNetlinkSocket(o) { Tap = tap };
    }

    private sealed record Opened(int Fd, int ProcFd, int Granted, uint PortId, string? Problem);

    private static Opened OpenHere(string? netnsPath, int buffer)
    {
        Marshal.PrelinkAll(typeof(ConntrackNetlinkSocket));
        SafeFileHandle? target = null, home = null;
        try
        {
            if (netnsPath is not null)
            {
                target = File.OpenHandle(netnsPath);
                home = File.OpenHandle("/proc/thread-self/ns/net");
            }
            var address = new byte[12]; // sockaddr_nl: family, pad, pid 0 (the kernel assigns one), groups
            BitConverter.TryWriteBytes(address.AsSpan(0, 2), (ushort)AfNetlink);
            BitConverter.TryWriteBytes(address.AsSpan(8, 4), 1u << (NfnlgrpConntrackNew - 1));
            var procPath = "/proc/thread-self/net/netlink"u8.ToArray().Append((byte)0).ToArray();
            var timeout = new long[] { 0, WaitMilliseconds * 1000 }; // struct timeval
            var one = buffer;
            // Inside the namespace: native calls only, each result kept for after the way back.
            if (target is not null && setns(target.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                return new(-1, -1, 0, 0, $"setns into {netnsPath} failed (errno {Marshal.GetLastPInvokeError()})");
            var fd = socket(AfNetlink, SockRaw | SockCloexec, NetlinkNetfilter);
            var socketErrno = Marshal.GetLastPInvokeError();
            var forced = fd >= 0 && setsockopt(fd, SolSocket, SoRcvbufforce, ref one, sizeof(int)) == 0;
            if (fd >= 0 && !forced)
                setsockopt(fd, SolSocket, SoRcvbuf, ref one, sizeof(int));
            var bound = fd >= 0 ? bind(fd, address, (uint)address.Length) : -1;
            var bindErrno = Marshal.GetLastPInvokeError();
            var procFd = fd >= 0 ? open(procPath, ORdonly | OCloexec) : -1;
            if (target is not null && setns(home!.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                Environment.FailFast($"palisade agent: could not return from network namespace {netnsPath} (errno {Marshal.GetLastPInvokeError()}); stopping rather than run in the wrong namespace");
            if (fd < 0)
                return new(-1, -1, 0, 0, $"socket(AF_NETLINK, NETLINK_NETFILTER) failed (errno {socketErrno})");
            if (bound != 0)
            {
                close(fd);
                if (procFd >= 0)
                    close(procFd);
                return new(-1, -1, 0, 0, $"subscribing to conntrack's new-connection events failed (errno {bindErrno}{(bindErrno == 1 ? ": not permitted, CAP_NET_ADMIN needed" : bindErrno == 2 ? ": nf_conntrack_netlink missing" : "")})");
            }
            setsockopt(fd, SolSocket, SoRcvtimeo, timeout, sizeof(long) * 2);
            var granted = 0;
            var size = (uint)sizeof(int);
            getsockopt(fd, SolSocket, SoRcvbuf, ref granted, ref size);
            var name = new byte[12];
            var nameLength = (uint)name.Length;
            getsockname(fd, name, ref nameLength);
            return new(fd, procFd, granted, BitConverter.ToUInt32(name, 4), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            return new(-1, -1, 0, 0, $"the netlink socket could not be opened: {e.Message}");
        }
        finally
        {
            target?.Dispose();
            home?.Dispose();
        }
    }

    /// <summary>
    /// Starts the reading thread: each read's new connections go to <paramref name="batches"/> as one
    /// batch (waiting while it is full: the socket's buffer then holds the burst, and what overflows it
    /// is counted as lost). It ends when <paramref name="stop"/> is cancelled or the writer is completed
    /// by the reading side, completing the writer (with the error when the socket fails).
    /// </summary>
    public Thread Start(ChannelWriter<TrackedConnection[]> batches, TimeSpan coalescing, CancellationToken stop)
    {
        lock (_closing)
        {
            ObjectDisposedException.ThrowIf(_disposed || _reading, this);
            _reading = true;
        }
        var thread = new Thread(() => Run(batches, coalescing, stop)) { IsBackground = true, Name = "conntrack-netlink" };
        thread.Start();
        return thread;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public IntPtr Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public IntPtr Name;
        public uint NameLength;
        public IntPtr Vectors;
        public nuint VectorCount;
        public IntPtr Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MultiMessageHeader
    {
        public MessageHeader Header;
        public uint Length;
    }

    private void Run(ChannelWriter<TrackedConnection[]> batches, TimeSpan coalescing, CancellationToken stop)
    {
        var data = GC.AllocateArray<byte>(Slots * SlotSize, pinned: true);
        var vectors = GC.AllocateArray<IoVector>(Slots, pinned: true);
        var headers = GC.AllocateArray<MultiMessageHeader>(Slots, pinned: true);
        var dataAddress = Marshal.UnsafeAddrOfPinnedArrayElement(data, 0);
        for (var i = 0; i < Slots; i++)
        {
            vectors[i] = new IoVector { Base = dataAddress + i * SlotSize, Length = SlotSize };
            headers[i].Header.Vectors = Marshal.UnsafeAddrOfPinnedArrayElement(vectors, i);
            headers[i].Header.VectorCount = 1;
        }
        var headersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(headers, 0);
        var batch = new List<TrackedConnection>(Slots);
        try
        {
            while (!stop.IsCancellationRequested && !_disposed)
            {
                var n = recvmmsg(_fd, headersAddress, Slots, MsgWaitforone, IntPtr.Zero);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is EIntr or EAgain)
                        continue;
                    if (errno == ENoBufs)
                    {
                        // The kernel overran the buffer: those events are gone, the socket goes on.
                        Counts.Overruns++;
                        ReadLost();
                        continue;
                    }
                    batches.TryComplete(new NetfilterException($"reading conntrack's netlink events failed (errno {errno})"));
                    return;
                }
                for (var i = 0; i < n; i++)
                {
                    var datagram = data.AsSpan(i * SlotSize, (int)Math.Min(headers[i].Length, SlotSize));
                    Tap?.Invoke(datagram);
                    if ((headers[i].Header.Flags & MsgTrunc) != 0)
                        Counts.Malformed++; // longer than a slot: no conntrack event is
                    else
                        ConntrackNetlinkMessage.ParseDatagram(datagram, batch, Counts);
                }
                if (!ConntrackEventReader.Send(batches, batch))
                    return;
                if (n < Slots / 4 && coalescing > TimeSpan.Zero)
                    Thread.Sleep(coalescing);
            }
            batches.TryComplete();
        }
        finally
        {
            ReadLost();
            Close();
        }
    }

    /// <summary>The socket's drop count from its namespace's <c>/proc/net/netlink</c> (opened inside it): the events lost to overruns so far.</summary>
    private void ReadLost()
    {
        lock (_closing)
        {
            if (_procFd < 0 || lseek(_procFd, 0, 0) != 0)
                return;
            var text = new MemoryStream();
            var chunk = new byte[16384];
            nint read;
            while ((read = Read(_procFd, chunk, chunk.Length)) > 0)
                text.Write(chunk, 0, (int)read);
            if (DropsOf(Encoding.ASCII.GetString(text.GetBuffer(), 0, (int)text.Length), PortId) is { } drops)
                Counts.Lost = drops;
        }
    }

    /// <summary>
    /// The <c>Drops</c> column of the NETLINK_NETFILTER socket with port id <paramref name="portId"/> in
    /// <c>/proc/net/netlink</c>'s text (columns <c>sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode</c>).
    /// </summary>
    public static long? DropsOf(string table, uint portId)
    {
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
            return null;
        var header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int Column(string name) => Array.IndexOf(header, name);
        var (protocol, pid, drops) = (Column("Eth"), Column("Pid"), Column("Drops"));
        if (protocol < 0 || pid < 0 || drops < 0)
            return null;
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > Math.Max(drops, Math.Max(protocol, pid)) && fields[protocol] == "12"
                && uint.TryParse(fields[pid], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p == portId
                && long.TryParse(fields[drops], NumberStyles.None, CultureInfo.InvariantCulture, out var d))
                return d;
        }
        return null;
    }

    /// <summary>Closes the socket, or, while the reading thread runs, has it close it when it next wakes (at most <see cref="WaitMilliseconds"/>): closing a descriptor another thread is reading could hand its number to a file opened meanwhile.</summary>
    public void Dispose()
    {
        _disposed = true;
        lock (_closing)
        {
            if (!_reading)
                Close();
        }
    }

    private void Close()
    {
        lock (_closing)
        {
            var (fd, procFd) = (_fd, _procFd);
            (_fd, _procFd) = (-1, -1);
            if (fd >= 0)
                close(fd);
            if (procFd >= 0)
                close(procFd);
        }
    }

    private const int AfNetlink = 16, SockRaw = 3, SockCloexec = 0x80000, NetlinkNetfilter = 12, NfnlgrpConntrackNew = 1;
    private const int SolSocket = 1, SoRcvbuf = 8, SoRcvtimeo = 20, SoRcvbufforce = 33;
    private const int MsgTrunc = 0x20, MsgWaitforone = 0x10000;
    private const int EIntr = 4, EAgain = 11, ENoBufs = 105;
    private const int ORdonly = 0, OCloexec = 0x80000, CloneNewNet = 0x40000000;

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport("libc", SetLastError = true)]
    private static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(int fd, int level, int name, ref int value, uint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(int fd, int level, int name, long[] value, uint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int getsockopt(int fd, int level, int name, ref int value, ref uint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int bind(int fd, byte[] address, uint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int getsockname(int fd, byte[] address, ref uint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int recvmmsg(int fd, IntPtr messages, uint count, int flags, IntPtr timeout);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern long lseek(int fd, long offset, int whence);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern nint Read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
