using System.Text.Json;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Palisade.Client;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using Palisade.Domain.Ecs;

namespace Palisade.WebConsole.Tests.Journeys;

/// <summary>
/// What a person does in the console, in Chromium, against a real server: sign in, create a group,
/// add a rule (first with a bad port range, to see the API's error), run an instance and join it to
/// a group after reading the what-if, read an audit finding, open the reachability picture, explain
/// a flow — on a desktop and on a phone-sized screen. Every page is saved under artifacts/console/.
/// </summary>
public sealed class ConsoleJourneyTests(ConsoleHost host, ITestOutputHelper output) : IClassFixture<ConsoleHost>
{
    internal const string Region = "cn-hangzhou";

    private bool Skipped()
    {
        if (ConsoleHost.Missing() is not { } missing)
            return false;
        Assert.False(ConsoleHost.Required, $"PALISADE_REQUIRE_BROWSER=1 but {missing}");
        output.WriteLine($"skipped: {missing}");
        return true;
    }

    /// <summary>A VPC and vSwitch (the console manages groups and instances, not networks) and a database tier to join.</summary>
    internal static async Task<(string Vpc, string Db, string DbInstance)> NetworkAsync(EcsClient api)
    {
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "192.168.0.0/16", VpcName = "prod" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "192.168.1.0/24", VSwitchName = "apps" }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
        var db = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "db", Description = "databases" })).GetProperty("SecurityGroupId").GetString()!;
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = db, IpProtocol = "tcp", PortRange = "3306/3306", SourceCidrIp = "192.168.0.0/16", Description = "mysql from the VPC" });
        var run = await api.CallAsync("RunInstances", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = db, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", InstanceName = "db-1" });
        return (vpc, db, run.GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!);
    }

    /// <summary>axe-core's WCAG rules on the page as it is: no violation of any impact.</summary>
    internal static async Task AccessibleAsync(IPage page, string what)
    {
        var results = await page.RunAxe();
        var violations = results.Violations.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))}").ToList();
        Assert.True(violations.Count == 0, $"{what}: {string.Join("\n", violations)}");
    }

    internal static async Task SignInAsync(IPage page, ClientCredentials key, string? secret = null)
    {
        await Expect(page.GetByLabel("AccessKey ID")).ToBeFocusedAsync();
        await page.GetByLabel("AccessKey ID").FillAsync(key.AccessKeyId);
        await page.GetByLabel("AccessKey secret").FillAsync(secret ?? key.AccessKeySecret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Signed in only once the key is proven and the console has gone to its first page: a test that
        // navigated before then was sent back to #/groups when the proof came (a flaky run under load).
        if (secret is null)
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task APerson_ManagesGroupsRulesAndInstances_AndReadsTheAnalysis()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("journey");
        var (vpc, db, dbInstance) = await NetworkAsync(api);
        var (page, problems) = await host.NewPageAsync();

        // Sign in: a wrong secret is refused with the API's own error; the right one opens the groups.
        await page.GotoAsync("/console/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await ConsoleHost.ShotAsync(page, "01-sign-in");
        await AccessibleAsync(page, "sign-in");
        await SignInAsync(page, key, secret: "not-the-secret");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Signature");
        await SignInAsync(page, key);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "db" })).ToBeVisibleAsync();
        // The search looks at descriptions and tags too.
        await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "cache", Description = "redis" });
        await page.ReloadAsync();
        await Expect(page.Locator(".group-list tbody tr")).ToHaveCountAsync(2);
        await page.GetByLabel("Search groups").FillAsync("databases");
        await Expect(page.Locator(".group-list tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator(".group-list tbody tr")).ToContainTextAsync("db");
        await page.GetByLabel("Search groups").FillAsync("");

        // Create a group.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("web");
        await page.GetByLabel("Description").FillAsync("web tier");
        await page.GetByLabel("Network").SelectOptionAsync(vpc);
        await ConsoleHost.ShotAsync(page, "02-groups");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "web", Level = 1 })).ToBeVisibleAsync();
        var web = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        Assert.StartsWith("sg-", web);

        // A bad port range: the API's code and message, and the field marked.
        await page.GetByLabel("Port range").FillAsync("22/abc");
        await page.GetByLabel("Source or destination").FillAsync("10.0.0.0/8");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        var error = page.Locator("form[aria-labelledby=rule-form] [role=alert]");
        await Expect(error).ToContainTextAsync("InvalidParam.PortRange");
        await Expect(page.GetByLabel("Port range")).ToHaveAttributeAsync("aria-invalid", "true");
        await ConsoleHost.ShotAsync(page, "03-rule-error");
        var rules = await api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = web });
        Assert.Empty(rules.GetProperty("Permissions").GetProperty("Permission").EnumerateArray());

        // The same rule, corrected, and a drop above it: the table lists them in the order ECS applies them.
        await page.GetByLabel("Port range").FillAsync("22/22");
        await page.GetByLabel("Description").Last.FillAsync("ssh");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        await Expect(page.Locator("section[aria-labelledby=inbound] tbody tr")).ToHaveCountAsync(1);
        await page.GetByLabel("Policy", new() { Exact = true }).SelectOptionAsync("drop");
        await page.GetByLabel("Priority").FillAsync("1");
        await page.GetByLabel("Protocol").SelectOptionAsync("TCP");
        await page.GetByLabel("Port range").FillAsync("23/23");
        await page.GetByLabel("Source or destination").FillAsync("0.0.0.0/0");
        await page.GetByLabel("Description").Last.FillAsync("no telnet");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        var inbound = page.Locator("section[aria-labelledby=inbound] tbody tr");
        await Expect(inbound).ToHaveCountAsync(2);
        await Expect(inbound.Nth(0)).ToContainTextAsync("Drop");
        // One notation for ports: "22", not "22/22".
        await Expect(inbound.Nth(1).Locator("td").Nth(4)).ToHaveTextAsync("22");
        // Sorting by a column, and back.
        await page.Locator("section[aria-labelledby=inbound]").GetByRole(AriaRole.Button, new() { Name = "Ports" }).ClickAsync();
        await Expect(page.Locator("section[aria-labelledby=inbound] th[aria-sort=ascending]")).ToContainTextAsync("Ports");
        await Expect(inbound.Nth(0).Locator("td").Nth(4)).ToHaveTextAsync("22");
        await ConsoleHost.ShotAsync(page, "04-group");
        await AccessibleAsync(page, "group page");

        // Edit a rule in place: the form takes its values, and saving changes that rule only.
        await inbound.Filter(new() { HasText = "ssh" }).GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Edit rule" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Port range")).ToHaveValueAsync("22");
        await page.GetByLabel("Description").Last.FillAsync("ssh from the office network");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        // A change of a rule shows its what-if first (nobody is in the group: nothing changes).
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("No connection is lost.");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        await Expect(inbound.Filter(new() { HasText = "ssh" })).ToContainTextAsync("ssh from the office network");
        await Expect(inbound).ToHaveCountAsync(2);

        // Remove one, after the what-if (nobody is in the group yet, so nothing is lost).
        await inbound.Filter(new() { HasText = "no telnet" }).GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("No connection is lost.");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Remove rule" }).ClickAsync();
        await Expect(inbound).ToHaveCountAsync(1);
        await page.GetByLabel("Policy", new() { Exact = true }).SelectOptionAsync("drop");
        await page.GetByLabel("Port range").FillAsync("23/23");
        await page.GetByLabel("Source or destination").FillAsync("0.0.0.0/0");
        await page.GetByLabel("Description").Last.FillAsync("no telnet");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add rule" }).ClickAsync();
        await Expect(inbound).ToHaveCountAsync(2);

        // Instances: run one into web, then join it to db after reading what it would gain.
        await page.GetByRole(AriaRole.Link, new() { Name = "Instances" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Instances", Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("web-1");
        await page.GetByLabel("Security group", new() { Exact = true }).SelectOptionAsync(web);
        await page.GetByRole(AriaRole.Button, new() { Name = "Run instance" }).ClickAsync();
        var webRow = page.Locator("tr", new() { HasText = "web-1" });
        await Expect(webRow).ToBeVisibleAsync();
        var webInstance = await webRow.GetAttributeAsync("data-instance");
        await webRow.GetByRole(AriaRole.Combobox).SelectOptionAsync(db);
        await webRow.GetByRole(AriaRole.Button, new() { Name = "Join" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("Connections opened");
        // db's inner access lets members reach each other: web-1 would reach db-1 and back.
        await Expect(dialog.Locator("table.impact-gained")).ToContainTextAsync(dbInstance);
        await ConsoleHost.ShotAsync(page, "05-join-what-if");
        await AccessibleAsync(page, "join dialog");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Join group" }).ClickAsync();
        await Expect(webRow.Locator("ul.memberships li")).ToHaveCountAsync(2);
        await ConsoleHost.ShotAsync(page, "06-instances");
        var joined = await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceIds = JsonSerializer.Serialize(new[] { webInstance }) });
        Assert.Equal(2, joined.GetProperty("Instances").GetProperty("Instance")[0].GetProperty("SecurityGroupIds").GetProperty("SecurityGroupId").GetArrayLength());

        // Leaving shows what would be lost, and Cancel changes nothing.
        await webRow.GetByRole(AriaRole.Button, new() { Name = $"Leave {db}" }).ClickAsync();
        await Expect(dialog).ToContainTextAsync("Connections lost");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(webRow.Locator("ul.memberships li")).ToHaveCountAsync(2);

        // The audit: the SSH rule open to all of 10.0.0.0/8, with its evidence.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit" }).ClickAsync();
        var finding = page.Locator("article[data-check=internal-wide-cidr]", new() { HasText = web });
        await Expect(finding).ToHaveCountAsync(1);
        await finding.Locator("summary").ClickAsync();
        await Expect(finding.Locator("dl")).ToContainTextAsync("10.0.0.0/8");
        await ConsoleHost.ShotAsync(page, "07-audit");

        // The reachability matrix: web reaches db (web-1 is in db too, whose inner access admits members), and db reaches web.
        await page.GetByRole(AriaRole.Link, new() { Name = "Reachability" }).ClickAsync();
        var matrix = page.Locator("svg.reach-matrix");
        await Expect(matrix).ToBeVisibleAsync();
        await Expect(matrix.Locator($"rect.cell[data-source='{web}'][data-target='{db}']")).ToHaveCountAsync(1);
        await Expect(matrix.Locator($"rect.cell[data-source='{db}'][data-target='{web}']")).ToHaveCountAsync(1);
        await ConsoleHost.ShotAsync(page, "08-reachability");
        // Around one group: only its flows, and the groups at their other ends.
        var cache = (await api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupName = "cache" })).GetProperty("SecurityGroups").GetProperty("SecurityGroup")[0].GetProperty("SecurityGroupId").GetString()!;
        await page.GetByLabel("Around one group").SelectOptionAsync(web);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        var picture = page.Locator("svg.reach-picture");
        await Expect(picture.Locator("[data-side=focus]")).ToContainTextAsync("web");
        await Expect(picture.Locator("a[href$='" + cache + "']")).ToHaveCountAsync(0);
        var rows = page.Locator("table.edge-table tbody tr");
        Assert.True(await rows.CountAsync() > 0);
        foreach (var row in await rows.AllAsync())
            await Expect(row).ToContainTextAsync(web);

        // Explain a flow: web-1 to db-1 on MySQL is allowed, and the answer says by what.
        await page.GetByRole(AriaRole.Link, new() { Name = "Explain a flow" }).ClickAsync();
        await page.GetByLabel("Source", new() { Exact = true }).FillAsync(webInstance!);
        await page.GetByLabel("Destination", new() { Exact = true }).FillAsync(dbInstance);
        await page.GetByLabel("Destination port").FillAsync("3306");
        await page.GetByRole(AriaRole.Button, new() { Name = "Explain" }).ClickAsync();
        await Expect(page.Locator(".verdict")).ToContainTextAsync("Allowed");
        await Expect(page.Locator(".end.accept").Last).ToContainTextAsync("inner access");
        // Each end names the ENI whose groups decided, beside its instance.
        await Expect(page.Locator(".end.accept").Last.Locator("h3 small")).ToContainTextAsync(new Regex($"^{dbInstance} \\(eni-[0-9a-z]+\\)$"));
        await page.GetByLabel("Destination port").FillAsync("23");
        await page.GetByLabel("Destination", new() { Exact = true }).FillAsync("192.168.1.250");
        await page.GetByLabel("Source", new() { Exact = true }).FillAsync("203.0.113.9");
        await page.GetByLabel("Destination", new() { Exact = true }).FillAsync(webInstance!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Explain" }).ClickAsync();
        await Expect(page.Locator(".verdict")).ToContainTextAsync("Denied");
        await Expect(page.Locator(".end.drop")).ToContainTextAsync("drop by rule");
        await ConsoleHost.ShotAsync(page, "09-explain");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task OnAPhoneSizedScreen_NothingScrollsSideways_AndEveryControlHasAName()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("phone");
        var (_, db, _) = await NetworkAsync(api);
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = db, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Description = "ssh from the office network" });
        var (page, problems) = await host.NewPageAsync(width: 390, height: 844);
        await page.GotoAsync("/console/");
        // Keyboard only: the key field has focus, Tab moves on, Enter signs in.
        await Expect(page.GetByLabel("AccessKey ID")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(key.AccessKeyId);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(key.AccessKeySecret);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();

        foreach (var (hash, heading, shot) in new[]
        {
            ("#/groups", "Security groups", "10-narrow-groups"), ($"#/groups/{db}", "db", "10-narrow-group"), ("#/instances", "Instances", "11-narrow-instances"),
            ("#/audit", "Audit", "12-narrow-audit"), ("#/reach", "Reachability", "13-narrow-reachability"), ("#/explain", "Explain a flow", "14-narrow-explain"),
            ("#/prefix-lists", "Prefix lists", "23-narrow-prefix-lists"),
        })
        {
            await page.GotoAsync("/console/" + hash);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
            Assert.True(overflow <= 0, $"{hash} scrolls sideways by {overflow} px at 390 px");
            var unnamed = await page.EvaluateAsync<string[]>("""
                [...document.querySelectorAll('input, select, button, a[href]')]
                  .filter(e => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
                  .map(e => e.outerHTML)
                """);
            Assert.True(unnamed.Length == 0, $"{hash}: controls without a name: {string.Join(", ", unnamed)}");
            await ConsoleHost.ShotAsync(page, shot);
            await AccessibleAsync(page, hash);
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// The signature code's two hash implementations — WebCrypto, and the plain one for pages served
    /// over http to another host, where WebCrypto does not exist — agree on random inputs.
    /// </summary>
    [Fact]
    public async Task TheFallbackSha256AndHmac_AgreeWithWebCrypto()
    {
        if (Skipped())
            return;
        var (page, _) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        var disagreements = await page.EvaluateAsync<string[]>("""
            async () => {
              const s = await import('./sign.js');
              const out = [];
              const bytes = n => crypto.getRandomValues(new Uint8Array(n));
              for (let i = 0; i < 300; i++) {
                const message = bytes(i % 3 === 0 ? i : Math.floor(Math.random() * 200));
                const key = bytes(Math.floor(Math.random() * 130));
                const [a, b] = [await s.sha256Hex(message), await s.sha256Hex(message, { forceFallback: true })];
                if (a !== b) out.push(`sha256 of ${message.length} bytes`);
                const [c, d] = [await s.hmacSha256Hex(key, message), await s.hmacSha256Hex(key, message, { forceFallback: true })];
                if (c !== d) out.push(`hmac with a ${key.length}-byte key over ${message.length} bytes`);
              }
              // And a known answer (FIPS 180-2, "abc").
              const abc = await s.sha256Hex(new TextEncoder().encode('abc'), { forceFallback: true });
              if (abc !== 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad') out.push('abc');
              return out;
            }
            """);
        Assert.True(disagreements.Length == 0, string.Join(", ", disagreements));
    }

    /// <summary>Lists longer than one page come whole, and a classic group shows the rules of both its NICs.</summary>
    [Fact]
    public async Task LongListsAndClassicGroups_ShowWhole()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("big");
        var (_, db, _) = await NetworkAsync(api);
        var vsw = (await api.CallAsync("DescribeVSwitches", new { RegionId = Region }, ApiVersions.Vpc)).GetProperty("VSwitches").GetProperty("VSwitch")[0].GetProperty("VSwitchId").GetString();
        foreach (var amount in new[] { 100, 30 })
            await api.CallAsync("RunInstances", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = db, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", Amount = amount });
        var classic = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, SecurityGroupName = "classic" })).GetProperty("SecurityGroupId").GetString()!;
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = classic, IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", NicType = "internet" });
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = classic, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.1.2.0/24", NicType = "intranet" });

        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignInAsync(page, key);
        await page.GotoAsync("/console/#/instances");
        await Expect(page.Locator("tbody tr[data-instance]")).ToHaveCountAsync(131);
        await page.GotoAsync($"/console/#/groups/{classic}");
        var inbound = page.Locator("section[aria-labelledby=inbound] tbody tr");
        await Expect(inbound).ToHaveCountAsync(2);
        await Expect(inbound.Filter(new() { HasText = "internet" }).Locator("td").Nth(4)).ToHaveTextAsync("80");
        await Expect(inbound.Filter(new() { HasText = "intranet" }).Locator("td").Nth(4)).ToHaveTextAsync("22");

        // Many groups: the matrix holds them all, and the picture around one group still reads.
        for (var i = 0; i < 40; i++)
            await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, SecurityGroupName = $"extra-{i}" });
        await page.GotoAsync("/console/#/reach");
        await Expect(page.Locator("svg.reach-matrix text.matrix-label.column")).ToHaveCountAsync(42);
        await page.GetByLabel("Around one group").SelectOptionAsync(db);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.Locator("svg.reach-picture [data-side=focus]")).ToContainTextAsync("db");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
