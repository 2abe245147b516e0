using System.Diagnostics;

namespace Palisade.TestKit.Processes;

/// <summary>
/// A throwaway network the test owns: a host namespace with a bridge, and instance namespaces each
/// on a veth pair whose ends are created directly inside the namespaces (the root namespace never
/// holds a test address, so no probe can leave the machine). Addresses are in 198.18.0.0/15.
/// Disposing ends the processes it started (by PID) and deletes the namespaces, also after a failure.
/// </summary>
public sealed class TestTopology : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<Process> _processes = [];
    // The creating process's ID is in every name, so that a later run can remove what a killed run left.
    private readonly string _prefix = $"pz{Environment.ProcessId}x{Guid.NewGuid().ToString("N")[..4]}";

    public TestTopology()
    {
        RemoveLeftovers();
        HostNamespace = _prefix + "-host";
        try
        {
            AddNamespace(HostNamespace);
            Ip("-n", HostNamespace, "link", "add", "br0", "type", "bridge");
            Ip("-n", HostNamespace, "link", "set", "br0", "up");
            // Bridged IPv4 reaches the inet hooks (and conntrack) only through br_netfilter; set in our namespace only.
            Run("ip", "netns", "exec", HostNamespace, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1");
            Run("ip", "netns", "exec", HostNamespace, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-ip6tables=1");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string HostNamespace { get; }

    /// <summary>Whether this machine can run the test: root, ip, nft, python3.</summary>
    public static string? Missing()
    {
        if (!OperatingSystem.IsLinux())
            return "not Linux";
        if (Environment.UserName != "root")
            return "not root";
        foreach (var tool in new[] { "ip", "nft", "python3", "conntrack" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, tool))))
                return $"{tool} is not installed";
        }
        return null;
    }

    public string NamespaceOf(string instance) => $"{_prefix}-{instance}";

    /// <summary>
    /// An instance namespace with <c>eth0</c> at <paramref name="address"/>/24 (with the NIC's MAC when
    /// given: the agent pins it to the port), its peer <c>vh-NAME</c> on the bridge.
    /// </summary>
    public string AddInstance(string name, string address, string? mac = null)
    {
        var ns = NamespaceOf(name);
        AddNamespace(ns);
        var hostSide = HostInterfaceOf(name);
        Ip("link", "add", hostSide, "netns", HostNamespace, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Ip("-n", HostNamespace, "link", "set", hostSide, "master", "br0");
        Ip("-n", HostNamespace, "link", "set", hostSide, "up");
        if (mac is not null)
            Ip("-n", ns, "link", "set", "eth0", "address", mac);
        Ip("-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        Ip("-n", ns, "link", "set", "eth0", "up");
        return ns;
    }

    public static string HostInterfaceOf(string name) => "vh-" + name;

    /// <summary>
    /// A second NIC of instance <paramref name="instance"/> (a secondary ENI): <paramref name="device"/>
    /// inside its namespace at <paramref name="address"/> in <paramref name="subnet"/>, with the ENI's
    /// MAC, its peer <paramref name="hostSide"/> on the bridge. Configured as a guest with two ENIs on
    /// one subnet must be: each NIC answers ARP for its own address only (arp_ignore=1,
    /// arp_announce=2), and what leaves from the ENI's address leaves by the ENI (a source rule and
    /// its own routing table), or the port's anti-spoofing would rightly drop it.
    /// </summary>
    public void AddInterface(string instance, string device, string hostSide, string address, string subnet, string mac, int table)
    {
        var ns = NamespaceOf(instance);
        Ip("link", "add", hostSide, "netns", HostNamespace, "type", "veth", "peer", "name", device, "netns", ns);
        Ip("-n", HostNamespace, "link", "set", hostSide, "master", "br0");
        Ip("-n", HostNamespace, "link", "set", hostSide, "up");
        Ip("-n", ns, "link", "set", device, "address", mac);
        Run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1");
        Run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_announce=2");
        Ip("-n", ns, "addr", "add", address + "/" + subnet.Split('/')[1], "dev", device);
        Ip("-n", ns, "link", "set", device, "up");
        var number = table.ToString(global::System.Globalization.CultureInfo.InvariantCulture);
        Ip("-n", ns, "route", "add", subnet, "dev", device, "src", address, "table", number);
        Ip("-n", ns, "rule", "add", "from", address, "table", number);
    }

    /// <summary>A process inside a namespace of ours; ended by its PID when the topology is disposed.</summary>
    public Process Start(string ns, string file, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns, file }.Concat(args))
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        _processes.Add(process);
        return process;
    }

    /// <summary>Listens on TCP and UDP ports of <paramref name="address"/> inside <paramref name="ns"/>.</summary>
    /// <summary>How long a helper may take to start: Python under a loaded machine (load 30 on 2 cores) needs well over 10 s.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>What a helper that did not start said: killed first, so that reading its stderr to the end cannot hang on a live process.</summary>
    private static string Failed(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        process.WaitForExit(5_000);
        var error = process.StandardError.ReadToEndAsync();
        return error.Wait(TimeSpan.FromSeconds(5)) ? error.Result : "(stderr unreadable)";
    }

    public void Listen(string ns, string address, int[] tcp, int[] udp)
    {
        var process = Start(ns, "python3", Script("listen.py"), address, string.Join(",", tcp), string.Join(",", udp));
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(StartTimeout) || ready.Result != "listening")
            throw new InvalidOperationException($"listener in {ns} did not start: {Failed(process)}");
    }

    /// <summary>A TCP connection held open from <paramref name="ns"/>; its process prints "cut" when the connection stops working.</summary>
    public Process Hold(string ns, string address, int port)
    {
        var process = Start(ns, "python3", Script("hold.py"), address, port.ToString(global::System.Globalization.CultureInfo.InvariantCulture));
        var first = process.StandardOutput.ReadLineAsync();
        if (!first.Wait(StartTimeout) || first.Result != "connected")
            throw new InvalidOperationException($"could not hold a connection from {ns} to {address}:{port}: {(first.IsCompleted ? first.Result : "(no answer)")} {Failed(process)}");
        return process;
    }

    /// <summary>Runs probes (<c>tcp:ADDR:PORT</c>, <c>udp:ADDR:PORT</c>, <c>icmp:ADDR:0</c>) from inside <paramref name="ns"/>; true = open.</summary>
    public IReadOnlyDictionary<string, bool> Probe(string ns, IEnumerable<string> probes, double timeoutSeconds = 1.0)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns, "python3", Script("probe.py") }.Concat(probes))
            info.ArgumentList.Add(a);
        info.Environment["PROBE_TIMEOUT"] = timeoutSeconds.ToString(global::System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"probe in {ns} failed: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => p[1] == "open", StringComparer.Ordinal);
    }

    public bool ProbeOne(string ns, string probe, double timeoutSeconds = 1.0) => Probe(ns, [probe], timeoutSeconds)[probe];

    /// <summary>Runs a command in the host namespace (nft, conntrack), returning its output.</summary>
    public string InHost(params string[] args) => Run(["ip", "netns", "exec", HostNamespace, .. args]);

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5_000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        _processes.Clear();
        // Instance namespaces first; deleting the host namespace last takes the bridge and veth ends with it.
        foreach (var ns in Enumerable.Reverse(_namespaces))
            TryRun("ip", "netns", "del", ns);
        _namespaces.Clear();
    }

    /// <summary>Namespaces of earlier runs whose process is gone (a test killed by a timeout cannot clean up).</summary>
    private static void RemoveLeftovers()
    {
        var (code, output, _) = TryRun("ip", "netns", "list");
        if (code != 0)
            return;
        foreach (var name in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]))
        {
            var match = global::System.Text.RegularExpressions.Regex.Match(name, "^pz([0-9]+)x[0-9a-f]{4}-");
            if (match.Success && !Directory.Exists($"/proc/{match.Groups[1].Value}"))
                TryRun("ip", "netns", "del", name);
        }
    }

    private void AddNamespace(string ns)
    {
        Ip("netns", "add", ns);
        _namespaces.Add(ns);
        Ip("-n", ns, "link", "set", "lo", "up");
    }

    public static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Processes", name);

    private static void Ip(params string[] args) => Run(["ip", .. args]);

    public static string Run(params string[] command)
    {
        var (code, output, error) = TryRun(command);
        return code == 0 ? output : throw new InvalidOperationException($"{string.Join(' ', command)} failed ({code}): {error}");
    }

    private static (int Code, string Output, string Error) TryRun(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1))
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }
}
