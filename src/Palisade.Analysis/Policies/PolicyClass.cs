namespace Palisade.Analysis.Policies;

/// <summary>
/// Instances in the same network with the same groups enforce the same rules: they are one policy
/// class, and every analysis (reachability, what-if, audit) compiles or paints one policy per class.
/// </summary>
internal static class PolicyClass
{
    /// <summary>The compiled-policy identity of an instance: its network and the groups the state holds, in ID order.</summary>
    public static string Key(NetworkState state, Instance instance) =>
        $"{instance.NetworkType}|{instance.VpcId}|{string.Join(',', instance.SecurityGroupIds.Distinct().Where(g => state.FindGroup(g) is not null).Order())}";
}
