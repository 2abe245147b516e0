using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Agent.Following;
using Palisade.Client;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The agent's warm-up (<see cref="AgentWarmUp"/>, issue 17, twenty-fifth session) replays answers kept
/// in the agent (<c>src/Palisade.Agent/Following/WarmUp/*.json</c>): they must be what a server really
/// answers, not JSON that drifts from the wire format. A server set up as they were captured answers the
/// agent's own requests with the same bytes, but for what differs from run to run (request IDs, resource
/// IDs, times and the digests made of them). <c>PALISADE_BLESS=1</c> captures them again (review the diff).
/// </summary>
[Collection(PartMemoryCollection.Name)]
public sealed partial class AgentWarmUpAnswersTests : IAsyncLifetime
{
    private TestControlPlane _server = null!;

    public async Task InitializeAsync() => _server = await TestControlPlane.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string AnswersFolder => Path.Combine(Golden.RepositoryRoot(), "src", "Palisade.Agent", "Following", "WarmUp");

    [Fact]
    public async Task TheWarmUpsAnswers_AreWhatAServerAnswers_ByteForByte_ButForWhatDiffersByRun()
    {
        var answers = await CaptureAsync();
        Assert.Equal(AgentWarmUp.AnswerNames.Length, answers.Count);
        if (Golden.Blessing)
        {
            Directory.CreateDirectory(AnswersFolder);
            foreach (var (name, answer) in AgentWarmUp.AnswerNames.Zip(answers))
                File.WriteAllBytes(Path.Combine(AnswersFolder, $"{name}.json"), answer);
        }
        var kept = AgentWarmUp.Answers();
        for (var i = 0; i < answers.Count; i++)
            Assert.Equal(Normalise(answers[i]), Normalise(kept[i]));
        // Replayed as the warm-up replays them (in a fresh agent), they add up: every wake a change, the part rebuilt from its difference.
        var result = await AgentWarmUp.RunAsync(2, CancellationToken.None);
        Assert.Equal(2 * (answers.Count - 1), result.Changes);
        Assert.True(result.Rebuilt >= 2, $"{result.Rebuilt} parts rebuilt from differences");
    }

    /// <summary>
    /// A host with two NICs in <c>common</c>, whose rule names <c>db</c>; the agent's own requests (its
    /// <see cref="EcsControlPlane"/>'s first fetch and woken polls carrying the policy) after a join into
    /// <c>db</c>, its leave, a rule added to <c>common</c> and revoked: each wake's part a difference from
    /// the one held, the last one the first policy's part again.
    /// </summary>
    private async Task<List<byte[]>> CaptureAsync()
    {
        var s = new Scenario(_server.Client(_server.NewAccount("warm-up")));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var common = await s.GroupAsync(vpc, "common");
        var db = await s.GroupAsync(vpc, "db");
        await s.AuthorizeAsync(common, new { IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = db });
        await s.AuthorizeAsync(common, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        await s.RunAsync(db, vsw, 2);
        var members = await s.RunAsync(common, vsw, 4);
        _server.Bind(members[0], AgentWarmUp.Host, "vnet0");
        _server.Bind(members[1], AgentWarmUp.Host, "vnet1");
        _server.Bind(members[2], "warm-up-1", "vnet0");
        var credential = _server.Hosts.CreateCredential(AgentWarmUp.Host);
        var tape = new Tape(((TestServer)_server.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()).CreateHandler());
        var plane = new EcsControlPlane(new EcsClient(new HttpClient(tape) { BaseAddress = _server.Http.BaseAddress }, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret)), Region);
        var policy = await plane.FetchAsync(AgentWarmUp.Host, CancellationToken.None);
        async Task WokenAsync(Func<Task> change)
        {
            await change();
            var wake = await plane.WaitForPolicyAsync(AgentWarmUp.Host, policy.Revision, TimeSpan.FromSeconds(5), null, CancellationToken.None);
            policy = wake.Policy ?? throw new InvalidOperationException("the wake carried no policy");
        }
        var joined = "";
        await WokenAsync(async () => joined = (await s.RunAsync(db, vsw)).Single());
        await WokenAsync(() => s.Api.CallAsync("DeleteInstance", new { InstanceId = joined, Force = true }));
        string rule = "";
        await WokenAsync(async () =>
        {
            await s.AuthorizeAsync(common, new { IpProtocol = "tcp", PortRange = "8080/8080", SourceCidrIp = "192.0.2.0/24" });
            rule = (await s.RulesAsync(common)).Single(r => r.Str("PortRange") == "8080/8080").Str("SecurityGroupRuleId");
        });
        await WokenAsync(() => s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = common, SecurityGroupRuleId = new[] { rule } }));
        Assert.Equal(4, plane.Differences.Rebuilt);
        return tape.Answers;
    }

    /// <summary>
    /// The answer with what differs from run to run made the same: request, account and resource IDs,
    /// MAC addresses, times, digests (made of the IDs) and the places of IDs in lists (sorted by ID); so the lists'
    /// elements are compared as sets. Every member's name, place and kind, and every other value, stays.
    /// </summary>
    private static string Normalise(byte[] answer) => Canonical(JsonNode.Parse(answer), null)?.ToJsonString() ?? "null";

    private static JsonNode? Canonical(JsonNode? node, string? member) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value, p.Key)))),
        JsonArray a => new JsonArray([.. a.Select(e => Canonical(e, member)).OrderBy(e => e?.ToJsonString(), StringComparer.Ordinal)]),
        JsonValue v when member is "Position" => JsonValue.Create("<position>"),
        JsonValue v when member is "Digest" or "BaseDigest" => JsonValue.Create("<digest>"),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonValue.Create(RunValue().Replace(v.GetValue<string>(), m =>
            m.Groups[1].Success ? $"<{m.Groups[1].Value}id>" : m.Groups[2].Success ? "<account>" : m.Groups[3].Success ? "<request-id>" : m.Groups[4].Success ? "<mac>" : "<time>")),
        _ => node?.DeepClone(),
    };

    /// <summary>A resource ID (its prefix kept), an account ID, a request ID, a NIC's (random, locally administered) MAC address, a time.</summary>
    [GeneratedRegex(@"^(?:(sg-|sgr-|vpc-|vsw-|i-|eni-)bp[a-z0-9]{18}|([0-9]{16})|([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})|(02(?::[0-9a-f]{2}){5})|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z)$")]
    private static partial Regex RunValue();

    /// <summary>Forwards the agent's requests to the server and keeps each answer's bytes.</summary>
    private sealed class Tape(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public readonly List<byte[]> Answers = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            Answers.Add(body);
            var content = new ByteArrayContent(body);
            foreach (var header in response.Content.Headers)
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = content;
            return response;
        }
    }
}
