using System.Reflection;
using Palisade.TestKit;

namespace Palisade.Architecture.Tests;

/// <summary>
/// ARCHITECTURE.md: the CLI may use Server only to host it. Server's types are internal except this
/// list, read off the built assembly; a type made public, or a CLI that reaches past the list,
/// fails here or at compile time.
/// </summary>
public sealed class ServerSurfaceTests
{
    /// <summary>
    /// The hosting entry point, and (for now) one side door the CLI still uses on a local data
    /// directory: the state export of <c>palisade export --data</c>. Accounts and keys are managed
    /// through <c>Palisade.Storage.Accounts</c>, which the server and the CLI share.
    /// </summary>
    private static readonly string[] Public =
    [
        "Palisade.Server.Hosting.PalisadeServer", "Palisade.Server.Hosting.ServeSettings", "Palisade.Server.Hosting.ServerOptions",
        "Palisade.Server.Hosting.Throttling", "Palisade.Server.Hosting.RuleUsageOptions", "Palisade.Server.Hosting.ObservedFlowOptions", "Palisade.Server.Hosting.ConnectionLimits", "Palisade.Server.Hosting.LogFormat",
        "Palisade.Server.Hosting.TlsSettings", "Palisade.Server.Hosting.TlsSettings+PemFiles", "Palisade.Server.Hosting.TlsSettings+SelfSigned",
        "Palisade.Server.Hosting.ServerCertificate", "Palisade.Server.Hosting.TlsConfigurationException",
        "Palisade.Storage.Accounts.AccountService", "Palisade.Storage.Accounts.AccountService+NewKey", "Palisade.Storage.Accounts.SecretProtector",
        "Palisade.Server.Accounts.Bootstrap", "Palisade.Server.Actions.Insight.StateExport",
    ];

    private static Assembly ServerAssembly()
    {
        var root = Golden.RepositoryRoot();
        var path = Directory.GetFiles(Path.Combine(root, "src", "Palisade.Server", "bin"), "Palisade.Server.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).First();
        return Assembly.LoadFrom(path);
    }

    [Fact]
    public void OnlyTheHostingEntryPoint_IsPublic()
    {
        var exported = ServerAssembly().GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
        var extra = exported.Except(Public).ToList();
        Assert.True(extra.Count == 0, $"Server exposes types the CLI must not use; make them internal (tests see internals): {string.Join(", ", extra)}");
    }

    [Fact]
    public void TheCli_UsesServerOnlyThroughTheList()
    {
        var root = Golden.RepositoryRoot();
        var allowedNamespaces = Public.Select(p => p[..p.LastIndexOf('.')]).ToHashSet(StringComparer.Ordinal);
        var offenders = Directory.GetFiles(Path.Combine(root, "src", "Palisade.Cli"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Where(l => l.StartsWith("using Palisade.Server", StringComparison.Ordinal)).Select(l => (File: Path.GetFileName(f), Namespace: l[6..].TrimEnd(';'))))
            .Where(u => !allowedNamespaces.Contains(u.Namespace))
            .ToList();
        Assert.True(offenders.Count == 0, $"the CLI uses Server beyond its hosting entry point: {string.Join(", ", offenders)}");
    }
}
