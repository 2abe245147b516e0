namespace Palisade.Server.Actions.Vpcs;

internal sealed class CreateVpc() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var cidrText = p.Optional("CidrBlock") ?? "172.16.0.0/12";
        var cidr = VpcRules.VpcBlock(cidrText);
        var name = p.Text("VpcName", Texts.IsFreeName, EcsErrors.VpcNameMalformed) ?? "";
        var description = p.Text("Description", Texts.IsVpcDescription, EcsErrors.DescriptionInvalid) ?? "";
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        return c.Write(s =>
        {
            if (s.Vpcs.Count(c.AccountId, region.RegionId) >= c.Limits.VpcsPerRegion)
                throw new EcsException(EcsErrors.VpcQuota(c.Limits.VpcsPerRegion));
            var id = VpcId.Parse(c.NewId(VpcId.Prefix, region));
            s.Vpcs.Insert(new VpcRecord(id, c.AccountId, region.RegionId, cidr, name, description, "Available", c.Now));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TaggedResourceTypes.Vpc, id.Value, tag);
            var tail = id.Value[VpcId.Prefix.Length..];
            return new EcsObject
            {
                { "VpcId", id.Value },
                { "VRouterId", "vrt-" + tail },
                { "RouteTableId", "vtb-" + tail },
                { "ResourceGroupId", "" },
            };
        });
    }
}
