using System.Globalization;
using System.Text;
using Palisade.Analysis;
using Palisade.Cli.Tests.Server;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Progress;

/// <summary>The bar's text, how it redraws and wipes itself, and that nothing of it reaches a pipe.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ProgressBarTests
{
    public static TheoryData<int, int, string> Lines => new()
    {
        { 0, 10, "audit: rules [------------------------------]   0% (0/10)" },
        { 5, 10, "audit: rules [###############---------------]  50% (5/10)" },
        { 1, 3, "audit: rules [##########--------------------]  33% (1/3)" },
        { 10, 10, "audit: rules [##############################] 100% (10/10)" },
        { 12, 10, "audit: rules [##############################] 100% (10/10)" },    // past the end: clamped
        { -1, 10, "audit: rules [------------------------------]   0% (0/10)" },    // before the start: clamped
        { 0, 0, "audit: rules" },                                                     // a phase without steps: no bar
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void Render_DrawsThePhase_TheBar_ThePercentAndTheCount(int done, int total, string expected) =>
        Assert.Equal(expected, ProgressBar.Render("audit", new WorkProgress("rules", done, total)));

    [Fact]
    public void Report_RedrawsInPlace_AtMostOncePerInterval_AndDispose_WipesTheLine()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var screen = new StringWriter();
        using (var bar = new ProgressBar(screen, "reach", clock))
        {
            bar.Report(new WorkProgress("policies", 0, 4));
            bar.Report(new WorkProgress("policies", 1, 4));            // too soon: not drawn
            clock.Advance(TimeSpan.FromSeconds(1));
            bar.Report(new WorkProgress("policies", 2, 4));
            bar.Report(new WorkProgress("pairs", 0, 0));              // a new phase: drawn at once, over the longer line
        }
        var first = ProgressBar.Render("reach", new WorkProgress("policies", 0, 4));
        var second = ProgressBar.Render("reach", new WorkProgress("policies", 2, 4));
        var third = "reach: pairs";
        Assert.Equal("\r" + first + "\r" + second + "\r" + third.PadRight(second.Length) + "\r" + new string(' ', third.Length) + "\r", screen.ToString());
    }

    [Fact]
    public void NothingIsDrawn_WhenStderrIsNotTheTerminal()
    {
        Assert.False(ProgressBar.IsTerminal(new StringWriter()));
        // A state large enough to have many steps in every phase.
        var state = LargeState(groups: 40, instancesPerGroup: 5);
        var path = CliTester.StateFile(state);
        try
        {
            foreach (var args in new[] { new[] { "audit", "--state", path }, ["reach", "--state", path, "--matrix"] })
            {
                var outcome = CliTester.Run(args);
                Assert.True(outcome.ExitCode is 0 or 1, outcome.Error);
                Assert.Equal("", outcome.Error);
                Assert.DoesNotContain('\r', outcome.Output);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AnImport_PrintsOnlyItsTable_WhenStderrIsNotTheTerminal()
    {
        await using var server = await CliServer.StartAsync();
        var path = Path.Combine(server.Data, "large.json");
        File.WriteAllText(path, LargeState(groups: 10, instancesPerGroup: 3));
        var outcome = server.Run("import", "--state", path);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal("", outcome.Error);
        Assert.DoesNotContain('\r', outcome.Output);
        Assert.Equal(1 + 1 + 1 + 10 + 30, outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header, VPC, vSwitch, groups, instances
    }

    /// <summary>Groups that each admit the next one on a port of their own, and instances in each.</summary>
    private static string LargeState(int groups, int instancesPerGroup)
    {
        var sb = new StringBuilder("""{"RegionId": "cn-hangzhou", "SecurityGroups": [""");
        for (var g = 0; g < groups; g++)
        {
            var peer = (g + 1) % groups;
            sb.Append(CultureInfo.InvariantCulture, $$"""{{(g > 0 ? "," : "")}}{"SecurityGroupId": "sg-g{{g}}", "SecurityGroupName": "g{{g}}", "Description": "group {{g}}", "VpcId": "vpc-a", "Permissions": {"Permission": [""");
            sb.Append(CultureInfo.InvariantCulture, $$"""{"SecurityGroupRuleId": "sgr-g{{g}}a", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "{{1000 + g}}/{{1000 + g}}", "SourceGroupId": "sg-g{{peer}}", "Description": "from g{{peer}}"},""");
            sb.Append(CultureInfo.InvariantCulture, $$$"""{"SecurityGroupRuleId": "sgr-g{{{g}}}b", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.{{{g}}}.0.0/16", "Description": "ssh"}]}}""");
        }
        sb.Append("""], "Instances": [""");
        for (var g = 0; g < groups; g++)
        {
            for (var k = 0; k < instancesPerGroup; k++)
            {
                sb.Append(CultureInfo.InvariantCulture, $$$"""{{{(g + k > 0 ? "," : "")}}}{"InstanceId": "i-g{{{g}}}n{{{k}}}", "VpcAttributes": {"VpcId": "vpc-a", "VSwitchId": "vsw-a", "PrivateIpAddress": {"IpAddress": ["192.168.{{{g}}}.{{{k + 10}}}"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-g{{{g}}}"]}}""");
            }
        }
        return sb.Append("]}").ToString();
    }
}
