using CsCheck;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.WhatIf;

/// <summary>
/// Random small states, each with one change of every kind an API call can make that fits it: a
/// revoke, a rule modified into a generated one, a generated rule authorized, a leave, a join (of
/// the instance, and of a secondary ENI), the
/// inner access policy flipped, an unused group deleted, an entry of a prefix list replaced. Shared by the what-if's property tests.
/// </summary>
public static class ChangeCases
{
    public static readonly Gen<(NetworkState State, IReadOnlyList<Change> Changes)> Gen =
        from state in SmallUniverse.State
        from rule in SmallUniverse.Rule
        from pick in CsCheck.Gen.Int[0, 1000]
        select (state, Changes(state, rule, pick));

    public static IReadOnlyList<Change> Changes(NetworkState state, Domain.Rules.SecurityGroupRule rule, int pick)
    {
        var changes = new List<Change>();
        var rules = state.Groups.SelectMany(g => g.Rules).ToList();
        if (rules.Count > 0)
            changes.Add(new Change.Revoke(rules[pick % rules.Count].Id));
        var group = state.Groups[pick % state.Groups.Length];
        // A rule of the group modified into the generated one (same ID and direction), where it fits the group's network.
        if (group.Rules.Length > 0 && (group.VpcId is not null || rule.Peer is not Domain.Rules.RulePeer.CidrBlock { Cidr.IsV6: true }))
        {
            var old = group.Rules[pick % group.Rules.Length];
            changes.Add(new Change.Modify(old.Id, rule with { Id = old.Id, Direction = old.Direction, NicType = group.VpcId is null ? rule.NicType : NicType.Intranet }));
        }
        // An authorized rule fits its group's network: classic groups take IPv4 peers and either NIC.
        if (group.VpcId is not null || rule.Peer is not Domain.Rules.RulePeer.CidrBlock { Cidr.IsV6: true })
            changes.Add(new Change.Authorize(group.Id, rule with { Id = SecurityGroupRuleId.Parse("sgr-new"), NicType = group.VpcId is null ? rule.NicType : NicType.Intranet }));
        foreach (var i in state.Instances.Where(i => i.SecurityGroupIds.Length > 1).Take(1))
            changes.Add(new Change.Leave(i.Id, i.SecurityGroupIds[pick % i.SecurityGroupIds.Length]));
        foreach (var i in state.Instances.Skip(pick % state.Instances.Length).Take(1))
        {
            var home = state.FindGroup(i.SecurityGroupIds[0])!;
            if (state.Groups.FirstOrDefault(g => g.VpcId == i.VpcId && g.IsEnterprise == home.IsEnterprise && !i.SecurityGroupIds.Contains(g.Id)) is { } other)
                changes.Add(new Change.Join(i.Id, other.Id));
        }
        // A secondary ENI joins a group of its instance's network and type, and leaves one of its own.
        foreach (var i in state.Instances.Where(i => i.SecondaryInterfaces.Length > 0).Skip(pick % 2).Take(1))
        {
            var eni = i.SecondaryInterfaces[pick % i.SecondaryInterfaces.Length];
            var home = state.FindGroup(i.SecurityGroupIds[0])!;
            if (eni.SecurityGroupIds.Length < 5 && state.Groups.FirstOrDefault(g => g.VpcId == i.VpcId && g.IsEnterprise == home.IsEnterprise && !eni.SecurityGroupIds.Contains(g.Id)) is { } other)
                changes.Add(new Change.Join(i.Id, other.Id, eni.Id));
            if (eni.SecurityGroupIds.Length > 1)
                changes.Add(new Change.Leave(i.Id, eni.SecurityGroupIds[pick % eni.SecurityGroupIds.Length], eni.Id));
        }
        if (!group.IsEnterprise)
            changes.Add(new Change.SetInnerAccessPolicy(group.Id, group.InnerAccessPolicy == InnerAccessPolicy.Accept ? InnerAccessPolicy.Drop : InnerAccessPolicy.Accept));
        foreach (var g in state.Groups.Where(g => state.MembersOf(g.Id).Length == 0).Take(1))
            changes.Add(new Change.DeleteGroup(g.Id));
        // An entry of the IPv4 list removed and a block (private or public) added.
        if (state.FindPrefixList(SmallUniverse.PrefixV4) is { } four)
        {
            var block = PrefixListEditTests.V4Blocks[pick % PrefixListEditTests.V4Blocks.Length];
            var removed = four.Entries.IsEmpty ? null : (Cidr?)four.Entries[pick % four.Entries.Length];
            changes.Add(new Change.ModifyPrefixList(four.Id, four.Entries.Contains(block) && block != removed ? [] : [block], removed is { } r ? [r] : []));
        }
        return changes;
    }
}
