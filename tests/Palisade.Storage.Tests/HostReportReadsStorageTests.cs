using CsCheck;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Storage.Records;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// The three reads of a node's batch of status reports made once for the batch (issue 17, seventeenth
/// session: <c>FindHostCredentials</c>, <c>ListBindingsOnHosts</c>, <c>HostsWithoutFlowSampling</c>)
/// against their slow twins, one statement a credential or host (<c>FindHostCredential</c>,
/// <c>ListBindingsOnHost</c>, <c>FlowSamplingOff</c>): on random fleets of a few hosts — NICs bound with
/// interface names of mixed case and digits (ordered by the store's collation), credentials of several
/// hosts, sampling switched off on some — asked for random hosts and credential IDs (some undeclared or
/// unknown, some twice), the answers are the same; on SQLite, and on PostgreSQL when the run asks for it.
/// </summary>
public sealed class HostReportReadsStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-report-reads-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _store;

    public HostReportReadsStorageTests() => _store = StoreFactory.Open(_database?.ConnectionString, _directory);

    public void Dispose()
    {
        _store.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private const int Hosts = 5;
    private static readonly string[] InterfaceNames = ["vnet1", "vnet10", "vnet2", "Vnet3", "vnet-4", "tap0", "TAP1", "vnet_5"];

    /// <summary>A random fleet: each instance's host and interface name (or unbound), each credential's host, the hosts not sampling; then the hosts and credentials asked.</summary>
    private sealed record Fleet((int Host, int Name)?[] Bound, int[] Credentials, bool[] SamplingOff, int[] AskedHosts, int[] AskedKeys);

    [Fact]
    public void TheBatchsReads_AnswerAsEachReportsOwn()
    {
        var round = 0;
        var bound = Gen.Select(Gen.Int[0, Hosts - 1], Gen.Int[0, InterfaceNames.Length - 1]).Select(t => ((int, int)?)t);
        var fleet = Gen.Select(Gen.Frequency((3, bound), (1, Gen.Const(((int, int)?)null))).Array[0, 10], Gen.Int[0, Hosts - 1].Array[0, 6],
            Gen.Bool.Array[Hosts], Gen.Int[0, Hosts].Array[0, 8], Gen.Int[0, 7].Array[0, 8])
            .Select((b, c, off, hosts, keys) => new Fleet(b, c, off, hosts, keys));
        fleet.Sample(f =>
        {
            var r = Interlocked.Increment(ref round);
            var tag = $"rr{r}x";
            // Host index Hosts is one never declared; key indexes past the credentials are unknown.
            string HostName(int h) => $"{tag}-host{h}";
            string Key(int k) => $"LTAI{tag}k{k}";
            var at = Time.Truncate(DateTimeOffset.UtcNow);
            _store.Write("Seed", null, s =>
            {
                var account = s.CreateAccount(tag, at).AccountId;
                var vpc = VpcId.Parse($"vpc-{tag}");
                var vsw = VSwitchId.Parse($"vsw-{tag}");
                s.Vpcs.Insert(new VpcRecord(vpc, account, "cn-hangzhou", Cidr.Parse("10.0.0.0/8"), "", "", "Available", at));
                s.VSwitches.Insert(new VSwitchRecord(vsw, account, "cn-hangzhou", vpc, "cn-hangzhou-h", Cidr.Parse("10.0.0.0/16"), "", "", "Available", at));
                var group = SecurityGroupId.Parse($"sg-{tag}g");
                s.Groups.Insert(new GroupRecord(group, account, "cn-hangzhou", vpc, group.Value, "", SecurityGroupType.Normal, InnerAccessPolicy.Accept, at));
                for (var h = 0; h < Hosts; h++)
                {
                    s.SaveHost(new HostRecord(HostName(h), Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0"), at));
                    if (f.SamplingOff[h])
                        s.SetFlowSampling(HostName(h), false, at);
                }
                for (var k = 0; k < f.Credentials.Length; k++)
                    s.InsertHostCredential(new HostCredentialRecord(Key(k), HostName(f.Credentials[k]), [(byte)k], AccessKeyStatus.Active, at));
                var used = new HashSet<(int, int)>();
                for (var i = 0; i < f.Bound.Length; i++)
                {
                    var id = InstanceId.Parse($"i-{tag}{i}");
                    var address = new IpAddress(false, Cidr.Parse("10.0.0.0/16").First + (UInt128)(10 + i));
                    s.Instances.Insert(new InstanceRecord(id, account, "cn-hangzhou", "cn-hangzhou-h", "", "", NetworkType.Vpc, vpc, vsw, "Running", "img", "t", [address], [], [group], at));
                    var primary = new NetworkInterfaceRecord(NetworkInterfaceId.Parse($"eni-{tag}p{i}"), account, "cn-hangzhou", "cn-hangzhou-h", vpc, vsw, id, NetworkInterfaceType.Primary, "", "", [address], [group], at);
                    s.NetworkInterfaces.Insert(primary);
                    // One interface name once a host.
                    if (f.Bound[i] is { } b && used.Add(b))
                        s.SaveHostBinding(new HostBindingRecord(id, account, HostName(b.Host), InterfaceNames[b.Name], at) { NetworkInterfaceId = primary.Id });
                }
                return 0;
            });
            var hosts = f.AskedHosts.Select(HostName).ToList();
            var keys = f.AskedKeys.Select(Key).ToList();
            _store.Read(s =>
            {
                var credentials = s.FindHostCredentials(keys).ToDictionary(c => c.AccessKeyId, StringComparer.Ordinal);
                var bindings = s.ListBindingsOnHosts(hosts);
                var off = s.HostsWithoutFlowSampling(hosts);
                foreach (var key in keys)
                    Assert.Equal(Describe(s.FindHostCredential(key)), Describe(credentials.GetValueOrDefault(key)));
                Assert.Equal(keys.Distinct().Count(k => s.FindHostCredential(k) is not null), credentials.Count);
                foreach (var host in hosts)
                {
                    Assert.Equal(s.ListBindingsOnHost(host), bindings.GetValueOrDefault(host) ?? []);
                    Assert.Equal(s.FlowSamplingOff(host), off.Contains(host));
                }
                Assert.True(bindings.Keys.All(hosts.Contains) && off.All(hosts.Contains), "a host not asked for answered");
                return 0;
            });
        }, iter: 30, threads: 1);

        static string? Describe(HostCredentialRecord? c) => c is null ? null : $"{c.AccessKeyId} {c.HostName} {Convert.ToHexString(c.SecretCiphertext)} {c.Status} {Time.Format(c.CreatedAt)}";
    }
}
