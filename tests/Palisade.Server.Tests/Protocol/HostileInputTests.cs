using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Palisade.Client;
using Palisade.Domain.Errors;
using Palisade.Server.Actions;
using Palisade.Server.Tests.Support;
using Palisade.Storage.Backup;
using Palisade.Storage.Records;
using Palisade.TestKit;
using Xunit.Abstractions;
using Palisade.Domain.Ecs;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Generated hostile requests to every action of the catalogue: valid requests with one to three
/// fields broken (boundary ports, bad masks, mapped IPv6, overlong and control-character strings,
/// Unicode, duplicated and out-of-range list parameters, JSON-array parameters that are not JSON),
/// and wholly random ones. Every answer must be a success or a 4xx with a catalogued code, within
/// a deadline; after every refused request the store's full dump (every table but the action
/// trail, which records refusals by design) hashes the same as before; and the other account's
/// resources never show up in an answer and never change.
/// </summary>
public sealed partial class HostileInputTests(ITestOutputHelper output) : ControlPlaneTest
{
    private EcsClient[] _clients = null!;
    private readonly List<string> _ids = [];
    private readonly List<string> _victimIds = [];
    private string[] _victimMarkers = [];
    private long _victimAccount;
    private string _victimKeyId = "";
    private long _attackerAccount;
    private Palisade.Storage.Accounts.AccountService.NewKey _attacker = null!;
    private long _setupRevision;

    // Shared with VictimMarker: unique strings of the other account that no answer to the attacker may hold.
    private const string VictimGroupName = "victimVaultGroup";
    private const string VictimDescription = "victim-private-description";
    private const string VictimTag = "victimTagSecret";

    private static readonly HashSet<string> IdFields = ["SecurityGroupId", "InstanceId", "VpcId", "VSwitchId", "SecurityGroupRuleId", "ResourceId"];

