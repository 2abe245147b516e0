namespace Palisade.Server.Actions.Geography;

internal sealed class DescribeRegions : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p) => new()
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
