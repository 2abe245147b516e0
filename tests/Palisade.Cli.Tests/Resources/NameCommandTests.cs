using Palisade.Cli.Tests.Server;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Resources;

/// <summary>
/// Issue 21 items 2, 3, 5: groups and instances named by their names everywhere a command takes
/// them, names beside IDs in every answer, <c>instance show</c> with its groups' rules pooled in the
/// engine's order, <c>sg show</c> with its members, "already there", and the messages people see.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class NameCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void ByName_WithNamesBesideIds_IsGolden()
    {
        var s = _server;
        var vpc = s.Run("vpc", "create", "--cidr", "10.0.0.0/16", "--name", "shop").Output.Trim();
        var vsw = s.Run("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "10.0.1.0/24").Output.Trim();
        s.Run("sg", "create", "--name", "web", "--vpc", vpc);
        s.Run("sg", "create", "--name", "db", "--vpc", vpc, "--description", "PostgreSQL");
        s.Run("sg", "create", "--name", "ops", "--vpc", vpc);
        s.Run("sg", "authorize", "web", "--rule", "tcp 443 0.0.0.0/0 priority 10 desc https");
        // ECS adds nothing for a rule the group has; people are told so.
        s.Run("sg", "authorize", "web", "--rule", "tcp 443 0.0.0.0/0 priority 10 desc https");
        s.Run("sg", "authorize", "web", "--rule", "tcp 443 0.0.0.0/0 priority 10 desc https", "--rule", "tcp 8000-8010 10.0.0.0/16 priority 20");
        // A group as the peer of a rule, by its name.
        s.Run("sg", "authorize", "db", "--rule", "tcp 5432 web priority 30", "--rule", "all -1 10.0.9.0/24 drop priority 40");
        s.Run("sg", "authorize", "ops", "--rule", "tcp 22 203.0.113.0/24 priority 5");
        s.Run("instance", "run", "--group", "web", "--vswitch", vsw, "--name", "web-1", "--private-ip", "10.0.1.10");
        s.Run("instance", "run", "--group", "db", "--vswitch", vsw, "--name", "db-1", "--private-ip", "10.0.1.20");
        s.Run("instance", "join", "web-1", "--group", "ops");
        s.Run("sg", "show", "db");
        s.Run("sg", "show", "web");
        s.Run("instance", "show", "web-1");
        s.Run("instance", "list", "--group", "web");
        s.Run("eval", "--src", "web-1", "--dst", "db-1", "--protocol", "tcp", "--port", "5432");
        s.Run("reach", "--to", "db-1");
        s.Run("sg", "show", "cache");
        s.Run("instance", "show", "cache-1");
        // Scripts (no terminal) are never asked; a change of inner access goes ahead.
        s.Run("sg", "policy", "web", "--inner-access", "drop");
        s.Run("instance", "leave", "web-1", "--group", "ops");
        s.Run("sg", "delete", "ops");
        Golden.Assert("resources/names.txt", s.Transcript());
    }

    [Fact]
    public void AnAmbiguousName_IsRefused_WithEveryCandidate()
    {
        var s = _server;
        var a = s.Run("vpc", "create", "--cidr", "10.0.0.0/16").Output.Trim();
        var b = s.Run("vpc", "create", "--cidr", "10.1.0.0/16").Output.Trim();
        var first = s.Run("sg", "create", "--name", "web", "--vpc", a).Output.Trim();
        var second = s.Run("sg", "create", "--name", "web", "--vpc", b).Output.Trim();
        var shown = s.RunUnrecorded("sg", "show", "web");
        Assert.Equal(ExitCodes.BadInput, shown.ExitCode);
        Assert.StartsWith("error: 'web' names 2 security groups in cn-hangzhou: ", shown.Error, StringComparison.Ordinal);
        Assert.Contains($"{first} ({a})", shown.Error, StringComparison.Ordinal);
        Assert.Contains($"{second} ({b})", shown.Error, StringComparison.Ordinal);
        Assert.EndsWith("; give the ID\n", shown.Error, StringComparison.Ordinal);
        // Nothing was changed by a refused name.
        var authorize = s.RunUnrecorded("sg", "authorize", "web", "--rule", "tcp 22 10.0.0.0/8");
        Assert.Equal(ExitCodes.BadInput, authorize.ExitCode);
        Assert.Contains("Inbound (0)", s.RunUnrecorded("sg", "show", first).Output, StringComparison.Ordinal);
        // The ID still works.
        Assert.Equal(ExitCodes.Ok, s.RunUnrecorded("sg", "show", first).ExitCode);
    }

    [Fact]
    public void Messages_NameTheRightCommand_AndBareCommandsPrintTheirHelp()
    {
        var usage = CliTester.Run("sg", "authorize", "--rule", "tcp 22 10.0.0.0/8");
        Assert.Equal(ExitCodes.BadInput, usage.ExitCode);
        Assert.EndsWith("Run 'palisade sg authorize --help' for usage.\n", usage.Error, StringComparison.Ordinal);
        var bare = CliTester.Run("sg");
        Assert.Equal((ExitCodes.Ok, ""), (bare.ExitCode, bare.Error));
        Assert.Equal(CliTester.Run("sg", "--help").Output, bare.Output);
        Assert.Equal(CliTester.Run("--help").Output, CliTester.Run().Output);
        foreach (var group in new[] { "instance", "vpc", "accesskey", "host" })
            Assert.Contains("Commands:", CliTester.Run(group).Output, StringComparison.Ordinal);
        // Every command is on the grouped root help, the everyday ones first.
        var root = CliTester.Run("--help").Output;
        foreach (var command in PalisadeCli.Build().Subcommands.Where(c => !c.Hidden))
            Assert.Contains($"\n  {command.Name} ", root, StringComparison.Ordinal);
        Assert.True(root.IndexOf("  sg ", StringComparison.Ordinal) < root.IndexOf("  eval ", StringComparison.Ordinal));
        Golden.Assert("help/root.txt", root);
    }
}
