using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Palisade.Analysis.Import;
using Palisade.Client;
using Palisade.Domain.Groups;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Domain.Ecs;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade import --state FILE</c>: a state file (a real account's export) loaded into a server
/// through its ECS API, so that it can be explored there (console, agents, what-if on the live
/// plane). The server gives new IDs; the command prints which new ID stands for which old one. All
/// or nothing: when a call fails, what was created is deleted again.
/// </summary>
public static class ImportCommand
{
    public static Command Build()
    {
        var state = StateFileOption.Create();
        var command = new Command("import", """
            Load a state file into a server: its VPCs (blocks that hold the instances' addresses), vSwitches,
            groups with their rules, tags and inner access, instances with their private addresses and
            groups, secondary network interfaces with theirs, prefix lists and port-range lists with their
            entries. Prints the new ID of every resource next to the old one (--output json: as a map). A
            VPC instance or network interface with a public address or EIP gets an address of the server's
            pool, so it stays reachable from the internet. Not carried: IPv6 addresses (the server's
            vSwitches have no IPv6 block). When any call fails, everything created is deleted again.

            Example:
              palisade import --state account.json --server http://127.0.0.1:8080 --credentials .palisade/credentials
            """) { state };
        return Remote.Attach(command, async c =>
        {
            var network = StateFileOption.Load(c.Parse.GetValue(state)!);
            var plan = ImportPlan.Of(network);
            var importer = new Importer(c);
            try
            {
                using var progress = ProgressBar.For(c.Parse, "import");
                await importer.RunAsync(network, plan, progress);
            }
            catch
            {
                await importer.UndoAsync();
                throw;
            }
            if (c.Json)
            {
                c.Output.WriteLine(JsonSerializer.Serialize(new { Ids = importer.Ids, Warnings = plan.Warnings }, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                Remote.Table(c.Output, ["KIND", "STATE FILE", "SERVER"], [.. importer.Created.Select(x => new[] { x.Kind, x.Old, x.New })]);
                foreach (var w in plan.Warnings)
                    c.Error.WriteLine($"warning: {w}");
            }
            return ExitCodes.Ok;
        });
    }
}

/// <summary>Makes the calls of an import and remembers what it created, to print it or to undo it.</summary>
internal sealed class Importer(RemoteContext c)
{
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);

    public List<(string Kind, string Old, string New)> Created { get; } = [];

    public IReadOnlyDictionary<string, string> Ids => _ids;

    private void Remember(string kind, string old, string created)
    {
        _ids[old] = created;
        Created.Add((kind, old, created));
    }

    /// <param name="progress">Told after each resource (and each batch of rules), counted over the whole import.</param>
    public async Task RunAsync(NetworkState state, ImportPlan plan, IProgress<Palisade.Analysis.WorkProgress>? progress = null)
    {
        var total = plan.VpcBlocks.Count + plan.VSwitchBlocks.Values.Distinct().Count() + state.Groups.Length + state.PrefixLists.Length + state.PortRangeLists.Length
            + state.Groups.Sum(g => Batches(g, Direction.Ingress) + Batches(g, Direction.Egress)) + state.Instances.Length
            + state.Instances.Sum(i => i.SecondaryInterfaces.Length);
        var done = 0;
        void Step(string phase) => progress?.Report(new Palisade.Analysis.WorkProgress(phase, done++, total));
        foreach (var (vpc, block) in plan.VpcBlocks)
        {
            Step("vpcs");
            Remember("vpc", vpc, (await c.CallAsync("CreateVpc", [new("CidrBlock", block.ToString())], ApiVersions.Vpc)).Str("VpcId"));
        }
        // Lists before the rules that name them; MaxEntries as the file says, or just enough.
        foreach (var l in state.PrefixLists)
        {
            Step("prefix lists");
            var p = new List<KeyValuePair<string, string?>>
            {
                new("AddressFamily", l.IsV6 ? "IPv6" : "IPv4"), new("MaxEntries", Math.Max(1, Math.Max(l.MaxEntries, l.Entries.Length)).ToString(CultureInfo.InvariantCulture)),
                new("PrefixListName", ListName(l.Name, l.Id.Value)),
            };
            for (var n = 0; n < l.Entries.Length; n++)
                p.Add(new($"Entry.{(n + 1).ToString(CultureInfo.InvariantCulture)}.Cidr", Cidr.Create(l.Entries[n].Network, l.Entries[n].PrefixLength).ToString()));
            Remember("prefix list", l.Id.Value, (await c.CallAsync("CreatePrefixList", p)).Str("PrefixListId"));
        }
        foreach (var l in state.PortRangeLists)
        {
            Step("port-range lists");
            var p = new List<KeyValuePair<string, string?>>
            {
                new("MaxEntries", Math.Max(1, Math.Max(l.MaxEntries, l.Entries.Length)).ToString(CultureInfo.InvariantCulture)),
                new("PortRangeListName", ListName(l.Name, l.Id.Value)),
            };
            for (var n = 0; n < l.Entries.Length; n++)
                p.Add(new($"Entry.{(n + 1).ToString(CultureInfo.InvariantCulture)}.PortRange", l.Entries[n].ToString()));
            Remember("port-range list", l.Id.Value, (await c.CallAsync("CreatePortRangeList", p)).Str("PortRangeListId"));
        }
        var zone = (await c.CallAsync("DescribeZones", [])).Items("Zones", "Zone").Select(z => z.Str("ZoneId")).First();
        var vswitches = new Dictionary<(string, Cidr), string>();
        foreach (var ((vpc, name), block) in plan.VSwitchBlocks)
        {
            if (!vswitches.TryGetValue((vpc, block), out var created))
            {
                Step("vswitches");
                created = (await c.CallAsync("CreateVSwitch", [new("VpcId", _ids[vpc]), new("ZoneId", zone), new("CidrBlock", block.ToString())], ApiVersions.Vpc)).Str("VSwitchId");
                vswitches[(vpc, block)] = created;
                Remember("vswitch", name.Length > 0 ? name : $"({vpc})", created);
            }
            if (name.Length > 0)
                _ids[name] = created;
        }
        foreach (var g in state.Groups)
        {
            Step("security groups");
            var created = (await c.CallAsync("CreateSecurityGroup",
            [
                new("VpcId", g.VpcId is { } v ? _ids[v.Value] : null), new("SecurityGroupType", g.IsEnterprise ? "enterprise" : "normal"),
                new("SecurityGroupName", Texts(g.Name)), new("Description", Texts(g.Description)),
            ])).Str("SecurityGroupId");
            Remember("security group", g.Id.Value, created);
            if (!g.IsEnterprise && g.InnerAccessPolicy == InnerAccessPolicy.Drop)
                await c.CallAsync("ModifySecurityGroupPolicy", [new("SecurityGroupId", created), new("InnerAccessPolicy", "Drop")]);
            await TagAsync("securitygroup", created, g.Tags);
        }
        // Rules after every group exists: a rule may name any group of the file.
        foreach (var g in state.Groups)
        {
            foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
            {
                var rules = g.Rules.Where(r => r.Direction == direction).ToList();
                for (var start = 0; start < rules.Count; start += 100)
                {
                    Step("rules");
                    var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", _ids[g.Id.Value]) };
                    var batch = rules.Skip(start).Take(100).ToList();
                    for (var n = 0; n < batch.Count; n++)
                        p.AddRange(Fields(batch[n]).Select(f => new KeyValuePair<string, string?>($"Permissions.{(n + 1).ToString(CultureInfo.InvariantCulture)}.{f.Key}", f.Value)));
                    await c.CallAsync(direction == Direction.Ingress ? "AuthorizeSecurityGroup" : "AuthorizeSecurityGroupEgress", p);
                }
            }
        }
        foreach (var i in state.Instances)
        {
            Step("instances");
            var p = new List<KeyValuePair<string, string?>>
            {
                new("ImageId", "imported"), new("InstanceType", "ecs.imported"), new("InstanceName", i.Name.Length > 0 ? i.Name : null),
                new("VSwitchId", i.VpcId is { } vpc ? _ids[i.VSwitchId?.Value ?? $"({vpc})"] : null),
                new("PrivateIpAddress", i.NetworkType == NetworkType.Vpc ? i.PrivateAddresses.FirstOrDefault(a => !a.IsV6).ToString() : null),
                // A public address or EIP in the file: the instance faces the internet on the server too (through an address of its pool).
                new("InternetMaxBandwidthOut", i.NetworkType == NetworkType.Vpc && i.PublicAddresses.Any(a => !a.IsV6) ? "1" : null),
            };
            for (var n = 0; n < i.SecurityGroupIds.Length; n++)
                p.Add(new($"SecurityGroupIds.{(n + 1).ToString(CultureInfo.InvariantCulture)}", _ids[i.SecurityGroupIds[n].Value]));
            var created = (await c.CallAsync("RunInstances", p)).Items("InstanceIdSets", "InstanceIdSet").Single().GetString()!;
            Remember("instance", i.Id.Value, created);
            await TagAsync("instance", created, i.Tags.IsDefault ? [] : i.Tags);
            await ImportPrimaryInterfaceAsync(i, created);
            foreach (var eni in i.SecondaryInterfaces)
                await ImportInterfaceAsync(i, eni, created, Step);
        }
    }

    /// <summary>
    /// The instance's primary ENI: RunInstances made it with the first private IPv4 address; the
    /// others (secondary private addresses, which its groups judge like the first) are assigned to it
    /// as ECS does (AssignPrivateIpAddresses on the primary ENI, at most 10 a call). The file's primary
    /// ENI ID, when it names one, maps to the new one.
    /// </summary>
    private async Task ImportPrimaryInterfaceAsync(Domain.Instances.Instance instance, string createdInstance)
    {
        if (instance.NetworkType != NetworkType.Vpc)
            return;
        var secondary = SecondaryV4(instance.PrivateAddresses);
        if (secondary.Count == 0 && instance.NetworkInterfaceId is null)
            return;
        var primary = (await c.CallAsync("DescribeNetworkInterfaces", [new("InstanceId", createdInstance), new("Type", "Primary")]))
            .Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single().Str("NetworkInterfaceId");
        // Not in Created: deleting the instance (undo) deletes its primary ENI.
        if (instance.NetworkInterfaceId is { } old)
            _ids[old.Value] = primary;
        for (var start = 0; start < secondary.Count; start += AssignPerCall)
        {
            var p = new List<KeyValuePair<string, string?>> { new("NetworkInterfaceId", primary) };
            p.AddRange(secondary.Skip(start).Take(AssignPerCall).Select((a, n) => new KeyValuePair<string, string?>($"PrivateIpAddress.{(n + 1).ToString(CultureInfo.InvariantCulture)}", a.ToString())));
            await c.CallAsync("AssignPrivateIpAddresses", p);
        }
    }

    /// <summary>AssignPrivateIpAddresses takes <c>PrivateIpAddress.N</c> with N from 1 to 10 (alibabacloud.com/help/en/ecs/api-assignprivateipaddresses).</summary>
    private const int AssignPerCall = 10;

    /// <summary>An ENI's IPv4 addresses after its primary one: its secondary private addresses.</summary>
    private static List<IpAddress> SecondaryV4(IEnumerable<IpAddress> addresses) => [.. addresses.Where(a => !a.IsV6).Skip(1)];

    /// <summary>
    /// A secondary ENI of the file: created in its vSwitch with its private IPv4 addresses (the first
    /// as <c>PrimaryIpAddress</c>, the others as <c>PrivateIpAddress.N</c>) and its groups, attached to
    /// the instance just created, and — when the file gives it a public address or EIP — given an EIP
    /// of the server's pool, so that it faces the internet as it did.
    /// </summary>
    private async Task ImportInterfaceAsync(Domain.Instances.Instance instance, Domain.Instances.NetworkInterface eni, string createdInstance, Action<string> step)
    {
        step("network interfaces");
        var vswitch = eni.VSwitchId ?? instance.VSwitchId;
        var p = new List<KeyValuePair<string, string?>>
        {
            new("VSwitchId", _ids[vswitch?.Value ?? $"({instance.VpcId})"]),
            new("PrimaryIpAddress", eni.PrivateAddresses.Where(a => !a.IsV6).Select(a => a.ToString()).FirstOrDefault()),
        };
        var secondary = SecondaryV4(eni.PrivateAddresses);
        for (var n = 0; n < secondary.Count; n++)
            p.Add(new($"PrivateIpAddress.{(n + 1).ToString(CultureInfo.InvariantCulture)}", secondary[n].ToString()));
        for (var n = 0; n < eni.SecurityGroupIds.Length; n++)
            p.Add(new($"SecurityGroupIds.{(n + 1).ToString(CultureInfo.InvariantCulture)}", _ids[eni.SecurityGroupIds[n].Value]));
        var created = (await c.CallAsync("CreateNetworkInterface", p)).Str("NetworkInterfaceId");
        Remember("network interface", eni.Id.Value, created);
        await c.CallAsync("AttachNetworkInterface", [new("NetworkInterfaceId", created), new("InstanceId", createdInstance)]);
        if (eni.PublicAddresses.Any(a => !a.IsV6))
        {
            var eip = (await c.CallAsync("AllocateEipAddress", [], ApiVersions.Vpc)).Str("AllocationId");
            Remember("eip", $"{eni.Id} public address", eip);
            await c.CallAsync("AssociateEipAddress", [new("AllocationId", eip), new("InstanceId", created), new("InstanceType", "NetworkInterface")], ApiVersions.Vpc);
        }
    }

    /// <summary>The AuthorizeSecurityGroup(Egress) calls a group's rules of one direction take: 100 rules each.</summary>
    private static int Batches(Domain.Groups.SecurityGroup g, Direction direction) => (g.Rules.Count(r => r.Direction == direction) + 99) / 100;

    /// <summary>Deletes what this import created, newest first; what cannot be deleted is said.</summary>
    public async Task UndoAsync()
    {
        // Groups may name each other in rules, and a group that is named cannot be deleted: rules go first.
        foreach (var (_, _, id) in Created.Where(x => x.Kind == "security group"))
        {
            try
            {
                var rules = (await c.CallAsync("DescribeSecurityGroupAttribute", [new("SecurityGroupId", id)])).Items("Permissions", "Permission").ToList();
                foreach (var direction in new[] { "ingress", "egress" })
                {
                    var ruleIds = rules.Where(r => r.Str("Direction") == direction).Select(r => r.Str("SecurityGroupRuleId")).ToList();
                    for (var start = 0; start < ruleIds.Count; start += 100)
                    {
                        var p = new List<KeyValuePair<string, string?>> { new("SecurityGroupId", id) };
                        p.AddRange(ruleIds.Skip(start).Take(100).Select((r, n) => new KeyValuePair<string, string?>($"SecurityGroupRuleId.{(n + 1).ToString(CultureInfo.InvariantCulture)}", r)));
                        await c.CallAsync(direction == "ingress" ? "RevokeSecurityGroup" : "RevokeSecurityGroupEgress", p);
                    }
                }
            }
            catch (Exception e) when (e is EcsApiException or HttpRequestException)
            {
                c.Error.WriteLine($"warning: could not revoke the rules of {id} while undoing the import: {e.Message}");
            }
        }
        foreach (var (kind, _, id) in Enumerable.Reverse(Created))
        {
            try
            {
                _ = kind switch
                {
                    "instance" => await c.CallAsync("DeleteInstance", [new("InstanceId", id), new("Force", "true")]),
                    // Newest first: an ENI's EIP goes before it, and the ENI before its instance.
                    "eip" => await ReleaseEipAsync(id),
                    "network interface" => await DeleteInterfaceAsync(id),
                    "security group" => await c.CallAsync("DeleteSecurityGroup", [new("SecurityGroupId", id)]),
                    "vswitch" => await c.CallAsync("DeleteVSwitch", [new("VSwitchId", id)], ApiVersions.Vpc),
                    "prefix list" => await c.CallAsync("DeletePrefixList", [new("PrefixListId", id)]),
                    "port-range list" => await c.CallAsync("DeletePortRangeList", [new("PortRangeListId", id)]),
                    _ => await c.CallAsync("DeleteVpc", [new("VpcId", id)], ApiVersions.Vpc),
                };
            }
            catch (Exception e) when (e is EcsApiException or HttpRequestException)
            {
                c.Error.WriteLine($"warning: could not delete {kind} {id} while undoing the import: {e.Message}");
            }
        }
    }

    private async Task<System.Text.Json.JsonElement> ReleaseEipAsync(string id)
    {
        await c.CallAsync("UnassociateEipAddress", [new("AllocationId", id)], ApiVersions.Vpc);
        return await c.CallAsync("ReleaseEipAddress", [new("AllocationId", id)], ApiVersions.Vpc);
    }

    private async Task<System.Text.Json.JsonElement> DeleteInterfaceAsync(string id)
    {
        var eni = (await c.CallAsync("DescribeNetworkInterfaces", [new("NetworkInterfaceId.1", id)])).Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single();
        if (eni.Str("InstanceId") is { Length: > 0 } attached)
            await c.CallAsync("DetachNetworkInterface", [new("NetworkInterfaceId", id), new("InstanceId", attached)]);
        return await c.CallAsync("DeleteNetworkInterface", [new("NetworkInterfaceId", id)]);
    }

    private async Task TagAsync(string type, string id, IEnumerable<Tag> tags)
    {
        var list = tags.ToList();
        if (list.Count == 0)
            return;
        var p = new List<KeyValuePair<string, string?>> { new("ResourceType", type), new("ResourceId.1", id) };
        for (var n = 0; n < list.Count; n++)
        {
            p.Add(new($"Tag.{(n + 1).ToString(CultureInfo.InvariantCulture)}.Key", list[n].Key));
            p.Add(new($"Tag.{(n + 1).ToString(CultureInfo.InvariantCulture)}.Value", list[n].Value));
        }
        await c.CallAsync("TagResources", p);
    }

    private static string? Texts(string text) => text.Length > 0 ? text : null;

    /// <summary>A list's name as the server takes it (2–128 characters, a letter first, letters, digits, <c>:_.-</c>); its ID when the file's name is not one.</summary>
    private static string ListName(string name, string id)
    {
        var ok = name.Length is >= 2 and <= 128 && char.IsAsciiLetter(name[0]) && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is ':' or '_' or '.' or '-')
            && !PrefixList.IsReservedName(name);
        return ok ? name : id;
    }

    /// <summary>A rule as the fields of one <c>Permissions.N</c>, its group peer renamed.</summary>
    private IEnumerable<KeyValuePair<string, string?>> Fields(SecurityGroupRule r) =>
        RuleFields.Of(r, id => _ids.TryGetValue(id, out var mapped) ? mapped : id);
}
