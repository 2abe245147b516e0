using Microsoft.Playwright;
using Palisade.Client;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static Palisade.WebConsole.Tests.Journeys.ConsoleJourneyTests;

namespace Palisade.WebConsole.Tests.Journeys;

/// <summary>
/// Issue 16 item 7 in the console: a prefix list's page with its entries and the rules that name it,
/// entry edits behind their what-if, a rule form that picks a prefix list, and an instance's ENIs
/// each with its own groups.
/// </summary>
public sealed class PrefixListAndInterfaceTests(ConsoleHost host, ITestOutputHelper output) : IClassFixture<ConsoleHost>
{
    private bool Skipped()
    {
        if (ConsoleHost.Missing() is not { } missing)
            return false;
        Assert.False(ConsoleHost.Required, $"PALISADE_REQUIRE_BROWSER=1 but {missing}");
        output.WriteLine($"skipped: {missing}");
        return true;
    }

    private static async Task SignedInAsync(IPage page, ClientCredentials key)
    {
        await SignInAsync(page, key);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task APrefixList_ShowsItsEntriesAndRules_EditsBehindTheWhatIf_AndRulesPickIt()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("prefix-lists");
        var (vpc, db, dbInstance) = await NetworkAsync(api);
        var webGroup = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "web" })).GetProperty("SecurityGroupId").GetString()!;
        var vsw = (await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceIds = $"[\"{dbInstance}\"]" }))
            .GetProperty("Instances").GetProperty("Instance")[0].GetProperty("VpcAttributes").GetProperty("VSwitchId").GetString()!;
        var web = (await api.CallAsync("RunInstances", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = webGroup, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", InstanceName = "web-1" }))
            .GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
        var webAddress = (await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceIds = $"[\"{web}\"]" }))
            .GetProperty("Instances").GetProperty("Instance")[0].GetProperty("VpcAttributes").GetProperty("PrivateIpAddress").GetProperty("IpAddress")[0].GetString()!;
        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignedInAsync(page, key);

        // Create a list from the form: one entry per line, a description after the block.
        await page.GetByRole(AriaRole.Link, new() { Name = "Prefix lists" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Prefix lists", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator("p.empty")).ToContainTextAsync("No prefix list");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("apps");
        await page.GetByLabel("Maximum entries").FillAsync("5");
        await page.GetByLabel("Entries", new() { Exact = true }).FillAsync($"{webAddress}/32 web tier\n10.99.0.0/16 batch");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create prefix list" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "apps", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-entry]")).ToHaveCountAsync(2);
        await Expect(page.Locator($"tr[data-entry='{webAddress}/32']")).ToContainTextAsync("web tier");
        var listId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        Assert.StartsWith("pl-", listId, StringComparison.Ordinal);
        await Expect(page.Locator("section[aria-labelledby=naming-rules] p.empty")).ToContainTextAsync("No rule names this list");

        // Named by no rule yet, the audit reports it (unused-prefix-list) and links to it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit" }).ClickAsync();
        var unused = page.Locator("article[data-check=unused-prefix-list]");
        await Expect(unused.GetByRole(AriaRole.Link, new() { Name = listId })).ToHaveAttributeAsync("href", $"#/prefix-lists/{listId}");
        await unused.GetByRole(AriaRole.Link, new() { Name = listId }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "apps", Level = 1 })).ToBeVisibleAsync();

        // A bad block is the API's own error, and nothing changes.
        await page.GetByLabel("Block").FillAsync("10.0.0.300/8");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add entry…" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.Locator("tr[data-entry]")).ToHaveCountAsync(2);

        // The db group's rule form offers the list as a peer; the rule shows it by name, linked.
        await page.GotoAsync($"/console/#/groups/{db}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "db", Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Port range").FillAsync("5432");
        await page.GetByLabel("Prefix list as peer").SelectOptionAsync(listId);
        await Expect(page.GetByLabel("Source or destination")).ToHaveValueAsync(listId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        var row = page.Locator("section[aria-labelledby=inbound] tbody tr", new() { HasText = "5432" });
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = "apps" })).ToHaveAttributeAsync("href", $"#/prefix-lists/{listId}");
        var rules = (await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = db })).GetProperty("Permissions").GetProperty("Permission");
        Assert.Contains(rules.EnumerateArray(), r => r.GetProperty("SourcePrefixListId").GetString() == listId && r.GetProperty("PortRange").GetString() == "5432/5432");

        // Back on the list: the rule that names it, and removing the web tier's entry shows the flow it closes.
        await row.GetByRole(AriaRole.Link, new() { Name = "apps" }).ClickAsync();
        await Expect(page.Locator("section[aria-labelledby=naming-rules] tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("section[aria-labelledby=naming-rules] tbody tr")).ToContainTextAsync("db");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete prefix list" })).ToBeDisabledAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove entry {webAddress}/32" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.Locator("tr.flow-lost")).ToHaveCountAsync(1);
        await Expect(dialog.Locator("tr.flow-lost")).ToContainTextAsync("web-1");
        await Expect(dialog.Locator("tr.flow-lost")).ToContainTextAsync("db-1");
        await ConsoleHost.ShotAsync(page, "20-prefix-list-whatif");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Remove entry" }).ClickAsync();
        await Expect(page.Locator("tr[data-entry]")).ToHaveCountAsync(1);
        var entries = (await api.CallAsync("DescribePrefixListAttributes", new { RegionId = Region, PrefixListId = listId })).GetProperty("Entries").GetProperty("Entry");
        Assert.Equal(["10.99.0.0/16"], entries.EnumerateArray().Select(e => e.GetProperty("Cidr").GetString()!).ToList());
        await ConsoleHost.ShotAsync(page, "21-prefix-list");
        await AccessibleAsync(page, "prefix-list page");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task AnInstancePage_ListsItsEnis_EachWithItsOwnGroups()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("enis");
        var (vpc, db, dbInstance) = await NetworkAsync(api);
        var ops = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "ops" })).GetProperty("SecurityGroupId").GetString()!;
        var vsw = (await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceIds = $"[\"{dbInstance}\"]" }))
            .GetProperty("Instances").GetProperty("Instance")[0].GetProperty("VpcAttributes").GetProperty("VSwitchId").GetString()!;
        var eni = (await api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = ops, PrimaryIpAddress = "192.168.1.200", NetworkInterfaceName = "ops-nic" }))
            .GetProperty("NetworkInterfaceId").GetString()!;
        await api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = dbInstance });
        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignedInAsync(page, key);

        await page.GotoAsync($"/console/#/instances/{dbInstance}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "db-1", Level = 1 })).ToBeVisibleAsync();
        var rows = page.Locator("section[aria-labelledby=instance-enis] tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(0).Locator("td").Nth(1)).ToHaveTextAsync("primary");
        await Expect(rows.Nth(0).Locator("td").Nth(4)).ToHaveTextAsync("db");
        var secondary = page.Locator($"tr[data-eni='{eni}']");
        await Expect(secondary.Locator("td").Nth(0)).ToContainTextAsync("ops-nic");
        await Expect(secondary.Locator("td").Nth(1)).ToHaveTextAsync("secondary");
        await Expect(secondary.Locator("td").Nth(3)).ToContainTextAsync("192.168.1.200");
        await Expect(secondary.GetByRole(AriaRole.Link, new() { Name = "ops" })).ToHaveAttributeAsync("href", $"#/groups/{ops}");
        await Expect(secondary.Locator("td").Nth(2)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^([0-9a-f]{2}:){5}[0-9a-f]{2}$"));
        await ConsoleHost.ShotAsync(page, "22-instance-enis");
        await AccessibleAsync(page, "instance page with ENIs");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
