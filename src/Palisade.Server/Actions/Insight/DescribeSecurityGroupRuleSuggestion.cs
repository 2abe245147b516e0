using Palisade.Analysis.Suggestions;
using Palisade.Server.Actions.Hosts;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// Palisade extension (issue 20 item 5): <c>palisade suggest</c> on the server, for the console. The
/// narrowest ingress accept rules that keep every new connection the agents saw the group's own rules
/// admit over the last <c>Days</c> days (<see cref="RuleSuggester"/> on the stored state and the
/// flows <c>DescribeSecurityGroupObservedFlows</c> lists), the rules they would replace, and the
/// what-if of the replacement: the observed flows it would lose (none, each checked) and the
/// reachability it closes or opens. How complete the sample is comes with it, as the flows' own
/// action says it. Nothing changes: applying is the client's AuthorizeSecurityGroup, then
/// RevokeSecurityGroup.
/// </summary>
// Flows arrive without a revision: a cached answer would hide new ones.
internal sealed class DescribeSecurityGroupRuleSuggestion() : ReadAction(cacheable: false), IAnalysisAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var id = c.GroupIdParameter();
        var days = Lookback.Days(c.Parameters, c.ObservedFlows.Retention);
        var now = c.Now;
        var (group, state, flows, sampling) = c.ReadGroup(id, (s, group) =>
        {
            var state = StoredState.Load(s, c.AccountId, region.RegionId);
            var nics = GroupNics.Of(state, group.Id);
            var flows = DescribeSecurityGroupObservedFlows.FlowsTo(c, s, nics, now - TimeSpan.FromDays(days))
                .Select(DescribeSecurityGroupObservedFlows.Connection).ToList();
            return (group, state, flows, DescribeSecurityGroupObservedFlows.Samplers(c, s, nics, now));
        });
        var suggestion = RuleSuggester.Suggest(state, group.Id, flows);
        string GroupName(Domain.Identifiers.SecurityGroupId id) => state.FindGroup(id)?.Name ?? "";
        string ListName(string id) => state.PrefixLists.FirstOrDefault(l => l.Id.Value == id)?.Name ?? state.PortRangeLists.FirstOrDefault(l => l.Id.Value == id)?.Name ?? "";
        EcsObject Suggested(Domain.Rules.SecurityGroupRule rule)
        {
            // A suggested rule is not made yet: it has no ID and no creation time.
            var permission = Views.Permission(rule, GroupName, ListName);
            permission["SecurityGroupRuleId"] = "";
            permission["CreateTime"] = "";
            return permission;
        }
        var (hosts, since, dropped) = sampling;
        return new EcsObject
        {
            { "SecurityGroupId", group.Id.Value },
            { "Days", days },
            { "HostsSampling", hosts },
            { "SamplingSince", since is { } at ? Time.Format(at) : "" },
            { "DroppedConnections", dropped },
            { "ObservedFlowCount", flows.Count },
            { "FlowsKept", suggestion.FlowsKept },
            { "FlowsSetAside", new EcsObject
                {
                    { "NotAMember", suggestion.FlowsSetAside[SetAside.NotAMember] },
                    { "NoLongerAdmitted", suggestion.FlowsSetAside[SetAside.NoLongerAdmitted] },
                    { "AdmittedElsewhere", suggestion.FlowsSetAside[SetAside.AdmittedElsewhere] },
                } },
            { "ReplacedPermissions", EcsList.Of("Permission", suggestion.Replaced.OrderBy(r => r.Priority).Select(r => Views.Permission(r, GroupName, ListName))) },
            { "SuggestedPermissions", EcsList.Of("Permission", suggestion.Rules.Select(Suggested)) },
            { "LostFlowCount", suggestion.Lost.Length },
            { "Closes", DryRunImpact.Flows(suggestion.Closes) },
            { "Opens", DryRunImpact.Flows(suggestion.Opens) },
        };
    }
}