    /// <summary>A field of a JSON answer that names one of the other account's resources as a resource of the answer.</summary>
    private string? LeakedId(EcsResponse response)
    {
        if (!response.ContentType.Contains("json", StringComparison.Ordinal))
            return null;
        string? Walk(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if (IdFields.Contains(p.Name) && p.Value.ValueKind == JsonValueKind.String && _victimIds.Contains(p.Value.GetString()!))
                            return $"{p.Name}={p.Value.GetString()}";
                        if (Walk(p.Value) is { } found)
                            return found;
                    }
                    return null;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        if (Walk(item) is { } found)
                            return found;
                    }
                    return null;
                default:
                    return null;
            }
        }
        return Walk(response.Json);
    }

    protected override async Task SetUpAsync()
    {
        var attacker = Plane.NewAccount("attacker");
        _attacker = attacker;
        _attackerAccount = attacker.AccountId;
        _clients = [Plane.Client(attacker), Plane.Client(attacker, SignatureStyle.V1Get), Plane.Client(attacker, SignatureStyle.V1Post)];
        var s = new Scenario(_clients[0]);
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var sg = await s.GroupAsync(vpc, "target");
        var peer = await s.GroupAsync(vpc, "peer");
        var advanced = await s.GroupAsync(vpc, "advanced", "enterprise");
        var classic = await s.GroupAsync(null, "classic");
        await s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0" });
        var rule = (await s.RulesAsync(sg)).Single().Str("SecurityGroupRuleId");
        _ids.AddRange([vpc, vsw, sg, peer, advanced, classic, rule, .. await s.RunAsync(sg, vsw)]);

        var victimKey = Plane.NewAccount("victim");
        _victimAccount = victimKey.AccountId;
        _victimKeyId = victimKey.AccessKeyId;
        var v = new Scenario(Plane.Client(victimKey));
        var vVpc = await v.VpcAsync();
        var vVsw = await v.VSwitchAsync(vVpc);
        var vSg = (await v.Api.CallAsync("CreateSecurityGroup", new { RegionId = Scenario.Region, VpcId = vVpc, SecurityGroupName = VictimGroupName, Description = VictimDescription })).Str("SecurityGroupId");
        await v.AuthorizeAsync(vSg, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "10.9.9.0/24" });
        var vRule = (await v.RulesAsync(vSg)).Single().Str("SecurityGroupRuleId");
        var vInstances = await v.RunAsync(vSg, vVsw);
        _victimIds.AddRange([vVpc, vVsw, vSg, vRule, .. vInstances]);
        await v.Api.CallAsync("TagResources", new { RegionId = Scenario.Region, ResourceType = "securitygroup", ResourceId = new[] { vSg }, Tag = new[] { new { Key = VictimTag, Value = VictimTag } } });
        // Strings the generator never sends: no answer to the attacker may hold them. (IDs are checked
        // by the fields they stand in, since the generator also sends the victim's IDs as free text.)
        _victimMarkers = [VictimGroupName, VictimDescription, VictimTag];
        _setupRevision = Plane.Store.Read(s => s.LatestRevision(_victimAccount));
    }

    /// <summary>20,000 per run on SQLite, 3,000 on PostgreSQL (each answer checks a full dump of the store); PALISADE_FUZZ_ITERATIONS sets another count, PALISADE_FUZZ_SEED a seed.</summary>
    private static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("PALISADE_FUZZ_ITERATIONS"), out var n) ? n : TestStores.OnPostgres ? 3_000 : 20_000;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly HashSet<string> Catalogued = [.. typeof(EcsErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    [Fact]
    public async Task GeneratedRequests_GetASuccessOrACataloguedError_AndRefusedOnesChangeNothing()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PALISADE_FUZZ_SEED"), out var given) ? given : Environment.TickCount;
        var random = new Random(seed);
        var actions = ActionCatalog.FromAssembly().All.OrderBy(a => a.Name, StringComparer.Ordinal).ToArray();
        var failures = new List<string>();
        using var commits = StoreCommits.Watch(Plane, DigestedTables());
        commits.Moved();
        var digest = Digest();
        var newestEvent = NewestEvent();
        var started = System.Diagnostics.Stopwatch.StartNew();
        int count = 0, successes = 0;
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Iterations; i++)
        {
            var action = actions[random.Next(actions.Length)];
            var parameters = Generate(random, action.Name);
            var client = _clients[random.Next(_clients.Length)];
            using var deadline = new CancellationTokenSource(Deadline);
            EcsResponse response;
            try
            {
                response = await client.SendAsync(action.Name, parameters, action.Version, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                failures.Add($"{Describe(action.Name, parameters)} -> no answer within {Deadline.TotalSeconds} s");
                continue;
            }
            count++;
            if (TrailProblem(action, response, ref newestEvent) is { } trailProblem)
                failures.Add($"{Describe(action.Name, parameters)} -> {trailProblem}");
            if (response.IsSuccess)
            {
                successes++;
                if ((_victimMarkers.FirstOrDefault(m => response.Body.Contains(m, StringComparison.Ordinal)) ?? LeakedId(response)) is { } leaked)
                    failures.Add($"{Describe(action.Name, parameters)} -> succeeded and showed the other account's '{leaked}'");
                Remember(response.Body);
                commits.Moved();
                digest = Digest();
                continue;
            }
            var code = CodeOf(response);
            codes[code ?? "?"] = codes.GetValueOrDefault(code ?? "?") + 1;
            if (response.Status is < 400 or >= 500)
                failures.Add($"{Describe(action.Name, parameters)} -> HTTP {response.Status} {Short(response.Body, 300)}");
            else if (code is null || !Catalogued.Contains(code))
                failures.Add($"{Describe(action.Name, parameters)} -> HTTP {response.Status} with an uncatalogued code '{code}': {Short(response.Body, 300)}");
            // Nothing committed to the digested tables since the digest was taken: it is still the store's.
            else if (commits.Moved() && Digest() is var after && after != digest)
            {
                failures.Add($"{Describe(action.Name, parameters)} -> refused ({code}) but changed the store");
                digest = after;
            }
            if (failures.Count >= 20)
                break;
        }
        output.WriteLine($"seed {seed}: {count} requests in {started.Elapsed.TotalSeconds:F1} s, {successes} succeeded; codes: {string.Join(", ", codes.OrderByDescending(c => c.Value).Take(25).Select(c => $"{c.Key} {c.Value}"))}");
        Assert.True(failures.Count == 0, $"seed {seed} (PALISADE_FUZZ_SEED reproduces it):\n" + string.Join("\n", failures));
        Assert.Equal(Iterations, count);
        // The other account's resources were named all along, and never changed.
        Assert.Empty(Plane.Store.Read(s => s.ListRevisions(_victimAccount, _setupRevision, 10)));
        // The run reached past the parameter checks: a share of the requests succeeded.
        Assert.True(successes > Iterations / 50, $"only {successes} of {count} requests succeeded: the generator no longer reaches the actions");
    }

    private ActionTrailRecord? NewestEvent() =>
        Plane.Store.Read(s => s.ListTrail(new ActionTrailQuery(_attackerAccount, Max: 1))).SingleOrDefault();

    /// <summary>
    /// The action trail moves exactly as it should: a successful mutating call adds its event (by
    /// its RequestId); a refused one adds at most its own, with its code; a read adds none.
    /// </summary>
    private string? TrailProblem(IEcsAction action, EcsResponse response, ref ActionTrailRecord? newest)
    {
        var now = NewestEvent();
        var added = now is not null && now.EventId != newest?.EventId;
        newest = now;
        if (!action.Mutates)
            return added ? "a read added an action-trail event" : null;
        var requestId = RequestIdOf(response);
        if (response.IsSuccess)
        {
            return added && now!.Entry.RequestId == requestId && now.Entry.ResultCode == "OK" ? null
                : $"succeeded but the newest action-trail event is {now?.Entry.RequestId} {now?.Entry.ResultCode}, not {requestId} OK";
        }
        return !added || (now!.Entry.RequestId == requestId && now.Entry.ResultCode == CodeOf(response) && now.Revision is null) ? null
            : $"refused ({CodeOf(response)}) but the action trail gained {now.Entry.RequestId} {now.Entry.ResultCode} revision {now.Revision}";
    }

    private static string? RequestIdOf(EcsResponse response)
    {
        try
        {
            return response.ContentType.Contains("xml", StringComparison.Ordinal)
                ? System.Xml.Linq.XDocument.Parse(response.Body).Root?.Element("RequestId")?.Value
                : response.Json.TryGetProperty("RequestId", out var id) ? id.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            return null;
        }
    }

    /// <summary>
    /// The same generator from four workers at once (no store check per request, which needs one
    /// request at a time): races between hostile requests get no 5xx either, and the other account
    /// still never changes. 2,000 requests (PALISADE_FUZZ_CONCURRENT sets another count).
    /// </summary>
    [Fact]
    public async Task ConcurrentGeneratedRequests_GetNo5xx()
    {
        var total = int.TryParse(Environment.GetEnvironmentVariable("PALISADE_FUZZ_CONCURRENT"), out var n) ? n : 2_000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PALISADE_FUZZ_SEED"), out var given) ? given : Environment.TickCount;
        var actions = ActionCatalog.FromAssembly().All.OrderBy(a => a.Name, StringComparer.Ordinal).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var gate = new Lock();
        async Task Worker(int index)
        {
            var random = new Random(seed + index);
            for (var i = 0; i < total / 4 && failures.Count < 20; i++)
            {
                var action = actions[random.Next(actions.Length)];
                List<KeyValuePair<string, string>> parameters;
                lock (gate)
                    parameters = Generate(random, action.Name); // the ID pool is shared
                using var deadline = new CancellationTokenSource(Deadline);
                var response = await _clients[random.Next(_clients.Length)].SendAsync(action.Name, parameters, action.Version, deadline.Token);
                if (response.IsSuccess)
                {
                    lock (gate)
                        Remember(response.Body);
                }
                else if (response.Status is < 400 or >= 500 || CodeOf(response) is not { } code || !Catalogued.Contains(code))
                    failures.Enqueue($"{Describe(action.Name, parameters)} -> HTTP {response.Status} {Short(response.Body, 300)}");
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 4).Select(Worker));
        Assert.True(failures.IsEmpty, $"seed {seed}:\n" + string.Join("\n", failures));
        Assert.Empty(Plane.Store.Read(s => s.ListRevisions(_victimAccount, _setupRevision, 10)));
    }

    /// <summary>The whole store but the action trail, hashed: two equal digests mean byte-for-byte equal tables.</summary>
    private string Digest()
    {
        using var buffer = new MemoryStream();
        StoreBackup.Write(Plane.Store, buffer, ["action_trail"], indented: false);
        return Convert.ToHexString(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    /// <summary>The tables <see cref="Digest"/> covers, as its dump names them.</summary>
    private string[] DigestedTables()
    {
        using var buffer = new MemoryStream();
        StoreBackup.Write(Plane.Store, buffer, ["action_trail"], indented: false);
        using var dump = JsonDocument.Parse(buffer.ToArray());
        return [.. dump.RootElement.GetProperty("tables").EnumerateObject().Select(t => t.Name)];
    }

    /// <summary>
    /// Whether anything may have been committed to the digested tables since the last look: when nothing
    /// was, the store's digest is the one taken after that look, and a refused request need not take it
    /// again (it took 1.4 ms of each request's 2.7 ms on SQLite, 5.7 of 9 on PostgreSQL; nearly every
    /// refused request commits nothing). So the check is as strong as a digest after every request:
    /// a digest is taken whenever something may have changed. On SQLite, the file's <c>data_version</c>,
    /// which moves with every commit of another connection (every one of the server's) to any table. On
    /// PostgreSQL, a row added in the same transaction by every statement that writes a digested table
    /// (triggers fired however the session is set, <c>ENABLE ALWAYS</c>) and by every schema change: counted
    /// once it commits, never if it rolls back, as the digest sees the tables.
    /// </summary>
    private sealed class StoreCommits : IDisposable
    {
        private readonly System.Data.Common.DbConnection? _connection;
        private readonly string _look;
        private long _last = -1;

        private StoreCommits(System.Data.Common.DbConnection? connection, string look) => (_connection, _look) = (connection, look);

        public static StoreCommits Watch(TestControlPlane plane, IReadOnlyList<string> tables)
        {
            var (directory, database) = plane.Location;
            if (database is null)
            {
                var file = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
                {
                    DataSource = Path.Combine(directory, "palisade.db"),
                    Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
                }.ToString());
                file.Open();
                return new StoreCommits(file, "PRAGMA data_version");
            }
            var connection = new Npgsql.NpgsqlConnection(database);
            connection.Open();
            using (var install = connection.CreateCommand())
            try
            {
                install.CommandText = $$"""
                    CREATE TABLE palisade_test_writes (n bigserial PRIMARY KEY);
                    CREATE FUNCTION palisade_test_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO palisade_test_writes DEFAULT VALUES; RETURN NULL; END $$;
                    CREATE FUNCTION palisade_test_schema_change() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO palisade_test_writes DEFAULT VALUES; END $$;
                    {{string.Concat(tables.Select(t => $"""
                        CREATE TRIGGER palisade_test_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{t}" FOR EACH STATEMENT EXECUTE FUNCTION palisade_test_write();
                        ALTER TABLE "{t}" ENABLE ALWAYS TRIGGER palisade_test_write;
                        """))}}
                    CREATE EVENT TRIGGER palisade_test_schema_change ON ddl_command_end EXECUTE FUNCTION palisade_test_schema_change();
                    ALTER EVENT TRIGGER palisade_test_schema_change ENABLE ALWAYS;
                    """;
                install.ExecuteNonQuery();
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
            {
                // An event trigger needs a superuser: without one, every refused request is digested, as before.
                connection.Dispose();
                return new StoreCommits(null, "");
            }
            return new StoreCommits(connection, "SELECT count(*) FROM palisade_test_writes");
        }

        /// <summary>True when something may have been committed since the last call (or this is the first).</summary>
        public bool Moved()
        {
            if (_connection is null)
                return true;
            using var look = _connection.CreateCommand();
            look.CommandText = _look;
            var now = Convert.ToInt64(look.ExecuteScalar(), CultureInfo.InvariantCulture);
            var moved = now != _last;
            _last = now;
            return moved;
        }

        public void Dispose() => _connection?.Dispose();
    }

    [GeneratedRegex(@"\b(?:sg|sgr|i|vpc|vsw)-[0-9a-z_]{6,40}\b")]
    private static partial Regex IdPattern();

    /// <summary>IDs a success created join the pool, so later requests reach deeper (a new group gets rules, a new instance joins groups).</summary>
    private void Remember(string body)
    {
        foreach (Match m in IdPattern().Matches(body))
        {
            if (_ids.Count < 300 && !_ids.Contains(m.Value) && !_victimIds.Contains(m.Value))
                _ids.Add(m.Value);
        }
    }

    private static string? CodeOf(EcsResponse response)
    {
        try
        {
            return response.Code;
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            return null;
        }
    }

    private List<KeyValuePair<string, string>> Generate(Random r, string action)
    {
        var template = Template(r, action);
        var roll = r.Next(100);
        if (roll < 12)
            return template; // valid as far as the template knows: keeps the state moving
        if (roll < 30)
        {
            // Wholly random names and values.
            var list = new List<KeyValuePair<string, string>>();
            if (r.Next(3) > 0)
                list.Add(new("RegionId", "cn-hangzhou"));
            for (var n = r.Next(0, 9); n > 0; n--)
            {
                var name = Pick(r, Names);
                list.Add(new(name, Value(r, name)));
            }
            return list;
        }
        if (roll < 40 && action.Contains("SecurityGroup", StringComparison.Ordinal) && (action.StartsWith("Authorize", StringComparison.Ordinal) || action.StartsWith("Revoke", StringComparison.Ordinal)))
        {
            // Many permissions at once, at the edges of Permissions.N.
            var list = template.Where(p => !RuleFields.Contains(p.Key)).ToList();
            var count = Pick(r, [0, 1, 2, 3, 50, 100, 101]);
            var offset = r.Next(10) == 0 ? Pick(r, [-1, 0, 1, 100]) : 1;
            for (var n = 0; n < count; n++)
            {
                list.Add(new($"Permissions.{n + offset}.IpProtocol", r.Next(4) == 0 ? Value(r, "IpProtocol") : "tcp"));
                list.Add(new($"Permissions.{n + offset}.PortRange", r.Next(4) == 0 ? Value(r, "PortRange") : $"{1000 + n}/{1000 + n}"));
                var peer = Pick(r, ["SourceCidrIp", "DestCidrIp", "Ipv6SourceCidrIp", "SourceGroupId", "Ipv6DestCidrIp", "DestGroupId"]);
                list.Add(new($"Permissions.{n + offset}.{peer}", Value(r, peer)));
                if (r.Next(3) == 0)
                    list.Add(new($"Permissions.{n + offset}.{Pick(r, RuleFields)}", Value(r, Pick(r, RuleFields))));
            }
            return list;
        }
        // A valid request with one to three faults.
        var mutated = template.ToList();
        for (var k = r.Next(1, 4); k > 0; k--)
        {
            switch (r.Next(6))
            {
                case 0 or 1 when mutated.Count > 0:
                    var at = r.Next(mutated.Count);
                    mutated[at] = new(mutated[at].Key, Value(r, mutated[at].Key));
                    break;
                case 2 when mutated.Count > 0:
                    mutated.RemoveAt(r.Next(mutated.Count));
                    break;
                case 3 when mutated.Count > 0:
                    var twice = mutated[r.Next(mutated.Count)];
                    mutated.Add(new(twice.Key, r.Next(2) == 0 ? twice.Value : Value(r, twice.Key)));
                    break;
                default:
                    var name = Pick(r, Names);
                    mutated.Add(new(name, Value(r, name)));
                    break;
            }
        }
        return mutated;
    }

    private string Id(Random r, string prefix)
    {
        // Mostly the caller's own, sometimes the other account's: isolation is tested by every action.
        var pool = r.Next(8) == 0 ? _victimIds : _ids;
        var matching = pool.Where(id => id.StartsWith(prefix + "-", StringComparison.Ordinal)).ToList();
        return matching.Count == 0 ? prefix + "-nothere0000000" : Pick(r, matching);
    }

    private List<KeyValuePair<string, string>> Template(Random r, string action)
    {
        var region = new KeyValuePair<string, string>("RegionId", "cn-hangzhou");
        KeyValuePair<string, string> P(string name, string value) => new(name, value);
        var sg = Id(r, "sg");
        var rule = new[] { P("IpProtocol", Pick(r, ["tcp", "udp", "icmp", "all", "gre", "icmpv6"])), P("PortRange", Pick(r, ["22/22", "1/65535", "-1/-1", "8080/8081"])),
            P("Priority", Pick(r, ["1", "50", "100"])), P("Policy", Pick(r, ["accept", "drop"])) };
        return action switch
        {
            "CreateVpc" => [region, P("CidrBlock", Pick(r, ["10.0.0.0/16", "172.16.0.0/12", "192.168.0.0/16"])), P("VpcName", "fz-vpc")],
            "DeleteVpc" or "DescribeVpcs" => [region, P("VpcId", Id(r, "vpc"))],
            "CreateVSwitch" => [region, P("VpcId", Id(r, "vpc")), P("ZoneId", "cn-hangzhou-h"), P("CidrBlock", $"192.168.{r.Next(256)}.0/24")],
            "DeleteVSwitch" or "DescribeVSwitches" => [region, P("VSwitchId", Id(r, "vsw"))],
            "CreateSecurityGroup" => [region, P("VpcId", Id(r, "vpc")), P("SecurityGroupName", "fz-" + r.Next(1000)), P("Description", "made by the fuzzer"),
                .. r.Next(4) == 0 ? [P("SecurityGroupType", "enterprise")] : Array.Empty<KeyValuePair<string, string>>()],
            "DeleteSecurityGroup" or "DescribeSecurityGroupAttribute" => [region, P("SecurityGroupId", sg)],
            "DescribeSecurityGroups" => [region, P("SecurityGroupIds", JsonSerializer.Serialize(new[] { sg, Id(r, "sg") }))],
            "ModifySecurityGroupAttribute" => [region, P("SecurityGroupId", sg), P("SecurityGroupName", "renamed-" + r.Next(100)), P("Description", "changed")],
            "ModifySecurityGroupPolicy" => [region, P("SecurityGroupId", sg), P("InnerAccessPolicy", Pick(r, ["Accept", "Drop"]))],
            "AuthorizeSecurityGroup" or "RevokeSecurityGroup" => [region, P("SecurityGroupId", sg), .. rule, P("SourceCidrIp", $"10.{r.Next(256)}.0.0/16")],
            "AuthorizeSecurityGroupEgress" or "RevokeSecurityGroupEgress" => [region, P("SecurityGroupId", sg), .. rule, P("DestCidrIp", $"10.{r.Next(256)}.0.0/16")],
            "ModifySecurityGroupRule" => [region, P("SecurityGroupId", sg), P("SecurityGroupRuleId", Id(r, "sgr")), P("PortRange", "23/23"), P("SourceCidrIp", "10.1.0.0/16")],
            "ModifySecurityGroupEgressRule" => [region, P("SecurityGroupId", sg), P("SecurityGroupRuleId", Id(r, "sgr")), P("PortRange", "23/23"), P("DestCidrIp", "10.1.0.0/16")],
            "DescribeSecurityGroupReferences" => [region, P("SecurityGroupId.1", sg)],
            "JoinSecurityGroup" or "LeaveSecurityGroup" => [region, P("SecurityGroupId", sg), P("InstanceId", Id(r, "i"))],
            "TagResources" => [region, P("ResourceType", "securitygroup"), P("ResourceId.1", sg), P("Tag.1.Key", "k" + r.Next(30)), P("Tag.1.Value", "v")],
            "UntagResources" => [region, P("ResourceType", Pick(r, ["securitygroup", "instance"])), P("ResourceId.1", r.Next(2) == 0 ? sg : Id(r, "i")), P("TagKey.1", "k" + r.Next(30))],
            "ListTagResources" => [region, P("ResourceType", "securitygroup"), P("ResourceId.1", sg)],
            "RunInstances" or "CreateInstance" => [region, P("ImageId", "ubuntu_22_04_x64"), P("InstanceType", "ecs.g7.large"), P("SecurityGroupId", sg), P("VSwitchId", Id(r, "vsw")),
                .. action == "RunInstances" ? [P("Amount", Pick(r, ["1", "2"]))] : Array.Empty<KeyValuePair<string, string>>()],
            "DescribeInstances" => [region, P("InstanceIds", JsonSerializer.Serialize(new[] { Id(r, "i") }))],
            "StartInstance" or "StopInstance" or "DeleteInstance" => [P("InstanceId", Id(r, "i")), .. action == "DeleteInstance" ? [P("Force", "true")] : Array.Empty<KeyValuePair<string, string>>()],
            "DeleteInstances" => [region, P("InstanceId.1", Id(r, "i")), P("Force", "true")],
            "ModifyInstanceAttribute" => [P("InstanceId", Id(r, "i")), P("InstanceName", "fz-" + r.Next(100))],
            "DescribeChanges" => [P("AfterRevision", "0")],
            "DescribeActionTrail" => [region, P("MaxResults", "5")],
            // The keys a request may name: its own (which it may not disable or delete), the other account's, none.
            "UpdateAccessKey" => [P("UserAccessKeyId", Pick(r, [_attacker.AccessKeyId, _victimKeyId, "LTAInothere0000000000000"])), P("Status", Pick(r, ["Active", "Inactive"]))],
            "DeleteAccessKey" => [P("UserAccessKeyId", Pick(r, [_attacker.AccessKeyId, _victimKeyId, "LTAInothere0000000000000"]))],
            _ => [region],
        };
    }

    private static readonly string[] RuleFields = [.. Palisade.Domain.Ecs.PermissionFields.Names];

    private static readonly string[] Names =
    [
        "RegionId", "SecurityGroupId", "SecurityGroupIds", "InstanceId", "InstanceIds", "VpcId", "VSwitchId", "ZoneId", "CidrBlock",
        .. RuleFields, "SecurityGroupName", "SecurityGroupType", "InnerAccessPolicy", "Direction", "MaxResults", "NextToken", "PageNumber", "PageSize",
        "Amount", "ImageId", "InstanceType", "PrivateIpAddress", "ResourceType", "Force", "All", "DryRun", "ClientToken", "Format", "SecurityGroupRuleId",
        "VpcName", "VSwitchName", "InstanceName", "FuzzyQuery", "NetworkType", "InstanceNetworkType", "Status", "Attribute", "AfterRevision", "WaitSeconds",
        "StartTime", "EndTime", "ActionName", "NetworkInterfaceId", "UserAccessKeyId", "UserName", "ReadOnly",
        "Permissions.1.IpProtocol", "Permissions.1.PortRange", "Permissions.1.SourceCidrIp", "Permissions.1.Priority", "Permissions.0.IpProtocol",
        "Permissions.101.IpProtocol", "Permissions.2.DestCidrIp", "Permissions.x.y", "Permissions.1", "Permissions..IpProtocol", "Permissions.01.PortRange",
        "Permissions.99999999999.IpProtocol", "Permissions.1.ipProtocol", "Permissions.1.Unknown",
        "SecurityGroupRuleId.1", "SecurityGroupRuleId.2", "SecurityGroupRuleId.0", "ResourceId.1", "ResourceId.51", "ResourceId.0",
        "Tag.1.Key", "Tag.1.Value", "Tag.2.Key", "Tag.21.Key", "Tag.0.Key", "Tag.1", "TagKey.1", "TagKey.21", "InstanceId.1", "InstanceId.101",
        "SecurityGroupIds.1", "SecurityGroupId.1", "SecurityGroupId.0", "", " ", "Action", "Version", "Signature", "AccessKeyId", "安全组", "a\u0000b",
    ];

    private static readonly string[] Nasty =
    [
        "", " ", "0/0", "65536/65536", "-1/80", "1/", "/1", "/", "200/1", "-1/-1", "1/65535", "80/-1", "1/65536", "00022/22", "+22/22", " 22/22", "22/22 ", "22 / 22",
        "2147483648/2147483648", "99999999999999999999/1", "0x16/0x16", "1.5/2", "22/22/22", "22-22", "２２/２２",
        "0.0.0.0/0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "/8", "10.0.0/8", "10.0.0.0.0/8", "10.0.0.1/8", "1.1.1.1/32/32", "999.1.1.1", "010.0.0.1", "１０.0.0.0/8",
        "::ffff:10.0.0.1", "::ffff:10.0.0.0/104", "::ffff:0:0/96", "::/0", "::/129", "2001:db8::/129", "2001:db8:::/64", "fe80::1%eth0", "[::1]", "0.0.0.0/0 ", "localhost",
        "0", "1", "100", "101", "-1", "65535", "65536", "2147483647", "2147483648", "-2147483649", "99999999999999999999", "1e3", "0x10", "NaN", "1.0",
        "accept", "drop", "Allow", "ACCEPT", "intranet", "internet", "wan", "ingress", "egress", "all", "true", "false", "TRUE", "maybe", "JSON", "XML", "yaml",
        "[\"sg-a\"]", "[1,2]", "[null]", "[[\"sg-a\"]]", "not json", "[", "]", "{}", "{\"a\":1}", "\"sg-a\"", "[\"" + new string('x', 5000) + "\"]", new string('[', 5000),
        "[" + string.Join(",", Enumerable.Repeat("\"sg-a\"", 500)) + "]",
        "cn-hangzhou", "CN-HANGZHOU", "mars-1", "securitygroup", "instance", "disk", "SecurityGroup",
        "sg-", "sg-a b", "sg-nothere", "i-nothere", "sgr-nothere", "vpc-nothere", "vsw-nothere", "pl-x", "prl-x", "sg-../../etc", "sg-%00",
        "http://example.com", "https://x", "\u0000", "\u0000\u0001", "\t", "\r\n", "\u007f", "\u0085", "\u2028", "\u202Eevil", "e\u0301", "安全组", "😀", "\uD800", "\uFEFF",
        new string('a', 129), new string('a', 257), new string('a', 10_000), new string('é', 100_000), string.Concat(Enumerable.Repeat("*a", 50_000)), "%zz", "%", "a&b=c", "a=b", "+", "<xml>", "]]>", "\"'`", "${jndi:x}", "'; DROP TABLE accounts; --",
        "1970-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
    ];

    private static readonly Dictionary<string, string[]> Plausible = new(StringComparer.Ordinal)
    {
        ["IpProtocol"] = ["tcp", "udp", "icmp", "icmpv6", "gre", "all", "TCP"],
        ["PortRange"] = ["22/22", "1/65535", "-1/-1", "80/443", "0/0"],
        ["SourcePortRange"] = ["1/65535", "1024/2048"],
        ["SourceCidrIp"] = ["10.0.0.0/8", "0.0.0.0/0", "192.168.1.1", "10.1.2.3/32"],
        ["DestCidrIp"] = ["10.0.0.0/8", "0.0.0.0/0", "172.16.0.0/12"],
        ["Ipv6SourceCidrIp"] = ["::/0", "2001:db8::/32"],
        ["Ipv6DestCidrIp"] = ["::/0", "2001:db8::/32"],
        ["Policy"] = ["accept", "drop"],
        ["Priority"] = ["1", "100", "50"],
        ["NicType"] = ["intranet", "internet"],
        ["Direction"] = ["ingress", "egress", "all"],
        ["InnerAccessPolicy"] = ["Accept", "Drop"],
        ["SecurityGroupType"] = ["normal", "enterprise"],
        ["ResourceType"] = ["securitygroup", "instance"],
        ["MaxResults"] = ["1", "10", "100"],
        ["PageSize"] = ["1", "10", "50"],
        ["PageNumber"] = ["1", "2"],
        ["Amount"] = ["1", "2"],
        ["DryRun"] = ["true", "false"],
        ["Force"] = ["true", "false"],
        ["ZoneId"] = ["cn-hangzhou-h", "cn-hangzhou-g"],
        ["CidrBlock"] = ["10.0.0.0/16", "192.168.7.0/24"],
        ["ClientToken"] = ["token-1", "token-2"],
        ["Format"] = ["JSON", "XML"],
    };

    private string Value(Random r, string name)
    {
        // A long poll must not hold the run: only values that never wait.
        if (name == "WaitSeconds")
            return Pick(r, ["", "0", "-1", "61", "x", "99999999999"]);
        var bare = name.Contains('.') ? name[(name.LastIndexOf('.') + 1)..] : name;
        var roll = r.Next(100);
        if (roll < 40)
            return Pick(r, Nasty);
        if (roll < 60 && Plausible.TryGetValue(bare, out var good))
            return Pick(r, good);
        if (roll < 85)
        {
            var prefix = bare switch
            {
                _ when bare.Contains("GroupId", StringComparison.Ordinal) => "sg",
                "SecurityGroupRuleId" => "sgr",
                _ when bare.StartsWith("Instance", StringComparison.Ordinal) => "i",
                "VpcId" => "vpc",
                "VSwitchId" => "vsw",
                _ => Pick(r, ["sg", "i", "vpc", "vsw", "sgr"]),
            };
            var id = Id(r, prefix);
            return bare.EndsWith("Ids", StringComparison.Ordinal) && r.Next(2) == 0 ? JsonSerializer.Serialize(new[] { id }) : id;
        }
        // Random text over a hostile alphabet.
        const string alphabet = "aZ09-_./:%&=+?#[]{}\"'\\<> \t\u0000\u001f\u007f\u00e9\u4e2d\u202e";
        var length = Pick(r, [1, 2, 5, 20, 128, 129, 256, 257, 1000]);
        var text = new StringBuilder(length);
        for (var n = 0; n < length; n++)
            text.Append(alphabet[r.Next(alphabet.Length)]);
        return text.ToString();
    }

    private static T Pick<T>(Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    private static string Describe(string action, List<KeyValuePair<string, string>> parameters) =>
        $"{action} {string.Join('&', parameters.Select(p => $"{Short(p.Key, 30)}={Short(p.Value, 40)}"))}";

    private static string Short(string s, int max) => (s.Length > max ? s[..max] + "…" : s)
        .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    /// <summary>
    /// Regression: a signed request with a nonce of 8,000 random characters reached PostgreSQL, whose
    /// index cannot hold such a key, and got a 500; a key ID of any length was looked up and cached.
    /// </summary>
    [Fact]
    public async Task OverlongNoncesAndKeyIds_AreRefused()
    {
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(4000));
        foreach (var style in new[] { SignatureStyle.V1Get, SignatureStyle.V3 })
        {
            var api = Plane.Client(_attacker, style);
            var response = await api.SendAsync("DescribeRegions", [], tamper: r =>
            {
                if (style == SignatureStyle.V3)
                {
                    r.Headers.Remove("x-acs-signature-nonce");
                    r.Headers.TryAddWithoutValidation("x-acs-signature-nonce", nonce);
                }
                else
                    r.RequestUri = new Uri(Regex.Replace(r.RequestUri!.ToString(), "SignatureNonce=[^&]+", "SignatureNonce=" + nonce));
            });
            Assert.Equal((400, "InvalidParameter"), (response.Status, response.Code));
        }
        var longKey = new EcsClient(Plane.Http, new ClientCredentials("LTAI" + new string('k', 200_000), "x"), SignatureStyle.V1Post);
        Assert.Equal((404, "InvalidAccessKeyId.NotFound"), await longKey.SendAsync("DescribeRegions", []) is var r2 ? (r2.Status, r2.Code) : default);
    }

    /// <summary>Regression: a signed request with a NUL in its nonce reached PostgreSQL, which cannot store a NUL in text, and got a 500.</summary>
    [Fact]
    public async Task ANulInAnyParameter_IsRefusedBeforeItReachesTheStore()
    {
        var pairs = new List<KeyValuePair<string, string>>
        {
            new("Action", "DescribeRegions"), new("Version", "2014-05-26"), new("AccessKeyId", _attacker.AccessKeyId), new("Format", "JSON"), new("SignatureMethod", "HMAC-SHA1"),
            new("SignatureVersion", "1.0"), new("SignatureNonce", "a\u0000b"), new("Timestamp", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
        };
        pairs.Add(new("Signature", Palisade.Domain.Signatures.SignatureV1.Sign(_attacker.AccessKeySecret, Palisade.Domain.Signatures.SignatureV1.StringToSign("GET", pairs))));
        var response = await Plane.Http.GetAsync("/?" + string.Join('&', pairs.Select(p => $"{Palisade.Domain.Signatures.PercentEncoding.Encode(p.Key)}={Palisade.Domain.Signatures.PercentEncoding.Encode(p.Value)}")));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("\"Code\":\"InvalidParameter\"", await response.Content.ReadAsStringAsync());
        await ApiAssert.FailsAsync(() => _clients[0].CallAsync("CreateSecurityGroup", new { RegionId = Scenario.Region, Description = "a\u0000b" }), "InvalidParameter", 400);
    }

    [Fact]
    public async Task HostileEnvelopes_GetCataloguedErrors()
    {
        // Bodies past the limit, bodies that are not UTF-8, odd methods and content types, unsigned junk: refused before anything runs.
        var before = Digest();
        var http = Plane.Http;
        var cases = new List<HttpRequestMessage>
        {
            new(HttpMethod.Post, "/") { Content = new ByteArrayContent(new byte[(1 << 20) + 1]) },
            new(HttpMethod.Post, "/") { Content = new StringContent("Action=DescribeRegions&" + new string('a', 3 << 20), Encoding.UTF8, "application/x-www-form-urlencoded") },
            new(HttpMethod.Post, "/") { Content = new ByteArrayContent([0x41, 0x3D, 0xC3, 0x28, 0xFF]) { Headers = { { "Content-Type", "application/x-www-form-urlencoded" } } } },
            new(HttpMethod.Put, "/?Action=DescribeRegions&Version=2014-05-26"),
            new(HttpMethod.Delete, "/?Action=DeleteSecurityGroup&Version=2014-05-26"),
            new(HttpMethod.Get, "/api/v1/../../etc/passwd?Action=DescribeRegions"),
            new(HttpMethod.Get, "/?Action=DescribeRegions&Version=2014-05-26&Action=DeleteVpc"),
            new(HttpMethod.Get, "/?Action=%ZZ&Version=%"),
            new(HttpMethod.Get, "/?" + string.Join('&', Enumerable.Range(0, 5000).Select(i => $"p{i}=v"))),
            new(HttpMethod.Get, "/?Action=DescribeRegions&Version=2014-05-26&AccessKeyId=LTAInobody&Signature=x&Timestamp=2026-01-01T00:00:00Z&SignatureNonce=1"),
            new(HttpMethod.Get, "/?Action=DescribeRegions&Version=2014-05-26&AccessKeyId=LTAInobody&Signature=x&Timestamp=yesterday&SignatureNonce=1"),
            new(HttpMethod.Post, "/") { Headers = { { "Authorization", "ACS3-HMAC-SHA256 garbage" }, { "x-acs-action", "DeleteVpc" }, { "x-acs-version", "2016-04-28" } } },
            new(HttpMethod.Post, "/") { Headers = { { "Authorization", "ACS3-HMAC-SHA256 Credential=LTAInobody,SignedHeaders=host,Signature=00" }, { "x-acs-action", "DescribeRegions" }, { "x-acs-version", "2014-05-26" } } },
        };
        // Signed V1 requests whose signature fields hold what no SDK sends: a NUL or non-ASCII nonce, a NUL in the key ID.
        foreach (var (keyId, nonce) in new[] { (_attacker.AccessKeyId, "a\u0000b"), (_attacker.AccessKeyId, "安全\u202e😀"), (_attacker.AccessKeyId, new string('n', 5000)), (_attacker.AccessKeyId, Convert.ToHexString(RandomNumberGenerator.GetBytes(4000))), ("LTAI\u0000x", "n1") })
        {
            var pairs = new List<KeyValuePair<string, string>>
            {
                new("Action", "DescribeRegions"), new("Version", "2014-05-26"), new("AccessKeyId", keyId), new("Format", "JSON"), new("SignatureMethod", "HMAC-SHA1"),
                new("SignatureVersion", "1.0"), new("SignatureNonce", nonce), new("Timestamp", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
            };
            pairs.Add(new("Signature", Palisade.Domain.Signatures.SignatureV1.Sign(_attacker.AccessKeySecret, Palisade.Domain.Signatures.SignatureV1.StringToSign("GET", pairs))));
            cases.Add(new(HttpMethod.Get, "/?" + string.Join('&', pairs.Select(p => $"{Palisade.Domain.Signatures.PercentEncoding.Encode(p.Key)}={Palisade.Domain.Signatures.PercentEncoding.Encode(p.Value)}"))));
        }
        foreach (var request in cases)
        {
            using var deadline = new CancellationTokenSource(Deadline);
            var response = await http.SendAsync(request, deadline.Token);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            var status = (int)response.StatusCode;
            if (status == 200)
                continue; // a signed request with an odd but harmless nonce may succeed
            Assert.True(status is >= 400 and < 500, $"{request.Method} {Short(request.RequestUri?.ToString() ?? "", 80)} -> {status} {Short(body, 200)}");
            var code = CodeOf(new EcsResponse(status, body, response.Content.Headers.ContentType?.ToString() ?? ""));
            Assert.True(code is not null && Catalogued.Contains(code), $"{request.Method} {Short(request.RequestUri?.ToString() ?? "", 80)} -> uncatalogued '{code}': {Short(body, 200)}");
        }
        Assert.Equal(before, Digest());
    }

    /// <summary>
    /// Issue 19's shapes: many keys, huge name patterns, control characters in every value a log line
    /// could hold (slow bodies need a real socket: <c>SlowClientTests</c>). Still no 5xx, no hang, no
    /// change on refusal, and no log line a client can forge.
    /// </summary>
    [Fact]
    public async Task Issue19Shapes_ManyKeysHugePatternsAndControlCharacters()
    {
        var logs = new CapturedLogs();
        await using var plane = await TestControlPlane.StartAsync(logs: logs);
        var key = plane.NewAccount("shapes");
        var api = plane.Client(key);
        var statuses = new List<int>();
        for (var i = 0; i < 25; i++)
            statuses.Add((await api.SendAsync("CreateAccessKey", [], ApiVersions.Ram)).Status);
        Assert.Equal(new Palisade.Domain.Quotas.Limits().AccessKeysPerAccount - 1, statuses.Count(s => s == 200));
        Assert.All(statuses, s => Assert.True(s is 200 or 409, $"HTTP {s}"));

        using var digest = new MemoryStream();
        StoreBackup.Write(plane.Store, digest, ["action_trail"], indented: false);
        var before = Convert.ToHexString(SHA256.HashData(digest.ToArray()));
        var control = "x\r\n2026-01-01T00:00:00.000Z info: forged\u001b[2J\u0000\u2028\u202e\u0085";
        foreach (var pattern in new[] { string.Concat(Enumerable.Repeat("a*", 300_000)), new string('*', 600_000), "*" + control + "*" })
        {
            using var deadline = new CancellationTokenSource(Deadline);
            var response = await api.SendAsync("DescribeInstances", [new("RegionId", Scenario.Region), new("InstanceName", pattern)], cancel: deadline.Token);
            Assert.True(response.Status is 200 or 400, $"InstanceName of {pattern.Length} characters -> {response.Status} {response.Code}");
        }
        // Control characters in every field a log line could carry: the action, the version, the key, the nonce, any parameter.
        var raw = new[]
        {
            $"/?Action={Uri.EscapeDataString(control)}&Version=2014-05-26",
            $"/?Action=DescribeRegions&Version={Uri.EscapeDataString(control)}",
            $"/?Action=DescribeRegions&Version=2014-05-26&AccessKeyId={Uri.EscapeDataString(control)}&Signature=x&SignatureNonce={Uri.EscapeDataString(control)}&Timestamp={Uri.EscapeDataString(control)}",
        };
        foreach (var path in raw)
        {
            var response = await plane.Http.GetAsync(path);
            Assert.InRange((int)response.StatusCode, 400, 499);
        }
        foreach (var (name, value) in new[] { ("RegionId", control), ("SecurityGroupId", control), ("Description", control), ("ClientToken", control) })
        {
            var response = await api.SendAsync("DeleteSecurityGroup", [new("RegionId", Scenario.Region), new(name, value)]);
            Assert.InRange(response.Status, 400, 499);
        }
        digest.SetLength(0);
        StoreBackup.Write(plane.Store, digest, ["action_trail"], indented: false);
        Assert.Equal(before, Convert.ToHexString(SHA256.HashData(digest.ToArray())));
        var forged = logs.Lines.Where(l => l.TrimEnd().IndexOfAny(['\r', '\n', '\u001b', '\u0000', '\u2028', '\u202e', '\u0085']) >= 0).ToList();
        Assert.True(forged.Count == 0, string.Join("\n---\n", forged.Select(l => Short(l, 300))));
        // Every refused request was logged (so the check above looked at them), on one line each.
        Assert.True(logs.Lines.Count(l => l.Contains("RpcEndpoint: ", StringComparison.Ordinal) && l.Contains(" 40", StringComparison.Ordinal)) >= raw.Length + 4);
    }
}
