namespace Palisade.Server.Hosting;

/// <summary>The regions and zones Palisade offers; IDs carry the region's two-letter code as ECS IDs do.</summary>
internal static class Regions
{
    public sealed record Region(string RegionId, string LocalName, string IdCode, IReadOnlyList<string> Zones);

    public static readonly IReadOnlyList<Region> All =
    [
        new("cn-hangzhou", "China (Hangzhou)", "bp", ["cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]),
        new("cn-shanghai", "China (Shanghai)", "uf", ["cn-shanghai-b", "cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g", "cn-shanghai-l"]),
        new("cn-beijing", "China (Beijing)", "2z", ["cn-beijing-f", "cn-beijing-g", "cn-beijing-h", "cn-beijing-i", "cn-beijing-j"]),
        new("cn-shenzhen", "China (Shenzhen)", "wz", ["cn-shenzhen-a", "cn-shenzhen-c", "cn-shenzhen-d", "cn-shenzhen-e", "cn-shenzhen-f"]),
        new("ap-southeast-1", "Singapore", "t4", ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]),
        new("us-west-1", "US (Silicon Valley)", "rj", ["us-west-1a", "us-west-1b"]),
        new("eu-central-1", "Germany (Frankfurt)", "gw", ["eu-central-1a", "eu-central-1b"]),
    ];

    public static Region? Find(string regionId) => All.FirstOrDefault(r => r.RegionId == regionId);
}
