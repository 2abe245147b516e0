using System.Text.Json;
using Microsoft.Playwright;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static Palisade.WebConsole.Tests.Journeys.ConsoleJourneyTests;

namespace Palisade.WebConsole.Tests.Journeys;

/// <summary>
/// Issue 21 in the console: an instance's page with its rules pooled in the order they apply (as the
/// server's engine orders them), group pages listing their members, forms whose defaults work, and a
/// what-if dialog before every change that can cut or open flows.
/// </summary>
public sealed class InstancePageAndFormsTests(ConsoleHost host, ITestOutputHelper output) : IClassFixture<ConsoleHost>
{
    private bool Skipped()
    {
        if (ConsoleHost.Missing() is not { } missing)
            return false;
        Assert.False(ConsoleHost.Required, $"PALISADE_REQUIRE_BROWSER=1 but {missing}");
        output.WriteLine($"skipped: {missing}");
        return true;
    }

    /// <summary>Signs in and waits for the first page, so that the test's next address is not overtaken by it.</summary>
    private static async Task SignedInAsync(IPage page, ClientCredentials key)
    {
        await SignInAsync(page, key);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
    }

    private static async Task<string> GroupAsync(EcsClient api, string vpc, string name, string type = "normal") =>
        (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = name, SecurityGroupType = type })).GetProperty("SecurityGroupId").GetString()!;

    private static async Task<JsonElement> RulesAsync(EcsClient api, string group) =>
        (await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = group })).GetProperty("Permissions").GetProperty("Permission");

    [Fact]
    public async Task AGroupsRuleTables_ShowEachRulesUsage_AndNoTrafficInNDays()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("rule-usage");
        var (_, db, dbInstance) = await NetworkAsync(api);
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = db, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Description = "ssh" });
        var rules = (await RulesAsync(api, db)).EnumerateArray().ToDictionary(r => r.GetProperty("PortRange").GetString()!, r => r.GetProperty("SecurityGroupRuleId").GetString()!);
        var agent = host.HostAgent(dbInstance, "node-1", "vnet0");
        await agent.CallAsync("ReportAgentStatus", new Dictionary<string, string>
        {
            ["RegionId"] = Region, ["HostName"] = "node-1", ["AppliedRevision"] = "1", ["InstanceId.1"] = dbInstance, ["UsageReported"] = "true",
            ["RuleUsage.1.InstanceId"] = dbInstance, ["RuleUsage.1.Direction"] = "ingress", ["RuleUsage.1.SecurityGroupRuleId"] = rules["3306/3306"],
            ["RuleUsage.1.Packets"] = "42", ["RuleUsage.1.Bytes"] = "2520",
        });
        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignedInAsync(page, key);
        await page.GotoAsync($"/console/#/groups/{db}");
        await Expect(page.Locator($"tr[data-rule='{rules["3306/3306"]}'] td.usage")).ToContainTextAsync("42 packets, last ");
        await Expect(page.Locator($"tr[data-rule='{rules["22/22"]}'] td.usage")).ToHaveTextAsync("no traffic in 7 days");
        await Expect(page.Locator($"tr[data-rule='{rules["22/22"]}'] td.usage")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^every host carrying the group counted since "));
        await page.Locator("section[aria-labelledby='inbound']").ScrollIntoViewIfNeededAsync();
        await ConsoleHost.ShotAsync(page, "24-usage");
        await AccessibleAsync(page, "a group page with a usage column");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task AnInstancePage_PoolsItsGroups_InTheOrderTheEngineTriesThem_AndGroupPagesListMembers()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("instance-page");
        var (vpc, db, dbInstance) = await NetworkAsync(api);
        var web = await GroupAsync(api, vpc, "web");
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = web, IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0", Priority = 50, Description = "https" });
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = web, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0", Priority = 10, Policy = "drop", Description = "no ssh from anywhere" });
        await api.CallAsync("AuthorizeSecurityGroupEgress", new { RegionId = Region, SecurityGroupId = web, IpProtocol = "udp", PortRange = "53/53", DestCidrIp = "0.0.0.0/0", Description = "dns" });
        await api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = dbInstance, SecurityGroupId = web });
        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignedInAsync(page, key);

        // From the instance list to the instance's page.
        await page.GetByRole(AriaRole.Link, new() { Name = "Instances" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "db-1" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "db-1", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator("section.card dl")).ToContainTextAsync("192.168.1.");
        await Expect(page.Locator("section.card dl")).ToContainTextAsync("eni-");
        await Expect(page.Locator("tr[data-group]")).ToHaveCountAsync(2);

        // Inbound: db's MySQL rule (priority 1), web's drop (10), web's https (50) — the server's order, row for row.
        var expected = await api.CallAsync("DescribeInstanceEffectiveRules", new { RegionId = Region, InstanceId = dbInstance });
        var inbound = page.Locator("section[data-direction=ingress] tbody tr");
        var ids = expected.GetProperty("IngressPermissions").GetProperty("Permission").EnumerateArray().Select(r => r.GetProperty("SecurityGroupRuleId").GetString()).ToList();
        Assert.Equal(3, ids.Count);
        await Expect(inbound).ToHaveCountAsync(3);
        for (var i = 0; i < ids.Count; i++)
            Assert.Equal(ids[i], await inbound.Nth(i).GetAttributeAsync("data-rule"));
        await Expect(inbound.Nth(0)).ToContainTextAsync("3306");
        await Expect(inbound.Nth(0).Locator("td").Nth(6)).ToHaveTextAsync("db");
        await Expect(inbound.Nth(1).Locator("td").Nth(2)).ToHaveTextAsync("Drop");
        await Expect(inbound.Nth(1).Locator("td").Nth(6)).ToHaveTextAsync("web");
        await Expect(inbound.Nth(2).Locator("td").Nth(4)).ToHaveTextAsync("443");
        // Inner access comes before every rule, and the defaults after the last.
        await Expect(page.Locator("section[data-direction=ingress] .notice")).ToContainTextAsync("inner access Accept");
        await Expect(page.Locator("section[data-direction=ingress] .default-policy")).ToHaveTextAsync("When no rule matches: Drop.");
        await Expect(page.Locator("section[data-direction=egress] tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("section[data-direction=egress] .default-policy")).ToContainTextAsync("Accept — every group is basic");
        await ConsoleHost.ShotAsync(page, "15-instance");
        await AccessibleAsync(page, "instance page");

        // The group's page lists its members, and Delete says why it cannot be used.
        await page.GetByRole(AriaRole.Link, new() { Name = "web" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "web", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator("section[aria-labelledby=members] tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("section[aria-labelledby=members] a[href$='" + dbInstance + "']")).ToHaveTextAsync("db-1");
        var delete = page.GetByRole(AriaRole.Button, new() { Name = "Delete group…" });
        await Expect(delete).ToBeDisabledAsync();
        await Expect(page.Locator("#delete-reason")).ToHaveTextAsync("It cannot be deleted while 1 instance is still in it (see Members).");
        await Expect(delete).ToHaveAttributeAsync("aria-describedby", "delete-reason");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task TheForms_HaveDefaultsThatWork_ASinglePort_AndAGroupPicker()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("forms");
        var (vpc, db, _) = await NetworkAsync(api);
        // A second VPC whose vSwitch comes first but whose only group is advanced and empty.
        var staging = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "10.20.0.0/16", VpcName = "staging" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var stagingSwitch = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = staging, ZoneId = "cn-hangzhou-h", CidrBlock = "10.20.1.0/24", VSwitchName = "stage-apps" }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
        var stage = await GroupAsync(api, staging, "stage", "enterprise");
        var web = await GroupAsync(api, vpc, "web");
        var (page, problems) = await host.NewPageAsync();

        // The sign-in page offers exactly the regions the server serves.
        await page.GotoAsync("/console/");
        var served = (await api.CallAsync("DescribeRegions", new { })).GetProperty("Regions").GetProperty("Region").EnumerateArray().Select(r => r.GetProperty("RegionId").GetString()!).Order().ToList();
        var offered = await page.GetByLabel("Region").Locator("option").EvaluateAllAsync<string[]>("o => o.map(x => x.value)");
        Assert.Equal(served, offered.Order().ToList());
        Assert.DoesNotContain("cn-hongkong", offered);
        await Expect(page.GetByLabel("Region")).ToHaveValueAsync(Region);
        await SignedInAsync(page, key);

        // Run an instance: the groups offered follow the vSwitch's VPC.
        await page.GotoAsync("/console/#/instances");
        var vswitch = page.GetByLabel("vSwitch");
        var group = page.GetByLabel("Security group", new() { Exact = true });
        await vswitch.SelectOptionAsync(stagingSwitch);
        Assert.Equal([stage], await group.Locator("option").EvaluateAllAsync<string[]>("o => o.map(x => x.value)"));
        var prodSwitch = (await api.CallAsync("DescribeVSwitches", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc)).GetProperty("VSwitches").GetProperty("VSwitch")[0].GetProperty("VSwitchId").GetString()!;
        await vswitch.SelectOptionAsync(prodSwitch);
        Assert.Equal(new[] { db, web }.Order(), (await group.Locator("option").EvaluateAllAsync<string[]>("o => o.map(x => x.value)")).Order());
        // The defaults as they stand work: reload, name it, run.
        await page.ReloadAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("fresh");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run instance" }).ClickAsync();
        await Expect(page.Locator("tr", new() { HasText = "fresh" })).ToBeVisibleAsync();
        await Expect(page.Locator(".problem [role=alert]")).ToHaveCountAsync(0);

        // A single port is written 9090/9090, a range 8000-8010 as 8000/8010; a group is picked, not typed.
        await page.GotoAsync($"/console/#/groups/{web}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "web", Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Port range").FillAsync("9090");
        await page.GetByLabel("Source or destination").FillAsync("10.0.0.0/8");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        var inbound = page.Locator("section[aria-labelledby=inbound] tbody tr");
        await Expect(inbound).ToHaveCountAsync(1);
        await Expect(inbound.Nth(0).Locator("td").Nth(4)).ToHaveTextAsync("9090");
        Assert.Equal("9090/9090", (await RulesAsync(api, web))[0].GetProperty("PortRange").GetString());
        var picker = page.GetByLabel("Security group as peer");
        var choices = await picker.Locator("option").EvaluateAllAsync<string[]>("o => o.map(x => x.value).filter(Boolean)");
        Assert.Equal(new[] { db, web }.Order(), choices.Order());
        await picker.SelectOptionAsync(db);
        await Expect(page.GetByLabel("Source or destination")).ToHaveValueAsync(db);
        await page.GetByLabel("Port range").FillAsync("8000-8010");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        await Expect(inbound).ToHaveCountAsync(2);
        var fromDb = (await RulesAsync(api, web)).EnumerateArray().Single(r => r.GetProperty("SourceGroupId").GetString() == db);
        Assert.Equal("8000/8010", fromDb.GetProperty("PortRange").GetString());
        await Expect(inbound.Filter(new() { HasText = "8000-8010" })).ToContainTextAsync($"db ({db})");
        // The outbound default, by the group's type.
        await Expect(page.Locator("section[aria-labelledby=outbound] .empty")).ToContainTextAsync("this is a basic group, so its members reach everything a rule does not drop");
        await ConsoleHost.ShotAsync(page, "16-rule-form");
        await AccessibleAsync(page, "group page with picker");
        await page.GotoAsync($"/console/#/groups/{stage}");
        await Expect(page.Locator("section[aria-labelledby=outbound] .empty")).ToContainTextAsync("this is an advanced group, so its members reach nothing outside unless a rule accepts it");
        // An empty group's Delete is offered, and asks first.
        var spare = await GroupAsync(api, vpc, "spare");
        await page.GotoAsync($"/console/#/groups/{spare}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete group…" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("No connection is lost.");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete group" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator(".group-list a[href$='" + spare + "']")).ToHaveCountAsync(0);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task EveryChangeThatCanCutOrOpenFlows_ShowsItsWhatIf_AndCancelChangesNothing()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("confirm");
        var (vpc, db, dbInstance) = await NetworkAsync(api);
        var vsw = (await api.CallAsync("DescribeVSwitches", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc)).GetProperty("VSwitches").GetProperty("VSwitch")[0].GetProperty("VSwitchId").GetString()!;
        var second = (await api.CallAsync("RunInstances", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = db, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", InstanceName = "db-2" }))
            .GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignedInAsync(page, key);
        var dialog = page.GetByRole(AriaRole.Dialog);
        async Task<string> Policy() => (await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = db })).GetProperty("InnerAccessPolicy").GetString()!;

        // Inner access Accept → Drop would cut db-1 and db-2 apart: the dialog says so; Cancel keeps it.
        await page.GotoAsync($"/console/#/groups/{db}");
        await page.GetByLabel("Inner access policy").SelectOptionAsync("Drop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change policy" }).ClickAsync();
        await Expect(dialog.Locator("table.impact-lost")).ToContainTextAsync("db-2");
        await ConsoleHost.ShotAsync(page, "17-policy-what-if");
        await AccessibleAsync(page, "policy dialog");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        Assert.Equal("Accept", await Policy());
        await page.GetByRole(AriaRole.Button, new() { Name = "Change policy" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Change policy" }).ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        // The dialog closes before the change is sent; the announcement says the API has answered.
        await Expect(page.Locator("#status")).ToHaveTextAsync("Inner access policy changed.");
        await Expect(page.GetByLabel("Inner access policy")).ToHaveValueAsync("Drop");
        Assert.Equal("Drop", await Policy());

        // Modifying the MySQL rule to another port cuts db-2 → db-1 on 3306 and opens 5432.
        var inbound = page.Locator("section[aria-labelledby=inbound] tbody tr");
        await inbound.Filter(new() { HasText = "mysql" }).GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await page.GetByLabel("Port range").FillAsync("5432");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        await Expect(dialog.Locator("table.impact-lost")).ToContainTextAsync("TCP 3306");
        await Expect(dialog.Locator("table.impact-gained")).ToContainTextAsync("TCP 5432");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        Assert.Equal("3306/3306", (await RulesAsync(api, db))[0].GetProperty("PortRange").GetString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        await Expect(inbound.Filter(new() { HasText = "mysql" }).Locator("td").Nth(4)).ToHaveTextAsync("5432");

        // Deleting an instance: what the others lose with it, then it is gone.
        await page.GotoAsync($"/console/#/instances/{second}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete instance…" }).ClickAsync();
        await Expect(dialog.Locator("table.impact-lost")).ToContainTextAsync("db-1");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        Assert.Equal(2, (await api.CallAsync("DescribeInstances", new { RegionId = Region })).GetProperty("TotalCount").GetInt32());
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete instance…" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete instance" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Instances", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-instance]")).ToHaveCountAsync(1);

        // Leaving from the instance page asks too; a change the API refuses (the last group) shows its error and no confirm button.
        await page.GotoAsync($"/console/#/instances/{dbInstance}");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Leave {db}" }).ClickAsync();
        await Expect(dialog.Locator("[role=alert]")).ToBeVisibleAsync();
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Leave group" })).ToHaveCountAsync(0);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
