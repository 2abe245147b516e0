namespace Palisade.Server.Actions.Geography;

internal sealed class DescribeRegions : ReadAction
{
    public override EcsObject Execute(ActionContext c) => new()
    {
        { "Regions", EcsList.Of("Region", Hosting.Regions.All.Select(r => new EcsObject
            {
                { "RegionId", r.RegionId },
                { "LocalName", r.LocalName },
                { "RegionEndpoint", $"ecs.{r.RegionId}.aliyuncs.com" },
                { "Status", "available" },
            })) },
    };
}
