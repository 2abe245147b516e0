namespace Palisade.Domain.Ecs;

/// <summary>The API versions Palisade speaks, for the server, the client, the CLI and the tests alike.</summary>
public static class ApiVersions
{
    /// <summary>ECS: security groups, instances, tags (and Palisade's extension actions).</summary>
    public const string Ecs = "2014-05-26";

    /// <summary>VPC: VPCs and vSwitches.</summary>
    public const string Vpc = "2016-04-28";

    /// <summary>RAM: the AccessKey actions a key uses on its own account.</summary>
    public const string Ram = "2015-05-01";

    /// <summary>STS: GetCallerIdentity, which the aliyun CLI, Steampipe and Prowler call to learn who they are.</summary>
    public const string Sts = "2015-04-01";
}
