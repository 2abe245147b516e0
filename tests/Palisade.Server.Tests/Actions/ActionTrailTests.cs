using System.Globalization;
using System.Text.Json;
using Palisade.Client;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Actions;

/// <summary>The action trail: every mutating call of a verified key, with its outcome, per account (on both stores).</summary>
public sealed class ActionTrailTests : ControlPlaneTest
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero));
    private Palisade.Storage.Accounts.AccountService.NewKey _aliceKey = null!;
    private Scenario _alice = null!;
    private Scenario _bob = null!;

    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(clock: _clock);

    protected override Task SetUpAsync()
    {
        _aliceKey = Plane.NewAccount("alice");
        _alice = new Scenario(Plane.Client(_aliceKey, SignatureStyle.V3, _clock));
        _bob = new Scenario(Plane.Client(Plane.NewAccount("bob"), SignatureStyle.V3, _clock));
        return Task.CompletedTask;
    }

    private static async Task<List<JsonElement>> EventsAsync(Scenario who, object? filter = null)
    {
        var events = new List<JsonElement>();
        string? token = null;
        do
        {
            var parameters = EcsClient.Flatten(filter ?? new { }).Concat(token is null ? [] : [new("NextToken", token)]).Append(new("MaxResults", "2"));
            var page = await who.Api.CallAsync("DescribeActionTrail", parameters);
            events.AddRange(page.Items("Events", "Event"));
            token = page.Str("NextToken");
        }
        while (token.Length > 0);
        return events;
    }

    [Fact]
    public async Task Successes_CarryTheirRevision_RefusalsTheirCode_AndReadsAreNotOnIt()
    {
        var vpc = await _alice.VpcAsync();
        var sg = await _alice.GroupAsync(vpc, "trail");
        await _alice.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        var revision = Plane.Store.Read(s => s.LatestRevision(_aliceKey.AccountId));
        await ApiAssert.FailsAsync(() => _alice.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "65536/65536", SourceCidrIp = "10.0.0.0/8" }), "InvalidIpProtocol.Malformed", 400);
        await _alice.RulesAsync(sg);
        Assert.Equal(revision, Plane.Store.Read(s => s.LatestRevision(_aliceKey.AccountId)));

        var events = await EventsAsync(_alice);
        Assert.Equal(["AuthorizeSecurityGroup", "AuthorizeSecurityGroup", "CreateSecurityGroup", "CreateVpc"], events.Select(e => e.Str("ActionName")));
        var refused = events[0];
        Assert.Equal("InvalidIpProtocol.Malformed", refused.Str("ResultCode"));
        Assert.Equal(400, refused.GetProperty("HttpStatus").GetInt32());
        Assert.Equal("", refused.Str("Revision"));
        var done = events[1];
        Assert.Equal("OK", done.Str("ResultCode"));
        Assert.Equal(revision.ToString(CultureInfo.InvariantCulture), done.Str("Revision"));
        Assert.Equal(_aliceKey.AccessKeyId, done.Str("AccessKeyId"));
        Assert.Equal("2026-03-01T10:00:00Z", done.Str("EventTime"));
        var parameters = JsonDocument.Parse(done.Str("RequestParameters")).RootElement;
        Assert.Equal(sg, parameters.Str("SecurityGroupId"));
        Assert.Equal("22/22", parameters.Str("PortRange"));
        foreach (var envelope in new[] { "Signature", "AccessKeyId", "SignatureNonce", "Timestamp", "Action", "Version" })
            Assert.False(parameters.TryGetProperty(envelope, out _), envelope);
    }

    [Fact]
    public async Task ARefusalAfterAReadOfTheTrail_IsInTheNextRead()
    {
        // A refusal adds an event but no revision: an answer cached by revision would miss it.
        var sg = await _alice.GroupAsync(await _alice.VpcAsync(), "cached");
        Assert.Equal("CreateSecurityGroup", (await EventsAsync(_alice))[0].Str("ActionName"));
        await ApiAssert.FailsAsync(() => _alice.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "1-2", SourceCidrIp = "10.0.0.0/8" }), "InvalidParam.PortRange", 400);
        var events = await EventsAsync(_alice);
        Assert.Equal("AuthorizeSecurityGroup", events[0].Str("ActionName"));
        Assert.Equal("InvalidParam.PortRange", events[0].Str("ResultCode"));
    }

    [Fact]
    public void OnlyActionsWhoseAnswerIsAFunctionOfTheRevision_AreCached()
    {
        var uncached = Palisade.Server.Actions.ActionCatalog.FromAssembly().All.Where(a => !a.Mutates && !a.Cacheable).Select(a => a.Name).Order(StringComparer.Ordinal);
        // Rule usage (issue 20) comes from agents' reports, which add no revision, and is judged against the clock:
        // the audit's unused-rule and DescribeSecurityGroupRuleUsage are not a function of the revision either;
        // nor are observed flows (the audit's over-broad-rule, DescribeSecurityGroupObservedFlows). A host's policy fetch
        // (issue 17) is answered from the node's memory when proven current, and its key (the digests the agent holds) never repeats.
        Assert.Equal(["AuditSecurityGroups", "DescribeActionTrail", "DescribeChanges", "DescribeHostInterfaces", "DescribeHostPolicy", "DescribeSecurityGroupObservedFlows", "DescribeSecurityGroupRuleSuggestion", "DescribeSecurityGroupRuleUsage"], uncached);
    }

    [Fact]
    public async Task EveryRevisionOfTheAccount_HasExactlyOneSuccessfulEvent()
    {
        var vpc = await _alice.VpcAsync();
        var vsw = await _alice.VSwitchAsync(vpc);
        var sg = await _alice.GroupAsync(vpc, "one");
        var other = await _alice.GroupAsync(vpc, "two");
        var instance = (await _alice.RunAsync(sg, vsw)).Single();
        await _alice.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = other });
        await _alice.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        await _alice.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" }); // exists: succeeds, changes nothing
        var spare = await _alice.GroupAsync(vpc, "spare");
        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = spare, DryRun = true }), "DryRunOperation", 400);
        await _alice.Api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = other, InnerAccessPolicy = "Drop", ClientToken = "t-1" });
        await _alice.Api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = other, InnerAccessPolicy = "Drop", ClientToken = "t-1" }); // replayed

        // Keys made by the operator (palisade accesskey create) are not API calls; every other revision is one.
        var revisions = Plane.Store.Read(s => s.ListRevisions(_aliceKey.AccountId, 0, 1000)).Where(r => r.Action != "CreateAccessKey").Select(r => r.Revision.ToString(CultureInfo.InvariantCulture)).ToList();
        var events = await EventsAsync(_alice);
        var committed = events.Where(e => e.Str("Revision").Length > 0).Select(e => e.Str("Revision")).Reverse().ToList();
        Assert.Equal(revisions, committed);
        Assert.Equal(2, events.Count(e => e.Str("ResultCode") == "OK" && e.Str("Revision") == "" && e.Str("ActionName") is "AuthorizeSecurityGroup" or "ModifySecurityGroupPolicy"));
        Assert.Single(events, e => e.Str("ResultCode") == "DryRunOperation" && e.Str("ActionName") == "DeleteSecurityGroup");
    }

    [Fact]
    public async Task TheTrail_IsPerAccount_AndReadOnlyKeysRefusalsAreOnIt()
    {
        var sg = await _alice.GroupAsync(await _alice.VpcAsync(), "mine");
        var readerKey = Plane.Accounts.CreateAccessKey(_aliceKey.AccountId, readOnly: true);
        var reader = new Scenario(Plane.Client(readerKey, SignatureStyle.V1Post, _clock));
        await ApiAssert.FailsAsync(() => reader.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg }), "Forbidden.RAM", 403);
        // A request whose signature fails acts as nobody: it is not on anyone's trail.
        var forger = new EcsClient(Plane.Http, new ClientCredentials(_aliceKey.AccessKeyId, "wrong"), SignatureStyle.V3, _clock);
        await ApiAssert.FailsAsync(() => forger.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg }), "SignatureDoesNotMatch", 400);
        await ApiAssert.FailsAsync(() => _bob.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg }), "InvalidSecurityGroup.NotFound", 404);

        var alices = await EventsAsync(reader); // a read-only key may read its account's trail
        Assert.Equal(["DeleteSecurityGroup", "CreateSecurityGroup", "CreateVpc"], alices.Select(e => e.Str("ActionName")));
        Assert.Equal(("Forbidden.RAM", readerKey.AccessKeyId), (alices[0].Str("ResultCode"), alices[0].Str("AccessKeyId")));
        var bobs = Assert.Single(await EventsAsync(_bob));
        Assert.Equal("InvalidSecurityGroup.NotFound", bobs.Str("ResultCode"));
    }

    [Fact]
    public async Task Filters_ByTimeAndAction_AndPaging()
    {
        await _alice.VpcAsync();
        _clock.Advance(TimeSpan.FromHours(1));
        var vpc = await _alice.VpcAsync("10.0.0.0/16");
        _clock.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 5; i++)
            await _alice.GroupAsync(vpc, $"g{i}");

        Assert.Equal(7, (await EventsAsync(_alice)).Count);
        Assert.Equal(5, (await EventsAsync(_alice, new { ActionName = "CreateSecurityGroup" })).Count);
        Assert.Equal(6, (await EventsAsync(_alice, new { StartTime = "2026-03-01T11:00:00Z" })).Count);
        Assert.Equal(2, (await EventsAsync(_alice, new { EndTime = "2026-03-01T11:00:00Z" })).Count);
        Assert.Single(await EventsAsync(_alice, new { StartTime = "2026-03-01T10:30:00Z", EndTime = "2026-03-01T11:30:00Z" }));
        var ids = (await EventsAsync(_alice)).Select(e => long.Parse(e.Str("EventId"), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());

        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("DescribeActionTrail", new { StartTime = "yesterday" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("DescribeActionTrail", new { StartTime = "2026-03-02T00:00:00Z", EndTime = "2026-03-01T00:00:00Z" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("DescribeActionTrail", new { NextToken = "abc" }), "InValidParameter.NextToken", 400);
        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("DescribeActionTrail", new { MaxResults = 101 }), "InvalidParameter", 400);
    }

    [Fact]
    public async Task SecretsAndHugeValues_StayOffTheTrail()
    {
        var vpc = await _alice.VpcAsync();
        var vsw = await _alice.VSwitchAsync(vpc);
        var sg = await _alice.GroupAsync(vpc, "secrets");
        await _alice.Api.CallAsync("RunInstances", new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", SecurityGroupId = sg, VSwitchId = vsw, Password = "Sup3r-Secret-Pa55" });
        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("ModifySecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = sg, Description = new string('x', 100_000) }), "InvalidSecurityGroupDiscription.Malformed", 400);

        var events = await EventsAsync(_alice);
        var all = string.Join("\n", events.Select(e => e.GetRawText()));
        Assert.DoesNotContain("Sup3r-Secret-Pa55", all);
        Assert.DoesNotContain(_aliceKey.AccessKeySecret, all);
        var run = events.Single(e => e.Str("ActionName") == "RunInstances");
        Assert.Equal("******", JsonDocument.Parse(run.Str("RequestParameters")).RootElement.Str("Password"));
        var modify = events.Single(e => e.Str("ActionName") == "ModifySecurityGroupAttribute");
        Assert.True(modify.Str("RequestParameters").Length < 2_000, "a 100,000-character value is cut");
    }

    [Fact]
    public async Task TheTrail_ReadsInXml_WhateverTheParametersHeld()
    {
        var sg = await _alice.GroupAsync(await _alice.VpcAsync(), "xml");
        await ApiAssert.FailsAsync(() => _alice.Api.CallAsync("ModifySecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = sg, Description = "bad\u0001\u001f\u202e😀<&>]]>" }),
            "InvalidSecurityGroupDiscription.Malformed", 400);
        var xml = await Plane.Client(_aliceKey, SignatureStyle.V1Get, _clock).SendAsync("DescribeActionTrail", [new("Format", "XML")]);
        Assert.Equal(200, xml.Status);
        var events = System.Xml.Linq.XDocument.Parse(xml.Body).Root!.Element("Events")!.Elements("Event").ToList();
        Assert.Equal(3, events.Count);
        Assert.Equal("InvalidSecurityGroupDiscription.Malformed", events[0].Element("ResultCode")!.Value);
        Assert.Equal("bad\u0001\u001f\u202e😀<&>]]>", JsonDocument.Parse(events[0].Element("RequestParameters")!.Value).RootElement.Str("Description"));
    }

    /// <summary>Regression: a long value was cut inside a surrogate pair, which the trail kept as U+FFFD.</summary>
    [Fact]
    public async Task AValueCutForTheTrail_NeverSplitsACharacter()
    {
        var long1 = new string('a', 1023) + "😀" + new string('b', 10);
        await _alice.Api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "10.0.0.0/16", Unused = long1 }, ApiVersions.Vpc);
        var parameters = JsonDocument.Parse((await EventsAsync(_alice)).Single().Str("RequestParameters")).RootElement;
        Assert.Equal(new string('a', 1023) + "…", parameters.Str("Unused"));
    }

    [Fact]
    public async Task EventsPastTheRetention_AreDeleted()
    {
        await _alice.VpcAsync();
        _clock.Advance(TimeSpan.FromDays(60));
        await _alice.VpcAsync("10.0.0.0/16");
        var retention = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Palisade.Server.Hosting.TrailRetention>(Plane.Services);
        Assert.Equal(0, retention.PurgeOnce());
        _clock.Advance(TimeSpan.FromDays(31)); // the first is 91 days old, the second 31
        Assert.Equal(1, retention.PurgeOnce());
        Assert.Equal("2026-04-30T10:00:00Z", Assert.Single(await EventsAsync(_alice)).Str("EventTime"));
    }
}
