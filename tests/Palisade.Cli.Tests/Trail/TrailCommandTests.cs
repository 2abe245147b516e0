using System.Text.Json;
using Palisade.Storage.Records;
using Palisade.Storage.Sqlite;

namespace Palisade.Cli.Tests.Trail;

public sealed class TrailCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-cli-trail-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    private static ActionTrailEntry Event(long account, string action, int hour, string code = "OK") =>
        new(new DateTimeOffset(2026, 3, 1, hour, 0, 0, TimeSpan.Zero), account, "LTAIexample", action, "2014-05-26", $"REQ-{hour}", "{\"RegionId\":\"cn-hangzhou\"}", code == "OK" ? 200 : 400, code);

    [Fact]
    public void Trail_ListsTheAccountsEvents_NewestFirst_WithFilters()
    {
        Assert.Equal(ExitCodes.Ok, CliTester.Run("account", "create", "--name", "team-a", "--data", _data).ExitCode);
        Assert.Equal(ExitCodes.Ok, CliTester.Run("account", "create", "--name", "team-b", "--data", _data).ExitCode);
        using (var store = new SqliteStore(Path.Combine(_data, "palisade.db")))
        {
            var a = store.Read(s => s.FindAccountByName("team-a"))!.AccountId;
            var b = store.Read(s => s.FindAccountByName("team-b"))!.AccountId;
            store.Write("CreateVpc", a, s => { s.AddTrail(Event(a, "CreateVpc", 9)); return 0; });
            store.RecordTrail(Event(a, "AuthorizeSecurityGroup", 10, "InvalidParam.PortRange"));
            store.RecordTrail(Event(b, "DeleteVpc", 11));
        }

        var all = CliTester.Run("trail", "--account", "team-a", "--data", _data);
        Assert.Equal((ExitCodes.Ok, ""), (all.ExitCode, all.Error));
        Assert.Equal(
            "2026-03-01T10:00:00Z  InvalidParam.PortRange  -  AuthorizeSecurityGroup  LTAIexample  REQ-10  {\"RegionId\":\"cn-hangzhou\"}\n" +
            "2026-03-01T09:00:00Z  OK  -  CreateVpc  LTAIexample  REQ-9  {\"RegionId\":\"cn-hangzhou\"}\n", all.Output);

        var filtered = CliTester.Run("trail", "--account", "team-a", "--action", "CreateVpc", "--until", "2026-03-01T09:30:00Z", "--json", "--data", _data);
        var events = JsonDocument.Parse(filtered.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal("REQ-9", Assert.Single(events).GetProperty("RequestId").GetString());
        Assert.Empty(JsonDocument.Parse(CliTester.Run("trail", "--account", "team-a", "--since", "2026-03-02T00:00:00Z", "--json", "--data", _data).Output).RootElement.EnumerateArray());

        var bad = CliTester.Run("trail", "--account", "team-a", "--since", "yesterday", "--data", _data);
        Assert.Equal((ExitCodes.BadInput, "error: --since 'yesterday' is not a UTC time in the form yyyy-MM-ddTHH:mm:ssZ\n"), (bad.ExitCode, bad.Error));
        var nobody = CliTester.Run("trail", "--account", "nobody", "--data", _data);
        Assert.Equal((ExitCodes.BadInput, "error: no account named or numbered 'nobody'\n"), (nobody.ExitCode, nobody.Error));
    }
    /// <summary>An event no key made is the operator's bind or unbind of the account's NIC (issue 18): shown as such.</summary>
    [Fact]
    public void TheOperatorsEvents_AreShownAsTheOperators()
    {
        Assert.Equal(ExitCodes.Ok, CliTester.Run("account", "create", "--name", "team-a", "--data", _data).ExitCode);
        using (var store = new SqliteStore(Path.Combine(_data, "palisade.db")))
        {
            var a = store.Read(s => s.FindAccountByName("team-a"))!.AccountId;
            store.Write("BindHostInterface", a, s =>
            {
                s.AddTrail(new ActionTrailEntry(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), a, "", "BindHostInterface", "", "REQ-9",
                    "{\"InstanceId\":\"i-bp1a\",\"HostName\":\"node-1\",\"InterfaceName\":\"vnet0\"}", 200, ActionTrailEntry.Ok));
                return 0;
            });
        }
        var shown = CliTester.Run("trail", "--account", "team-a", "--data", _data);
        Assert.Equal("2026-03-01T09:00:00Z  OK  -  BindHostInterface  (operator)  REQ-9  {\"InstanceId\":\"i-bp1a\",\"HostName\":\"node-1\",\"InterfaceName\":\"vnet0\"}\n", shown.Output);
        Assert.Equal("", JsonDocument.Parse(CliTester.Run("trail", "--account", "team-a", "--json", "--data", _data).Output).RootElement[0].GetProperty("AccessKeyId").GetString());
    }
}
