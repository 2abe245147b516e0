namespace Palisade.Server.Actions.Vpcs;

internal sealed class CreateVSwitch() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var vpcText = p.Required("VpcId");
        var zone = p.Required("ZoneId");
        if (!region.Zones.Contains(zone))
            throw new EcsException(EcsErrors.ZoneNotFound(zone));
        var cidrText = p.Required("CidrBlock");
        var name = p.Text("VSwitchName", Texts.IsFreeName, EcsErrors.VSwitchNameMalformed) ?? "";
        var description = p.Text("Description", Texts.IsVpcDescription, EcsErrors.DescriptionInvalid) ?? "";
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        return c.Write(s =>
        {
            var vpc = s.Vpc(c, vpcText);
            var cidr = VpcRules.VSwitchBlock(cidrText, vpc.CidrBlock);
            var siblings = s.ListVSwitchesOfVpc(vpc.Id);
            if (siblings.Count >= c.Limits.VSwitchesPerVpc)
                throw new EcsException(EcsErrors.VSwitchQuota(c.Limits.VSwitchesPerVpc));
            if (siblings.FirstOrDefault(w => w.CidrBlock.Covers(cidr) || cidr.Covers(w.CidrBlock)) is { } other)
                throw new EcsException(EcsErrors.VSwitchCidrOverlap(cidrText, other.Id.Value));
            var id = VSwitchId.Parse(c.NewId(VSwitchId.Prefix, region));
            s.VSwitches.Insert(new VSwitchRecord(id, c.AccountId, region.RegionId, vpc.Id, zone, cidr, name, description, "Available", c.Now));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TaggedResourceTypes.VSwitch, id.Value, tag);
            return new EcsObject { { "VSwitchId", id.Value } };
        });
    }
}
