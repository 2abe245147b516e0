namespace Palisade.Server.Actions.Vpcs;

internal sealed class DescribeVpcs() : ReadAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var ids = p.Optional("VpcId")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        if (ids is { Count: > 20 })
            throw new Domain.Errors.EcsException(Domain.Errors.EcsErrors.ParameterInvalid("VpcId", "at most 20 IDs."));
        var name = p.Optional("VpcName");
        var paging = Paging.Read(p, 10, 50, 50);
        return c.Read(s =>
        {
            var all = s.ListVpcs(c.AccountId, region.RegionId)
                .Where(v => ids is null || ids.Contains(v.Id.Value))
                .Where(v => name is null || v.Name == name)
                .ToList();
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
