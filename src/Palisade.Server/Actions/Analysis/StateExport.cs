using System.Text;
using Palisade.Domain.Groups;
using Palisade.Server.Responses;
using Palisade.Storage;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.Analysis;

/// <summary>
/// An account's region written as a state file: the response bodies ECS itself would give
/// (DescribeSecurityGroupAttribute merged with the DescribeSecurityGroups item, DescribeInstances
/// items), so the offline commands read the live control plane exactly as they read a real account.
/// </summary>
public static class StateExport
{
    public static string Json(IStoreSession s, long accountId, string regionId) =>
        Encoding.UTF8.GetString(ResponseWriter.Json(Body(s, accountId, regionId)));

    public static EcsObject Body(IStoreSession s, long accountId, string regionId)
    {
        var groups = s.ListGroups(accountId, regionId);
        var body = new EcsObject
        {
            { "RegionId", regionId },
            { "SecurityGroups", groups.Select(g =>
                {
                    var item = new EcsObject
                    {
                        { "SecurityGroupId", g.Id.Value },
                        { "SecurityGroupName", g.Name },
                        { "Description", g.Description },
                        { "VpcId", g.VpcId?.Value ?? "" },
                        { "SecurityGroupType", g.Type.ToWire() },
                        { "InnerAccessPolicy", g.InnerAccessPolicy.ToWire() },
                        { "CreationTime", Time.Format(g.CreatedAt) },
                        { "Tags", Views.Tags(s.ListTags(TaggedResourceTypes.SecurityGroup, g.Id.Value)) },
                        { "Permissions", EcsList.Of("Permission", s.ListRules(g.Id).Select(r => Views.Permission(r))) },
                    };
                    return item;
                }).ToList() },
            { "Instances", s.ListInstances(accountId, regionId).Select(i => Views.Instance(i, s.ListTags(TaggedResourceTypes.Instance, i.Id.Value))).ToList() },
        };
        return body;
    }
}
