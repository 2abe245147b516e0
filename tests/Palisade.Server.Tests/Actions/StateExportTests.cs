using Palisade.Analysis.Audit;
using Palisade.Domain.State;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Tests.Support;
using Palisade.Storage.State;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>A live control plane exported as a state file reads back as the same state the server analyses.</summary>
public sealed class StateExportTests : ControlPlaneTest
{

    [Fact]
    public async Task TheExport_ReadsBackAsTheStoredState()
    {
        var key = Plane.NewAccount("exported");
        var s = new Scenario(Plane.Client(key));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var web = await s.GroupAsync(vpc, "web");
        var db = await s.GroupAsync(vpc, "db");
        await s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = web, Priority = "3", Description = "app" });
        await s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "192.0.2.7" });
        await s.AuthorizeAsync(web, new { IpProtocol = "udp", PortRange = "53/53", DestCidrIp = "10.0.0.0/8", Policy = "drop" }, egress: true);
        await s.RunAsync(web, vsw, 2);
        await s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { db }, Tag = new[] { new { Key = "env", Value = "prod" } } });

        var (json, stored) = Plane.Store.Read(session => (StateExport.Json(session, key.AccountId, Region), StoredState.Load(session, key.AccountId, Region)));
        var read = StateFileReader.Read(json);
        Assert.Equal(stored.Groups.Select(g => (g.Id, g.Name, g.Type, g.VpcId, g.InnerAccessPolicy)), read.Groups.Select(g => (g.Id, g.Name, g.Type, g.VpcId, g.InnerAccessPolicy)));
        foreach (var group in stored.Groups)
        {
            Assert.Equal(group.Rules.ToArray(), read.FindGroup(group.Id)!.Rules.ToArray());
            Assert.Equal(group.Tags.ToArray(), read.FindGroup(group.Id)!.Tags.ToArray());
        }
        Assert.Equal(stored.Instances.Select(i => (i.Id, i.VpcId, string.Join(",", i.PrivateAddresses), string.Join(",", i.SecurityGroupIds))),
            read.Instances.Select(i => (i.Id, i.VpcId, string.Join(",", i.PrivateAddresses), string.Join(",", i.SecurityGroupIds))));
        Assert.Equal(Auditor.Run(stored).Select(f => f.Message), Auditor.Run(read).Select(f => f.Message));
    }
}
