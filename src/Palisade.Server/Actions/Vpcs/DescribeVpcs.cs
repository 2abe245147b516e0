namespace Palisade.Server.Actions.Vpcs;

internal sealed class DescribeVpcs() : ReadAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var filter = new Filter<VpcRecord>(p).AnyOfCommaSeparated("VpcId", v => v.Id.Value, max: 20).Equal("VpcName", v => v.Name);
        var paging = Paging.Read(p, 10, 50, 50);
        return c.Read(s =>
        {
            var all = s.Vpcs.List(c.AccountId, region.RegionId).Where(filter.Keeps).ToList();
            return paging.Answer(all, "Vpcs", page => EcsList.Of("Vpc", page.Select(v => new EcsObject
            {
                { "VpcId", v.Id.Value },
                { "VpcName", v.Name },
                { "CidrBlock", v.CidrBlock.ToString() },
                { "Status", v.Status },
                { "RegionId", v.RegionId },
                { "CreationTime", Storage.Time.Format(v.CreatedAt) },
                { "Description", v.Description },
                { "IsDefault", false },
                { "VRouterId", "vrt-" + v.Id.Value[4..] },
                { "VSwitchIds", EcsList.Of("VSwitchId", s.ListVSwitchesOfVpc(v.Id).Select(w => w.Id.Value)) },
                { "ResourceGroupId", "" },
                { "Tags", Views.VpcTags(s.ListTags(TaggedResourceTypes.Vpc, v.Id.Value)) },
            })));
        });
    }
}
