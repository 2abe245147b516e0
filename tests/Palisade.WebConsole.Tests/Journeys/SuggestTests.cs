using System.Globalization;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static Palisade.WebConsole.Tests.Journeys.ConsoleJourneyTests;

namespace Palisade.WebConsole.Tests.Journeys;

/// <summary>
/// Issue 20 in the console: least privilege from observed flows. A group whose broad rule admitted a
/// few sources offers the narrower rules (DescribeSecurityGroupRuleSuggestion) in a dialog with what
/// they replace and the what-if; Replace adds them and removes the broad rule.
/// </summary>
public sealed class SuggestTests(ConsoleHost host, ITestOutputHelper output) : IClassFixture<ConsoleHost>
{
    [Fact]
    public async Task AGroupsObservedTraffic_SuggestsNarrowerRules_AndReplaceAppliesThem()
    {
        if (ConsoleHost.Missing() is { } missing)
        {
            Assert.False(ConsoleHost.Required, $"PALISADE_REQUIRE_BROWSER=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        var (key, api) = host.NewAccount("suggest");
        var (_, db, dbInstance) = await NetworkAsync(api);
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = db, IpProtocol = "tcp", PortRange = "1/65535", SourceCidrIp = "0.0.0.0/0", Description = "everything, for now" });
        // A second member, and members apart unless a rule admits them: the broad rule is what lets them talk.
        var vsw = (await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceIds = $"[\"{dbInstance}\"]" }))
            .GetProperty("Instances").GetProperty("Instance")[0].GetProperty("VpcAttributes").GetProperty("VSwitchId").GetString();
        await api.CallAsync("RunInstances", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = db, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", InstanceName = "db-2" });
        await api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = db, InnerAccessPolicy = "Drop" });
        var agent = host.HostAgent(dbInstance, "node-1", "vnet0");
        var minute = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);
        var report = new Dictionary<string, string> { ["RegionId"] = Region, ["HostName"] = "node-1", ["AppliedRevision"] = "1", ["InstanceId.1"] = dbInstance, ["FlowsReported"] = "true" };
        (string Source, int Port)[] seen = [("198.18.0.6", 22), ("198.18.0.7", 22), ("198.18.0.9", 5432)];
        for (var i = 0; i < seen.Length; i++)
        {
            report[$"Flow.{i + 1}.InstanceId"] = dbInstance;
            report[$"Flow.{i + 1}.SourceIp"] = seen[i].Source;
            report[$"Flow.{i + 1}.IpProtocol"] = "TCP";
            report[$"Flow.{i + 1}.Port"] = seen[i].Port.ToString(CultureInfo.InvariantCulture);
            report[$"Flow.{i + 1}.Minute"] = minute;
            report[$"Flow.{i + 1}.Connections"] = "3";
        }
        await agent.CallAsync("ReportAgentStatus", report);

        var (page, problems) = await host.NewPageAsync(1280, 1000);
        await page.GotoAsync("/console/");
        await SignInAsync(page, key);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
        await page.GotoAsync($"/console/#/groups/{db}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Suggest narrower rules from observed traffic…" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Narrower inbound rules from observed traffic" });
        await Expect(dialog.Locator("p.sample")).ToContainTextAsync("3 observed connection records in 7 days, sampled by 1 host, all of them since ");
        // The broad rule goes; 3306 from the VPC was not used by what was seen, so it goes too.
        var replaced = dialog.Locator("table.replaced tbody tr");
        await Expect(replaced).ToHaveCountAsync(2);
        await Expect(dialog.Locator("table.replaced")).ToContainTextAsync("0.0.0.0/0");
        var suggested = await dialog.Locator("table.suggested tbody tr").AllInnerTextsAsync();
        Assert.Equal(["1\tTCP\t22\t198.18.0.6/31", "1\tTCP\t5432\t198.18.0.9/32"], suggested.Select(r => r.Trim()).Order(StringComparer.Ordinal));
        await Expect(dialog.Locator("p.kept-all")).ToBeVisibleAsync();
        // What the broad rule let the members do to each other is closed: db-1 and db-2 no longer talk (3306 aside, which also goes).
        await Expect(dialog.Locator("table.impact-lost tbody tr")).ToHaveCountAsync(2);
        await Expect(dialog.Locator("table.impact-lost")).ToContainTextAsync("db-2 (");
        await Expect(dialog.Locator("p.impact-gained")).ToHaveTextAsync("No connection is opened.");
        await ConsoleHost.ShotAsync(page, "23-suggest");
        await AccessibleAsync(page, "the suggestion dialog");

        await dialog.GetByRole(AriaRole.Button, new() { Name = "Replace 2 rules with 2" }).ClickAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Replaced 2 rules with 2.");
        var inbound = page.Locator("section[aria-labelledby='inbound'] tbody");
        await Expect(inbound.Locator("tr")).ToHaveCountAsync(2);
        await Expect(inbound).ToContainTextAsync("198.18.0.6/31");
        await Expect(inbound).ToContainTextAsync("198.18.0.9/32");
        await Expect(inbound).Not.ToContainTextAsync("0.0.0.0/0");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
