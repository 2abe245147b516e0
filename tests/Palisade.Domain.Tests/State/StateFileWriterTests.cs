using System.Collections.Immutable;
using CsCheck;
using Palisade.Domain.Ecs;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Domain.Tests.State;

/// <summary>The writer is the reader's inverse: a state written and read back is the same state.</summary>
public sealed class StateFileWriterTests
{
    [Fact]
    public void AWrittenState_ReadsBackAsTheSameState()
    {
        var rules = 0;
        var interfaces = 0;
        SmallUniverse.State.Select(Readable).Sample(state =>
        {
            var written = StateFileWriter.Write(state);
            var read = StateFileReader.Read(written);
            Assert.Equal(Canonical(state), Canonical(read));
            Assert.Equal(written, StateFileWriter.Write(read));
            rules += state.Groups.Sum(g => g.Rules.Length);
            interfaces += state.Instances.Sum(i => i.SecondaryInterfaces.Length);
        }, iter: 500, print: SmallUniverse.Describe);
        // The property is worth something only if the states it saw had rules and secondary ENIs.
        Assert.True(rules > 500 && interfaces > 100, $"the generated states held only {rules} rules and {interfaces} secondary ENIs");
    }

    [Fact]
    public void AnEniWithMorePublicAddressesThanPrivateOnesToCarryThem_IsRefused()
    {
        var eni = new NetworkInterface(NetworkInterfaceId.Parse("eni-x"), [IpAddress.Parse("10.0.0.9")],
            [IpAddress.Parse("203.0.113.1"), IpAddress.Parse("203.0.113.2"), IpAddress.Parse("203.0.113.3")], []);
        var instance = new Instance(InstanceId.Parse("i-x"), "x", NetworkType.Vpc, VpcId.Parse("vpc-a"), null, [IpAddress.Parse("10.0.0.1")], [], [])
        {
            SecondaryInterfaces = [eni],
        };
        var e = Assert.Throws<ArgumentException>(() => StateFileWriter.Write(new NetworkState("cn-test", [], [instance])));
        Assert.Contains("eni-x has 3 public addresses but 1 private IPv4 ones", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoPublicAddressesOfAnEni_ReadBackInTheirOrder()
    {
        var eni = new NetworkInterface(NetworkInterfaceId.Parse("eni-x"), [IpAddress.Parse("10.0.0.9"), IpAddress.Parse("10.0.0.10")],
            [IpAddress.Parse("203.0.113.2"), IpAddress.Parse("203.0.113.1")], [], VSwitchId.Parse("vsw-b"), MacAddress.Of(NetworkInterfaceId.Parse("eni-x")));
        var instance = new Instance(InstanceId.Parse("i-x"), "x", NetworkType.Vpc, VpcId.Parse("vpc-a"), VSwitchId.Parse("vsw-a"), [IpAddress.Parse("10.0.0.1")], [], [])
        {
            SecondaryInterfaces = [eni],
        };
        var state = new NetworkState("cn-test", [], [instance]);
        Assert.Equal(Canonical(state), Canonical(StateFileReader.Read(StateFileWriter.Write(state))));
    }

    /// <summary>
    /// A generated state as a state file can hold it: rules ECS would refuse (the generator makes
    /// some on purpose) or that name a list the state lacks are left out, and each rule is as the
    /// parser gives it back (a rule with a port-range list has no port range of its own). Names,
    /// tags, times, primary ENI IDs and list limits are added so that the file carries them too.
    /// </summary>
    private static NetworkState Readable(NetworkState state)
    {
        var created = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        var groups = state.Groups.Select((g, n) =>
        {
            var context = new RuleContext(g.IsClassic, g.Type, state.FindPrefixList);
            var kept = g.Rules
                .Where(r => r.Peer is not RulePeer.PrefixList p || state.FindPrefixList(p.PrefixListId) is not null)
                .Select(r => PermissionParser.Parse(r.Direction, PermissionFields.Of(r), context, r.Id, created.AddMinutes(n)).TryGet(out var back, out _) ? back : null)
                .OfType<SecurityGroupRule>();
            return g with
            {
                Description = $"tier \"{n}\" — ü",
                Rules = [.. kept],
                Tags = [new Tag("env", n % 2 == 0 ? "prod" : ""), new Tag("owner", "ops")],
                CreationTime = created.AddHours(n),
            };
        });
        var instances = state.Instances.Select((i, n) => i with
        {
            Status = n % 3 == 0 ? "Stopped" : "Running",
            Tags = [new Tag("role", i.Name)],
            NetworkInterfaceId = i.NetworkType == NetworkType.Vpc && n % 2 == 0 ? NetworkInterfaceId.Parse($"eni-p{n}") : null,
            SecondaryInterfaces = [.. i.SecondaryInterfaces.Select((e, k) => e with { MacAddress = k % 2 == 0 ? MacAddress.Of(e.Id) : null })],
        });
        return new NetworkState(state.RegionId, groups, instances,
            state.PrefixLists.Select(l => l with { MaxEntries = l.Entries.Length + 5 }), state.PortRangeLists);
    }

    /// <summary>Everything a state holds, as text: records holding arrays do not compare by content.</summary>
    private static string Canonical(NetworkState s)
    {
        static string Join<T>(IEnumerable<T> items) => "[" + string.Join(",", items) + "]";
        static string Tags(ImmutableArray<Tag> tags) => Join((tags.IsDefault ? [] : tags).Select(t => $"{t.Key}={t.Value}"));
        var lines = new List<string> { $"region {s.RegionId}" };
        foreach (var g in s.Groups)
        {
            lines.Add($"group {g.Id} {g.Name} {g.Description} {g.Type} {g.VpcId} {g.InnerAccessPolicy} {g.CreationTime:O} {Tags(g.Tags)}");
            lines.AddRange(g.Rules.Select(r => "  " + r));
        }
        foreach (var i in s.Instances)
        {
            lines.Add($"instance {i.Id} {i.Name} {i.NetworkType} {i.VpcId} {i.VSwitchId} {Join(i.PrivateAddresses)} {Join(i.PublicAddresses)} {Join(i.SecurityGroupIds)} {i.Status} {Tags(i.Tags)} {i.NetworkInterfaceId}");
            lines.AddRange(i.SecondaryInterfaces.Select(e => $"  eni {e.Id} {Join(e.PrivateAddresses)} {Join(e.PublicAddresses)} {Join(e.SecurityGroupIds)} {e.VSwitchId} {e.MacAddress}"));
        }
        lines.AddRange(s.PrefixLists.Select(l => $"prefix-list {l.Id} {l.Name} {l.IsV6} {Join(l.Entries)} {l.MaxEntries}"));
        lines.AddRange(s.PortRangeLists.Select(l => $"port-range-list {l.Id} {l.Name} {Join(l.Entries)} {l.MaxEntries}"));
        return string.Join('\n', lines);
    }
}
