using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.State;
using Palisade.Storage.Accounts;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The RAM-style key actions (2015-05-01) a key uses on its own account, and ExportSecurityState:
/// shapes, errors from the catalogue, isolation between accounts, read-only keys.
/// </summary>
public sealed class AccessKeyActionTests : ControlPlaneTest
{
    private const string Ram = ApiVersions.Ram;
    private AccountService.NewKey _aliceKey = null!;
    private AccountService.NewKey _bobKey = null!;
    private EcsClient _alice = null!;
    private EcsClient _bob = null!;

    protected override Task SetUpAsync()
    {
        _aliceKey = Plane.NewAccount("alice");
        _bobKey = Plane.NewAccount("bob");
        _alice = Plane.Client(_aliceKey);
        _bob = Plane.Client(_bobKey);
        return Task.CompletedTask;
    }

    private EcsClient As(string id, string secret) => new(Plane.Http, new ClientCredentials(id, secret));

    private async Task<List<JsonElement>> KeysAsync(EcsClient client) =>
        [.. (await client.CallAsync("ListAccessKeys", new { }, Ram)).Items("AccessKeys", "AccessKey")];

    [Fact]
    public async Task AKey_CreatesListsDisablesEnablesAndDeletes_ItsAccountsKeys()
    {
        var created = (await _alice.CallAsync("CreateAccessKey", new { }, Ram)).GetProperty("AccessKey");
        var id = created.Str("AccessKeyId");
        var secret = created.Str("AccessKeySecret");
        Assert.Matches("^LTAI[A-Za-z0-9]{20}$", id);
        Assert.Equal(30, secret.Length);
        Assert.Equal("Active", created.Str("Status"));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", created.Str("CreateDate"));
        Assert.False(created.GetProperty("ReadOnly").GetBoolean());
        // The new key signs at once, for the same account.
        Assert.Equal(2, (await KeysAsync(As(id, secret))).Count);

        // Listed without secrets.
        var listing = await _alice.SendAsync("ListAccessKeys", [], Ram);
        Assert.DoesNotContain(secret, listing.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(_aliceKey.AccessKeySecret, listing.Body, StringComparison.Ordinal);
        var keys = await KeysAsync(_alice);
        Assert.Equal(new[] { _aliceKey.AccessKeyId, id }.Order(StringComparer.Ordinal), keys.Select(k => k.Str("AccessKeyId")).Order(StringComparer.Ordinal));
        Assert.All(keys, k => Assert.Equal(["AccessKeyId", "Status", "CreateDate", "ReadOnly"], k.EnumerateObject().Select(p => p.Name)));

        // Disabled: its requests are refused; enabled again: listed Active.
        var spare = (await _alice.CallAsync("CreateAccessKey", new { }, Ram)).GetProperty("AccessKey");
        await _alice.CallAsync("UpdateAccessKey", new { UserAccessKeyId = spare.Str("AccessKeyId"), Status = "Inactive" }, Ram);
        Assert.Equal("Inactive", (await KeysAsync(_alice)).Single(k => k.Str("AccessKeyId") == spare.Str("AccessKeyId")).Str("Status"));
        await ApiAssert.FailsAsync(() => As(spare.Str("AccessKeyId"), spare.Str("AccessKeySecret")).CallAsync("DescribeRegions", new { }), "InvalidAccessKeyId.Inactive", 400);
        await _alice.CallAsync("UpdateAccessKey", new { UserAccessKeyId = spare.Str("AccessKeyId"), Status = "Active" }, Ram);
        Assert.Equal("Active", (await KeysAsync(_alice)).Single(k => k.Str("AccessKeyId") == spare.Str("AccessKeyId")).Str("Status"));

        // Deleted: gone from the list, and its requests find no key. (The first new key deletes the old one.)
        await As(id, secret).CallAsync("DeleteAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId }, Ram);
        Assert.Equal(new[] { id, spare.Str("AccessKeyId") }.Order(StringComparer.Ordinal), (await KeysAsync(As(id, secret))).Select(k => k.Str("AccessKeyId")).Order(StringComparer.Ordinal));
        Assert.Null(Plane.Store.Read(s => s.FindAccessKey(_aliceKey.AccessKeyId)));
        // Each change is on the account's trail, without the secret.
        var trail = Plane.Store.Read(s => s.ListTrail(new Storage.Records.ActionTrailQuery(_aliceKey.AccountId, Max: 50)));
        Assert.Equal(["CreateAccessKey", "CreateAccessKey", "UpdateAccessKey", "UpdateAccessKey", "DeleteAccessKey"], trail.Select(t => t.Entry.Action).Reverse());
        Assert.DoesNotContain(trail, t => t.Entry.Parameters.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mistakes_GetCataloguedErrors_AndChangeNothing()
    {
        var bobs = _bobKey.AccessKeyId;
        // Another account's key is not found, whatever is asked of it, and stays as it was.
        await ApiAssert.FailsAsync(() => _alice.CallAsync("UpdateAccessKey", new { UserAccessKeyId = bobs, Status = "Inactive" }, Ram), "EntityNotExist.User.AccessKey", 404);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("DeleteAccessKey", new { UserAccessKeyId = bobs }, Ram), "EntityNotExist.User.AccessKey", 404);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("DeleteAccessKey", new { UserAccessKeyId = "LTAInothere" }, Ram), "EntityNotExist.User.AccessKey", 404);
        Assert.Equal("Active", (await KeysAsync(_bob)).Single().Str("Status"));
        // The key that signs cannot cut itself off (re-enabling itself is harmless).
        var self = await ApiAssert.FailsAsync(() => _alice.CallAsync("DeleteAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId }, Ram), "OperationDenied.AccessKeyInUse", 403);
        Assert.Contains(_aliceKey.AccessKeyId, self.EcsMessage, StringComparison.Ordinal);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("UpdateAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId, Status = "Inactive" }, Ram), "OperationDenied.AccessKeyInUse", 403);
        await _alice.CallAsync("UpdateAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId, Status = "Active" }, Ram);
        // Parameters.
        await ApiAssert.FailsAsync(() => _alice.CallAsync("UpdateAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId, Status = "Disabled" }, Ram), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("UpdateAccessKey", new { Status = "Active" }, Ram), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("DeleteAccessKey", new { }, Ram), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("CreateAccessKey", new { UserName = "bob" }, Ram), "EntityNotExist.User", 404);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("ListAccessKeys", new { UserName = "alice" }, Ram), "EntityNotExist.User", 404);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("CreateAccessKey", new { ClientToken = "once" }, Ram), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("CreateAccessKey", new { DryRun = true }, Ram), "DryRunOperation", 400);
        // The RAM actions answer RAM's version only.
        await ApiAssert.FailsAsync(() => _alice.CallAsync("ListAccessKeys", new { }), "InvalidAction.NotFound", 404);
        Assert.Single(await KeysAsync(_alice));
        Assert.Single(await KeysAsync(_bob));
    }

    [Fact]
    public async Task ReadOnlyKeys_ListButNeverChangeKeys()
    {
        var reader = Plane.Client(Plane.Accounts.CreateAccessKey(_aliceKey.AccountId, readOnly: true));
        var keys = await KeysAsync(reader);
        Assert.Equal([false, true], keys.Select(k => k.GetProperty("ReadOnly").GetBoolean()).Order());
        await ApiAssert.FailsAsync(() => reader.CallAsync("CreateAccessKey", new { }, Ram), "Forbidden.RAM", 403);
        await ApiAssert.FailsAsync(() => reader.CallAsync("UpdateAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId, Status = "Inactive" }, Ram), "Forbidden.RAM", 403);
        await ApiAssert.FailsAsync(() => reader.CallAsync("DeleteAccessKey", new { UserAccessKeyId = _aliceKey.AccessKeyId }, Ram), "Forbidden.RAM", 403);
        Assert.Equal(2, (await KeysAsync(_alice)).Count(k => k.Str("Status") == "Active"));
        // A read-write key may make a read-only one, which is refused changes in turn.
        var made = (await _alice.CallAsync("CreateAccessKey", new { ReadOnly = true }, Ram)).GetProperty("AccessKey");
        Assert.True(made.GetProperty("ReadOnly").GetBoolean());
        await ApiAssert.FailsAsync(() => As(made.Str("AccessKeyId"), made.Str("AccessKeySecret")).CallAsync("CreateAccessKey", new { }, Ram), "Forbidden.RAM", 403);
    }

    [Fact]
    public async Task ExportSecurityState_IsTheCallersRegion_AsAStateFile()
    {
        var alice = new Scenario(_alice);
        var vpc = await alice.VpcAsync();
        var vsw = await alice.VSwitchAsync(vpc);
        var web = await alice.GroupAsync(vpc, "web");
        await alice.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        await alice.RunAsync(web, vsw);
        var bob = new Scenario(_bob);
        await bob.GroupAsync(await bob.VpcAsync(), "bobs-own");

        // Read-only keys may export; the answer is the store's own export, and nothing of Bob's.
        var reader = Plane.Client(Plane.Accounts.CreateAccessKey(_aliceKey.AccountId, readOnly: true));
        var answer = await reader.CallAsync("ExportSecurityState", new { RegionId = Region });
        var state = answer.GetProperty("State").GetRawText();
        var stored = Plane.Store.Read(s => StateExport.Json(s, _aliceKey.AccountId, Region));
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(stored).RootElement), JsonSerializer.Serialize(answer.GetProperty("State")));
        Assert.DoesNotContain("bobs-own", state, StringComparison.Ordinal);
        Assert.Equal(Plane.Store.Read(s => s.LatestRevision(_aliceKey.AccountId)), answer.GetProperty("AccountRevision").GetInt64());
        var read = StateFileReader.Read(state);
        Assert.Equal([web], read.Groups.Select(g => g.Id.Value));
        Assert.Single(read.Instances);
        await ApiAssert.FailsAsync(() => _alice.CallAsync("ExportSecurityState", new { }), "MissingParameter.RegionId", 400);
        // In XML (V1's default) the state's bare lists hold their items under the singular name.
        var xml = await _alice.SendAsync("ExportSecurityState", [new("RegionId", Region), new("Format", "XML")]);
        Assert.Equal(200, xml.Status);
        var document = System.Xml.Linq.XDocument.Parse(xml.Body);
        Assert.Equal(web, document.Descendants("SecurityGroups").Single().Elements("SecurityGroup").Single().Element("SecurityGroupId")!.Value);
        Assert.Single(document.Descendants("Instances").Single().Elements("Instance"));
        // Another region of the account is empty, not an error.
        Assert.Empty(StateFileReader.Read((await _alice.CallAsync("ExportSecurityState", new { RegionId = "cn-beijing" })).GetProperty("State").GetRawText()).Groups);
    }
}
