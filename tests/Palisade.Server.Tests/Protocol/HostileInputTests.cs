using CsCheck;
using Palisade.Client;
using Palisade.Server.Actions;
using Palisade.Server.Tests.Support;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Random and boundary values for the parameters of every action: every answer is a success or a
/// catalogued 4xx, never a 5xx, and a refused request leaves the store as it was.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Scenario _s = null!;
    private readonly List<string> _ids = [];

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _s = new Scenario(_plane.Client(_plane.NewAccount()));
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var sg = await _s.GroupAsync(vpc, "target");
        var peer = await _s.GroupAsync(vpc, "peer");
        await _s.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0" });
        var rule = (await _s.RulesAsync(sg)).Single().Str("SecurityGroupRuleId");
        _ids.AddRange([vpc, vsw, sg, peer, rule, .. await _s.RunAsync(sg, vsw)]);
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    private static readonly string[] Names =
    [
        "RegionId", "SecurityGroupId", "SecurityGroupIds", "InstanceId", "InstanceIds", "VpcId", "VSwitchId", "ZoneId", "CidrBlock",
        "IpProtocol", "PortRange", "SourcePortRange", "SourceCidrIp", "DestCidrIp", "Ipv6SourceCidrIp", "Ipv6DestCidrIp", "SourceGroupId", "DestGroupId",
        "SourceGroupOwnerId", "SourceGroupOwnerAccount", "SourcePrefixListId", "Policy", "Priority", "NicType", "Description", "SecurityGroupName",
        "SecurityGroupType", "InnerAccessPolicy", "Direction", "MaxResults", "NextToken", "PageNumber", "PageSize", "Amount", "ImageId", "InstanceType",
        "PrivateIpAddress", "ResourceType", "Force", "All", "DryRun", "ClientToken", "Format", "SecurityGroupRuleId", "PortRangeListId",
        "Permissions.1.IpProtocol", "Permissions.1.PortRange", "Permissions.1.SourceCidrIp", "Permissions.1.Priority", "Permissions.0.IpProtocol",
        "Permissions.101.IpProtocol", "Permissions.2.DestCidrIp", "Permissions.x.y", "SecurityGroupRuleId.1", "SecurityGroupRuleId.2", "ResourceId.1",
        "Tag.1.Key", "Tag.1.Value", "Tag.21.Key", "TagKey.1", "InstanceId.1", "SecurityGroupIds.1", "SecurityGroupId.1", "Permissions.1.ipProtocol",
    ];

    private static readonly string[] Nasty =
    [
        "", " ", "0/0", "65536/65536", "-1/80", "1/", "/1", "200/1", "-1/-1", "1/65535", "22/22", "tcp", "TCP", "icmp", "icmpv6", "gre", "all", "sctp", "6",
        "0.0.0.0/0", "10.0.0.0/33", "10.0.0.1/8", "::ffff:10.0.0.1", "::/0", "2001:db8::/129", "999.1.1.1", "0", "1", "100", "101", "-1", "99999999999999999999",
        "accept", "drop", "Allow", "intranet", "internet", "wan", "ingress", "egress", "all", "true", "false", "maybe", "JSON", "XML", "yaml",
        "[\"sg-a\"]", "[1,2]", "not json", "[", "{}", "cn-hangzhou", "mars-1", "securitygroup", "instance", "disk",
        "sg-", "sg-a b", "sg-nothere", "i-nothere", "sgr-nothere", "vpc-nothere", "vsw-nothere", "pl-x", "prl-x",
        "http://example.com", "\u0000\u0001", "\u202Eevil", "安全组", "😀", new string('a', 10_000), "%zz", "a&b=c", "<xml>", "\"'`",
    ];

    [Fact]
    public async Task RandomRequests_NeverGetA5xx_AndRefusedOnesChangeNothing()
    {
        var actions = ActionCatalog.FromAssembly().All.OrderBy(a => a.Name, StringComparer.Ordinal).ToArray();
        var values = Gen.Frequency((4, Gen.OneOf(Nasty).Select(v => (object)v)), (3, Gen.Int[0, 5].Select(i => (object)i)));
        var cases = Gen.Select(Gen.Int[0, actions.Length - 1], Gen.Select(Gen.OneOf(Names), values).Array[0, 8]).Array[Iterations].Single();
        var failures = new List<string>();
        var count = 0;
        foreach (var (actionIndex, picks) in cases)
        {
            var action = actions[actionIndex];
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in picks)
                parameters[name] = value is string s ? s : _ids[(int)value % _ids.Count];
            if (!parameters.ContainsKey("RegionId") && count % 3 != 0)
                parameters["RegionId"] = "cn-hangzhou";
            var before = await Snapshot();
            var response = await _s.Api.SendAsync(action.Name, parameters.ToList(), action.Version);
            count++;
            if (response.Status >= 500)
                failures.Add($"{action.Name} {string.Join('&', parameters.Select(p => $"{p.Key}={Short(p.Value)}"))} -> {response.Status} {response.Body}");
            else if (!response.IsSuccess && before != await Snapshot())
                failures.Add($"{action.Name} {string.Join('&', parameters.Select(p => $"{p.Key}={Short(p.Value)}"))} -> refused ({response.Code}) but changed the store");
            else if (!response.IsSuccess && response.Code is null)
                failures.Add($"{action.Name}: error without a Code: {response.Body}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.Equal(Iterations, count);
    }

    /// <summary>600 per run; PALISADE_FUZZ_ITERATIONS asks for more.</summary>
    private static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("PALISADE_FUZZ_ITERATIONS"), out var n) ? n : 600;

    private static string Short(string s) => s.Length > 20 ? s[..20] + "…" : s;

    // Every committed change adds a revision, so an unchanged revision means nothing was written.
    private Task<long> Snapshot() => Task.FromResult(_plane.Store.Read(s => s.CurrentRevision()));
}
