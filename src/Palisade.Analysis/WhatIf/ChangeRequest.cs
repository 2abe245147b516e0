using Palisade.Analysis.Import;

namespace Palisade.Analysis.WhatIf;

/// <summary>A change as the ECS request that makes it (what a server is asked about in DescribeChangeImpact, or to do).</summary>
public static class ChangeRequest
{
    /// <summary>The ECS request that makes <paramref name="change"/>.</summary>
    public static (string Action, List<KeyValuePair<string, string?>> Parameters) Of(Change change, NetworkState state)
    {
        KeyValuePair<string, string?> P(string name, string? value) => new(name, value);
        (SecurityGroup Group, SecurityGroupRule Rule) Owner(SecurityGroupRuleId id) =>
            state.Groups.SelectMany(g => g.Rules.Where(r => r.Id == id).Select(r => (g, r))).FirstOrDefault() is { g: not null } found
                ? found
                : throw new ArgumentException($"--rule {id}: no such rule in {state.RegionId} on the server");
        switch (change)
        {
            case Change.Join j:
                return ("JoinSecurityGroup", j.NetworkInterface is { } joining
                    ? [P("NetworkInterfaceId", joining.Value), P("SecurityGroupId", j.Group.Value)]
                    : [P("InstanceId", j.Instance.Value), P("SecurityGroupId", j.Group.Value)]);
            case Change.Leave l:
                return ("LeaveSecurityGroup", l.NetworkInterface is { } leaving
                    ? [P("NetworkInterfaceId", leaving.Value), P("SecurityGroupId", l.Group.Value)]
                    : [P("InstanceId", l.Instance.Value), P("SecurityGroupId", l.Group.Value)]);
            case Change.DeleteGroup d:
                return ("DeleteSecurityGroup", [P("SecurityGroupId", d.Group.Value)]);
            case Change.SetInnerAccessPolicy p:
                return ("ModifySecurityGroupPolicy", [P("SecurityGroupId", p.Group.Value), P("InnerAccessPolicy", p.Policy.ToWire())]);
            case Change.Revoke r:
            {
                var (group, rule) = Owner(r.RuleId);
                return (rule.Direction == Direction.Ingress ? "RevokeSecurityGroup" : "RevokeSecurityGroupEgress",
                    [P("SecurityGroupId", group.Id.Value), P("SecurityGroupRuleId.1", r.RuleId.Value)]);
            }
            case Change.Authorize a:
                return (a.Rule.Direction == Direction.Ingress ? "AuthorizeSecurityGroup" : "AuthorizeSecurityGroupEgress",
                    [P("SecurityGroupId", a.Group.Value), .. RuleFields.Of(a.Rule, id => id).Select(f => P($"Permissions.1.{f.Key}", f.Value))]);
            case Change.Modify m:
            {
                var (group, _) = Owner(m.RuleId);
                return (m.Rule.Direction == Direction.Ingress ? "ModifySecurityGroupRule" : "ModifySecurityGroupEgressRule",
                    [P("SecurityGroupId", group.Id.Value), P("SecurityGroupRuleId", m.RuleId.Value), .. RuleFields.Of(m.Rule, id => id).Where(f => f.Key != "NicType")]);
            }
            case Change.ModifyPrefixList l:
                return ("ModifyPrefixList", [P("PrefixListId", l.List.Value),
                    .. l.Added.Select((c, k) => P($"AddEntry.{k + 1}.Cidr", c.ToString())),
                    .. l.Removed.Select((c, k) => P($"RemoveEntry.{k + 1}.Cidr", c.ToString()))]);
            default:
                throw new ArgumentException($"{change.Describe()}: not a change a server can be asked about");
        }
    }
}
