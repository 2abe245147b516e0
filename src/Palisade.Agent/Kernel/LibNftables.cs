using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Palisade.Agent.Kernel;

/// <summary>
/// libnftables (<c>libnftables.so.1</c>, what the <c>nft</c> command itself is built on) in the agent's
/// process: one context, held for the agent's life, on one thread of its own that has entered the
/// agent's network namespace (<c>setns</c>) and never leaves it. A transaction costs what the kernel
/// and nft's cache of our tables cost, not a process start under <c>ip netns exec</c> and a fresh
/// cache each time: under load a 200-element prefix-list update took 110–300 ms through the
/// command and ~55 ms here (docs/benchmarks.md). The context's netlink socket is opened inside the
/// agent's namespace (<see cref="NewContextIn"/>), so every transaction goes there and nothing can
/// reach the root namespace's ruleset. The context is not thread-safe: every call runs on the one
/// thread of its own.
/// </summary>
internal sealed class LibNftables : IDisposable
{
    private const string Library = "libnftables.so.1";
    private const uint OutputJson = 1 << 4;
    private const int CloneNewNet = 0x40000000;

    private readonly BlockingCollection<Call> _calls = [];
    private readonly Thread _thread;

    private sealed record Call(string Command, bool Json, bool DryRun, TaskCompletionSource<(int Code, string Output, string Error)> Done);

    private LibNftables(string? netns, TaskCompletionSource<string?> opened)
    {
        _thread = new Thread(() => Serve(netns, opened)) { IsBackground = true, Name = "libnftables" + (netns is null ? "" : " for " + netns) };
        _thread.Start();
    }

    /// <summary>The library on its own thread, its socket in <paramref name="netns"/> (the process's own namespace when null), or null and why not.</summary>
    public static LibNftables? Open(string? netns, out string? why)
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Library, out _))
        {
            why = $"{Library} is not installed";
            return null;
        }
        var opened = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var library = new LibNftables(netns, opened);
        why = opened.Task.GetAwaiter().GetResult();
        if (why is null)
            return library;
        library.Dispose();
        return null;
    }

    /// <summary>Whether a call outlived its deadline: the thread may be stuck in the kernel, so nothing more is sent to it.</summary>
    public bool Stuck { get; private set; }

    /// <summary>One nft command text (a whole <c>nft -f</c> transaction, or a <c>list</c>/<c>reset</c>): its result code, output and errors as the command would print them.</summary>
    public async Task<(int Code, string Output, string Error)> RunAsync(string command, bool json, bool dryRun, TimeSpan deadline, CancellationToken cancel)
    {
        var call = new Call(command, json, dryRun, new(TaskCreationOptions.RunContinuationsAsynchronously));
        _calls.Add(call, cancel);
        try
        {
            return await call.Done.Task.WaitAsync(deadline, cancel);
        }
        catch (TimeoutException)
        {
            Stuck = true;
            throw new NetfilterException($"libnftables did not finish within {deadline.TotalSeconds:F0} s; nft runs as a command from now on");
        }
    }

    private void Serve(string? netns, TaskCompletionSource<string?> opened)
    {
        IntPtr context;
        try
        {
            context = netns is null ? nft_ctx_new(0) : NewContextIn(netns);
            if (context == IntPtr.Zero)
            {
                opened.SetResult("nft_ctx_new failed");
                return;
            }
            nft_ctx_buffer_output(context);
            nft_ctx_buffer_error(context);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            opened.SetResult($"libnftables could not be opened: {e.Message}");
            return;
        }
        opened.SetResult(null);
        try
        {
            foreach (var call in _calls.GetConsumingEnumerable())
            {
                var flags = nft_ctx_output_get_flags(context);
                nft_ctx_output_set_flags(context, call.Json ? flags | OutputJson : flags & ~OutputJson);
                nft_ctx_set_dry_run(context, call.DryRun);
                var code = nft_run_cmd_from_buffer(context, call.Command);
                // Reading a buffer also empties it for the next call.
                var output = Marshal.PtrToStringUTF8(nft_ctx_get_output_buffer(context)) ?? "";
                var error = Marshal.PtrToStringUTF8(nft_ctx_get_error_buffer(context)) ?? "";
                nft_ctx_set_dry_run(context, false);
                nft_ctx_output_set_flags(context, flags);
                call.Done.SetResult((code, output, error));
            }
        }
        finally
        {
            nft_ctx_free(context);
        }
    }

    /// <summary>
    /// A context whose netlink socket lives in <paramref name="netns"/>: this thread enters the
    /// namespace, creates the context (which opens its socket there; a socket keeps the namespace it
    /// was made in, and libnftables since 0.9.9 never reopens it) and comes straight back. Only native
    /// calls run in between (the calls are prelinked first): a thread the runtime started from here
    /// while inside would inherit the namespace, and the agent's own connections to the control
    /// plane with it.
    /// </summary>
    private static IntPtr NewContextIn(string netns)
    {
        var path = new[] { "/run/netns", "/var/run/netns" }.Select(d => Path.Combine(d, netns)).FirstOrDefault(File.Exists)
            ?? throw new IOException($"no network namespace {netns} under /run/netns");
        using var target = File.OpenHandle(path);
        using var home = File.OpenHandle("/proc/thread-self/ns/net");
        Marshal.PrelinkAll(typeof(LibNftables));
        var (targetFd, homeFd) = (target.DangerousGetHandle().ToInt32(), home.DangerousGetHandle().ToInt32());
        if (setns(targetFd, CloneNewNet) != 0)
            throw new InvalidOperationException($"setns into {netns} failed (errno {Marshal.GetLastPInvokeError()})");
        var context = nft_ctx_new(0);
        if (setns(homeFd, CloneNewNet) != 0)
            Environment.FailFast($"palisade agent: could not return from network namespace {netns} (errno {Marshal.GetLastPInvokeError()}); stopping rather than run in the wrong namespace");
        return context;
    }

    public void Dispose()
    {
        _calls.CompleteAdding();
        if (!Stuck)
            _thread.Join(TimeSpan.FromSeconds(5));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport(Library)]
    private static extern IntPtr nft_ctx_new(uint flags);

    [DllImport(Library)]
    private static extern void nft_ctx_free(IntPtr context);

    [DllImport(Library)]
    private static extern int nft_ctx_buffer_output(IntPtr context);

    [DllImport(Library)]
    private static extern int nft_ctx_buffer_error(IntPtr context);

    [DllImport(Library)]
    private static extern IntPtr nft_ctx_get_output_buffer(IntPtr context);

    [DllImport(Library)]
    private static extern IntPtr nft_ctx_get_error_buffer(IntPtr context);

    [DllImport(Library)]
    private static extern uint nft_ctx_output_get_flags(IntPtr context);

    [DllImport(Library)]
    private static extern void nft_ctx_output_set_flags(IntPtr context, uint flags);

    [DllImport(Library)]
    private static extern void nft_ctx_set_dry_run(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool dry);

    [DllImport(Library)]
    private static extern int nft_run_cmd_from_buffer(IntPtr context, [MarshalAs(UnmanagedType.LPUTF8Str)] string command);
}
