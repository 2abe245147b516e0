using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Palisade.TestKit;

namespace Palisade.Architecture.Tests;

/// <summary>
/// docs/architecture.md: the CLI may use Server only to host it. Server's types are internal except
/// its hosting entry point, read off the built assembly; and the CLI's compiled code refers to no
/// Server type outside that list (its metadata's type references, so a fully qualified name or a
/// <c>global using</c> cannot slip past as it could past a read of <c>using</c> lines).
/// </summary>
public sealed class ServerSurfaceTests
{
    /// <summary>
    /// <c>palisade serve</c> builds and runs the server with these; nothing else is public. State
    /// files (<c>Palisade.Domain.State</c>), the stored state (<c>Palisade.Storage.State</c>) and
    /// accounts (<c>Palisade.Storage.Accounts</c>) are shared below Server.
    /// </summary>
    private static readonly string[] Hosting =
    [
        "Palisade.Server.Hosting.PalisadeServer", "Palisade.Server.Hosting.ServeSettings", "Palisade.Server.Hosting.ServerOptions",
        "Palisade.Server.Hosting.Throttling", "Palisade.Server.Hosting.RuleUsageOptions", "Palisade.Server.Hosting.ObservedFlowOptions", "Palisade.Server.Hosting.ConnectionLimits", "Palisade.Server.Hosting.LogFormat",
        "Palisade.Server.Hosting.TlsSettings", "Palisade.Server.Hosting.TlsSettings+PemFiles", "Palisade.Server.Hosting.TlsSettings+SelfSigned",
        "Palisade.Server.Hosting.ServerCertificate", "Palisade.Server.Hosting.TlsConfigurationException",
    ];

    /// <summary>The newest build of a project (the CLI's assembly is named <c>palisade</c>).</summary>
    private static string Built(string project, string? assembly = null)
    {
        var root = Golden.RepositoryRoot();
        return Directory.GetFiles(Path.Combine(root, "src", project, "bin"), $"{assembly ?? project}.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).First();
    }

    [Fact]
    public void OnlyTheHostingEntryPoint_IsPublic()
    {
        var exported = Assembly.LoadFrom(Built("Palisade.Server")).GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
        var extra = exported.Except(Hosting).ToList();
        Assert.True(extra.Count == 0, $"Server exposes types the CLI must not use; make them internal (tests see internals): {string.Join(", ", extra)}");
        Assert.Contains("Palisade.Server.Hosting.PalisadeServer", exported);
    }

    [Fact]
    public void TheCli_UsesServerOnlyForHosting()
    {
        var used = ServerTypesUsedBy(Built("Palisade.Cli", "palisade"));
        // A guard against passing on a CLI that no longer hosts the server at all (or a broken read).
        Assert.Contains("Palisade.Server.Hosting.PalisadeServer", used);
        var beyond = used.Except(Hosting).ToList();
        Assert.True(beyond.Count == 0, $"the CLI uses Server beyond its hosting entry point: {string.Join(", ", beyond)}");
    }

    /// <summary>The full names of the types of Palisade.Server that an assembly's code refers to.</summary>
    private static HashSet<string> ServerTypesUsedBy(string assembly)
    {
        using var stream = File.OpenRead(assembly);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in md.TypeReferences)
        {
            var names = new List<string>();
            var reference = md.GetTypeReference(handle);
            // A nested type's scope is its declaring type; the outermost one's is the assembly.
            while (true)
            {
                names.Insert(0, md.GetString(reference.Name));
                if (reference.ResolutionScope.Kind != HandleKind.TypeReference)
                    break;
                reference = md.GetTypeReference((TypeReferenceHandle)reference.ResolutionScope);
            }
            if (reference.ResolutionScope.Kind != HandleKind.AssemblyReference
                || md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope).Name) != "Palisade.Server")
                continue;
            used.Add($"{md.GetString(reference.Namespace)}.{string.Join('+', names)}");
        }
        return used;
    }
}
