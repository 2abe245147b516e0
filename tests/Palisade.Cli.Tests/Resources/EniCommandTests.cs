using System.Text.Json;
using Palisade.Cli.Tests.Server;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Resources;

/// <summary>Issue 16: <c>palisade eni …</c> through a real server, as a golden transcript.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class EniCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Out(params string[] args) => _server.Run(args).Output.Trim();

    [Fact]
    public void ListShowCreateAttachDetachModifyDelete_AreGolden()
    {
        var vpc = Out("vpc", "create", "--cidr", "192.168.0.0/16", "--name", "prod");
        var vsw = Out("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "192.168.1.0/24");
        var web = Out("sg", "create", "--name", "web", "--vpc", vpc);
        var db = Out("sg", "create", "--name", "db", "--vpc", vpc);
        var instance = Out("instance", "run", "--group", web, "--vswitch", vsw, "--name", "web-1");
        var eni = Out("eni", "create", "--vswitch", vsw, "--group", db, "--name", "db-leg", "--description", "the database side", "--secondary-ips", "1");
        Out("eni", "list");
        Out("eni", "attach", eni, "--instance", instance);
        Out("eni", "list", "--instance", instance);
        Out("eni", "show", eni);
        Out("eni", "modify", eni, "--name", "db-leg-2", "--groups", db, "--groups", web, "--yes");
        Out("eni", "list", "--group", web);
        Out("instance", "show", instance);
        // Errors a person meets: the primary cannot be detached, an attached one not deleted.
        var primary = JsonDocument.Parse(_server.RunUnrecorded("eni", "list", "--instance", instance, "--output", "json").Output).RootElement
            .GetProperty("NetworkInterfaceSets").GetProperty("NetworkInterfaceSet").EnumerateArray().Single(e => e.GetProperty("Type").GetString() == "Primary")
            .GetProperty("NetworkInterfaceId").GetString()!;
        Out("eni", "detach", primary, "--yes");
        Out("eni", "delete", eni);
        Out("eni", "detach", eni, "--yes");
        Out("eni", "delete", eni);
        Out("eni", "show", eni);
        Out("eni", "modify", primary);
        Golden.Assert("resources/eni.txt", _server.Transcript());
    }

    [Fact]
    public void Serve_RefusesAPublicPoolThatIsNotCidrBlocks_BeforeStarting()
    {
        var outcome = CliTester.Run("serve", "--public-pool", "192.0.2.0/24,nonsense");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("--public-pool must be CIDR blocks", outcome.Output + outcome.Error, StringComparison.Ordinal);
    }
}
