namespace Palisade.Server.Actions.Vpcs;

internal sealed class DescribeVSwitches() : ReadAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var filter = new Filter<VSwitchRecord>(p).Equal("VpcId", w => w.VpcId.Value).Equal("VSwitchId", w => w.Id.Value).Equal("ZoneId", w => w.ZoneId).Equal("VSwitchName", w => w.Name);
        var paging = Paging.Read(p, 10, 50, 50);
        return c.Read(s =>
        {
            var all = s.VSwitches.List(c.AccountId, region.RegionId).Where(filter.Keeps).ToList();
            return paging.Answer(all, "VSwitches", page => EcsList.Of("VSwitch", page.Select(w =>
            {
                var used = s.AddressesInUse(c.AccountId, w.VpcId).Count(a => w.CidrBlock.Contains(a));
                return new EcsObject
                {
                    { "VSwitchId", w.Id.Value },
                    { "VSwitchName", w.Name },
                    { "VpcId", w.VpcId.Value },
                    { "ZoneId", w.ZoneId },
                    { "CidrBlock", w.CidrBlock.ToString() },
                    { "Status", w.Status },
                    { "AvailableIpAddressCount", (long)VpcRules.UsableCount(w.CidrBlock) - used },
                    { "CreationTime", Storage.Time.Format(w.CreatedAt) },
                    { "Description", w.Description },
                    { "IsDefault", false },
                    { "ResourceGroupId", "" },
                    { "Tags", Views.VpcTags(s.ListTags(TaggedResourceTypes.VSwitch, w.Id.Value)) },
                };
            })));
        });
    }
}
