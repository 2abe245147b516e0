using Microsoft.Playwright;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static Palisade.WebConsole.Tests.Journeys.ConsoleJourneyTests;

namespace Palisade.WebConsole.Tests.Journeys;

/// <summary>
/// The reachability picture for real accounts: the group × group matrix readable at 300 groups in
/// two VPCs (no two labels overlap, clustered by VPC, sortable, axe-clean), and the layered picture
/// around one group, whose edge labels never cover a group and whose table names the instances that
/// make each edge — an instance in two groups included.
/// </summary>
public sealed class ReachabilityTests(ConsoleHost host, ITestOutputHelper output) : IClassFixture<ConsoleHost>
{
    private bool Skipped()
    {
        if (ConsoleHost.Missing() is not { } missing)
            return false;
        Assert.False(ConsoleHost.Required, $"PALISADE_REQUIRE_BROWSER=1 but {missing}");
        output.WriteLine($"skipped: {missing}");
        return true;
    }

    private static async Task<(string Vpc, string VSwitch)> VpcAsync(EcsClient api, string cidr, string name)
    {
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = cidr, VpcName = name }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = cidr.Replace("0.0/16", "1.0/24"), VSwitchName = name }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
        return (vpc, vsw);
    }

    private static async Task<string> GroupAsync(EcsClient api, string vpc, string name) =>
        (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = name })).GetProperty("SecurityGroupId").GetString()!;

    private static async Task<string> RunAsync(EcsClient api, string vsw, string group, string name) =>
        (await api.CallAsync("RunInstances", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = group, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", InstanceName = name }))
            .GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;

    /// <summary>Pairs of elements (by CSS selector) whose bounding boxes overlap, as "text|text".</summary>
    private static Task<string[]> OverlapsAsync(IPage page, string selector) => page.EvaluateAsync<string[]>("""
        selector => {
          const boxes = [...document.querySelectorAll(selector)].map(e => ({ r: e.getBoundingClientRect(), t: e.textContent }));
          boxes.sort((a, b) => a.r.left - b.r.left);
          const out = [];
          // A sweep over x: only boxes whose x spans meet can overlap.
          for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length && boxes[j].r.left < boxes[i].r.right - 0.5; j++) {
              const a = boxes[i].r, b = boxes[j].r;
              if (a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) out.push(`${boxes[i].t}|${boxes[j].t}`);
            }
          }
          return out;
        }
        """, selector);

    [Fact]
    public async Task TheMatrix_At300GroupsInTwoVpcs_IsReadable_ClusteredAndSortable()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("matrix");
        var (prod, prodSwitch) = await VpcAsync(api, "192.168.0.0/16", "prod");
        var (staging, stagingSwitch) = await VpcAsync(api, "10.20.0.0/16", "staging");
        var groups = new List<(string Id, string Vpc)>();
        for (var i = 0; i < 300; i++)
        {
            var vpc = i % 3 == 0 ? staging : prod;
            groups.Add((await GroupAsync(api, vpc, $"{(vpc == prod ? "prod" : "stage")}-tier-{i:D3}-service"), vpc));
        }
        // Some flows: every tenth group admits the next one on a port, and one on everything; members make them real.
        for (var i = 0; i < 300; i += 10)
        {
            var (target, vpc) = groups[i];
            var source = groups.Skip(i + 1).First(g => g.Vpc == vpc).Id;
            await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = target, IpProtocol = i % 20 == 0 ? "all" : "tcp", PortRange = i % 20 == 0 ? "-1/-1" : "8000/8010", SourceGroupId = source });
            var vsw = vpc == prod ? prodSwitch : stagingSwitch;
            await RunAsync(api, vsw, target, $"t-{i}");
            await RunAsync(api, vsw, source, $"s-{i}");
        }
        var (page, problems) = await host.NewPageAsync(1440, 1000);
        await page.GotoAsync("/console/");
        await SignInAsync(page, key);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
        await page.GotoAsync("/console/#/reach");
        var matrix = page.Locator("svg.reach-matrix");
        await Expect(matrix.Locator("text.matrix-label.column")).ToHaveCountAsync(300, new() { Timeout = 60_000 });
        await Expect(matrix.Locator("text.matrix-label.row")).ToHaveCountAsync(301);
        Assert.True(await matrix.Locator("rect.cell").CountAsync() >= 30);
        Assert.True(await matrix.Locator("rect.cell.level-4").CountAsync() > 0);

        // No label overlaps another, rows, columns and the VPC names together.
        var overlaps = await OverlapsAsync(page, "svg.reach-matrix text");
        Assert.True(overlaps.Length == 0, $"{overlaps.Length} overlapping labels, e.g. {string.Join(", ", overlaps.Take(5))}");
        // Clustered by VPC: each VPC's groups are one run of columns.
        var order = await matrix.Locator("text.matrix-label.column").AllTextContentsAsync();
        var runs = order.Select(t => t.StartsWith("prod") ? "prod" : "stage").Aggregate(new List<string>(), (acc, v) => { if (acc.Count == 0 || acc[^1] != v) acc.Add(v); return acc; });
        Assert.Equal(2, runs.Count);
        await ConsoleHost.ShotAsync(page, "18-matrix-300");
        await AccessibleAsync(page, "matrix at 300 groups");

        // Sorted by openness: in each VPC, the group reached the most comes first.
        await page.GetByLabel("Order groups in each VPC by").SelectOptionAsync("reached");
        var sorted = await matrix.Locator("text.matrix-label.column").AllTextContentsAsync();
        Assert.NotEqual(order, sorted);
        var first = sorted[0];
        var firstId = groups.Single(g => $"{(g.Vpc == prod ? "prod" : "stage")}-tier-{groups.IndexOf(g):D3}-service".StartsWith(first.TrimEnd('…'), StringComparison.Ordinal)).Id;
        await Expect(matrix.Locator($"rect.cell.level-4[data-target='{firstId}']")).ToHaveCountAsync(1);
        Assert.Empty(await OverlapsAsync(page, "svg.reach-matrix text"));

        // The keyboard: the cells are one tab stop; arrows move to the nearest drawn cell that way,
        // Home and End to the ends; each cell names its flow; Enter opens its column's picture.
        var stop = matrix.Locator("rect.cell[tabindex='0']");
        await Expect(stop).ToHaveCountAsync(1);
        await stop.FocusAsync();
        var focused = page.Locator("rect.cell:focus");
        async Task<(float X, float Y, string Label, string Target)> FocusedAsync() => (
            float.Parse((await focused.GetAttributeAsync("x"))!, System.Globalization.CultureInfo.InvariantCulture),
            float.Parse((await focused.GetAttributeAsync("y"))!, System.Globalization.CultureInfo.InvariantCulture),
            (await focused.GetAttributeAsync("aria-label"))!, (await focused.GetAttributeAsync("data-target"))!);
        var start = await FocusedAsync();
        Assert.Matches(" → .*: ", start.Label);
        await page.Keyboard.PressAsync("ArrowDown");
        var below = await FocusedAsync();
        Assert.True(below.Y > start.Y, $"ArrowDown went from {start} to {below}");
        await page.Keyboard.PressAsync("ArrowRight");
        var right = await FocusedAsync();
        Assert.True(right.X > below.X, $"ArrowRight went from {below} to {right}");
        await page.Keyboard.PressAsync("ArrowLeft");
        Assert.True((await FocusedAsync()).X < right.X);
        await page.Keyboard.PressAsync("End");
        var last = await FocusedAsync();
        Assert.Equal(await matrix.Locator("rect.cell").Last.GetAttributeAsync("aria-label"), last.Label);
        await Expect(matrix.Locator("rect.cell[tabindex='0']")).ToHaveCountAsync(1);
        await page.Keyboard.PressAsync("Home");
        Assert.Equal(start.Label, (await FocusedAsync()).Label);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"#/reach/{start.Target}$"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task AroundOneGroup_LabelsNeverCoverAGroup_AndTheTableNamesTheInstancesThatMakeEachEdge()
    {
        if (Skipped())
            return;
        var (key, api) = host.NewAccount("layered");
        var (prod, vsw) = await VpcAsync(api, "192.168.0.0/16", "prod");
        var (staging, _) = await VpcAsync(api, "10.20.0.0/16", "staging");
        var web = await GroupAsync(api, prod, "web");
        var app = await GroupAsync(api, prod, "app");
        var db = await GroupAsync(api, prod, "db");
        var ops = await GroupAsync(api, prod, "ops");
        for (var i = 0; i < 6; i++)
            await GroupAsync(api, prod, $"batch-{i}");
        var elsewhere = await GroupAsync(api, staging, "stage-app");
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = app, IpProtocol = "tcp", PortRange = "8080/8080", SourceGroupId = web });
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = app, IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = ops });
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = db, IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = app });
        for (var i = 0; i < 6; i++)
        {
            var batch = (await api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupName = $"batch-{i}" })).GetProperty("SecurityGroups").GetProperty("SecurityGroup")[0].GetProperty("SecurityGroupId").GetString()!;
            await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = batch, IpProtocol = "tcp", PortRange = $"{9000 + i}/{9000 + i}", SourceGroupId = app });
            await RunAsync(api, vsw, batch, $"batch-{i}-1");
        }
        await RunAsync(api, vsw, web, "web-1");
        var app1 = await RunAsync(api, vsw, app, "app-1");
        await RunAsync(api, vsw, db, "db-1");
        await RunAsync(api, vsw, ops, "ops-1");
        // One instance in app and ops: alone it makes ops → app on every port (app's inner access).
        var both = await RunAsync(api, vsw, app, "app-ops-1");
        await api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = both, SecurityGroupId = ops });

        var (page, problems) = await host.NewPageAsync();
        await page.GotoAsync("/console/");
        await SignInAsync(page, key);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security groups", Level = 1 })).ToBeVisibleAsync();
        await page.GotoAsync($"/console/#/reach/{app}");
        var picture = page.Locator("svg.reach-picture");
        await Expect(picture.Locator("[data-side=focus]")).ToContainTextAsync("app");
        // web and ops on the left; db and the six batch groups on the right; nothing of the other VPC.
        await Expect(picture.Locator($"a[data-side=in][href$='{web}']")).ToHaveCountAsync(1);
        await Expect(picture.Locator($"a[data-side=in][href$='{ops}']")).ToHaveCountAsync(1);
        await Expect(picture.Locator("a[data-side=out]")).ToHaveCountAsync(8);
        await Expect(picture.Locator($"a[href$='{elsewhere}']")).ToHaveCountAsync(0);
        var sides = await page.EvaluateAsync<double[]>("""
            () => ['in', 'focus', 'out'].map(side => Math.max(...[...document.querySelectorAll(`svg.reach-picture [data-side=${side}] rect`)].map(r => r.getBoundingClientRect().left)))
            """);
        Assert.True(sides[0] < sides[1] && sides[1] < sides[2], $"layers out of order: {string.Join(", ", sides)}");
        // No edge label covers a group, and no two labels overlap.
        var covered = await page.EvaluateAsync<string[]>("""
            () => {
              const nodes = [...document.querySelectorAll('svg.reach-picture .node-box rect')].map(r => r.getBoundingClientRect());
              const labels = [...document.querySelectorAll('svg.reach-picture .edge-label-box')].map(g => ({ r: g.getBoundingClientRect(), t: g.textContent }));
              const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
              return [...labels.filter(l => nodes.some(n => meet(l.r, n))).map(l => `covers a node: ${l.t}`),
                      ...labels.flatMap((a, i) => labels.slice(i + 1).filter(b => meet(a.r, b.r)).map(b => `${a.t}|${b.t}`))];
            }
            """);
        Assert.True(covered.Length == 0, string.Join(", ", covered));
        await Expect(picture.Locator(".edge-label-box")).ToHaveCountAsync(10);

        // Which instances make ops → app: ops-1 on 22, and app-ops-1, in both groups.
        var opsRow = page.Locator($"table.edge-table tr[data-source='{ops}'][data-target='{app}']");
        await Expect(opsRow).ToContainTextAsync("all traffic");
        await Expect(opsRow).ToContainTextAsync($"app-ops-1 ({both}) (also in app) → app-1 ({app1})");
        await Expect(opsRow.Locator("ul.pairs li", new() { HasText = "ops-1 (" })).Not.ToHaveCountAsync(0);
        await ConsoleHost.ShotAsync(page, "19-around-app");
        await AccessibleAsync(page, "layered picture");

        // A group on either side leads to the picture around it.
        await picture.Locator($"a[href$='{db}']").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reachability around db", Level = 1 })).ToBeVisibleAsync();
        // app reaches db on 5432, and so does ops — only because app-ops-1 is in app too, as the table says.
        await Expect(page.Locator("svg.reach-picture a[data-side=in]")).ToHaveCountAsync(2);
        await Expect(page.Locator($"table.edge-table tr[data-source='{ops}'][data-target='{db}']")).ToContainTextAsync($"app-ops-1 ({both}) (also in app)");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
