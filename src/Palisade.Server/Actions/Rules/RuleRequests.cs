using System.Globalization;

namespace Palisade.Server.Actions.Rules;

/// <summary>
/// The rule fields of Authorize, Revoke and Modify requests: <c>Permissions.N.*</c> or the
/// deprecated top-level single-rule form (ecs-api.md §3.7–§3.9), never both.
/// </summary>
internal static class RuleRequests
{
    /// <summary>The fields of a <c>Permissions.N</c> item: a permission's (<see cref="PermissionFields.Names"/>).</summary>
    private static readonly FieldNames PermissionFieldNames = new([.. PermissionFields.Names]);

    /// <summary>The permissions of the request, numbered as the client numbered them (1 for the top-level form).</summary>
    public static IReadOnlyList<(int Index, PermissionFields Fields)> Permissions(ParameterReader p, int max, bool allowNone = false)
    {
        var listed = p.Objects("Permissions", PermissionFieldNames, max);
        var topLevel = PermissionFields.Names.Where(p.Has).ToList();
        if (listed.Count > 0 && topLevel.Count > 0)
            throw new EcsException(EcsErrors.PermissionsMixed());
        if (listed.Count > 0)
        {
            foreach (var (_, fields) in listed)
            {
                // pop-core keeps the caller's casing inside list items; ECS names are PascalCase.
                var unknown = fields.Keys.FirstOrDefault(k => !PermissionFields.Names.Contains(k, StringComparer.Ordinal));
                if (unknown is not null && PermissionFields.Names.FirstOrDefault(f => f.Equals(unknown, StringComparison.OrdinalIgnoreCase)) is { } meant)
                    throw new EcsException(EcsErrors.ParameterInvalid($"Permissions.N.{unknown}", $"parameter names are case-sensitive; did you mean {meant}?"));
            }
            return [.. listed.Select(l => (l.Index, PermissionFields.From(l.Fields)))];
        }
        if (topLevel.Count == 0 && allowNone)
            return [];
        return [(1, PermissionFields.From(p.All))];
    }

    /// <summary>The group's network and type, and the caller's prefix lists of the group's region (to judge a rule's address family).</summary>
    public static RuleContext ContextOf(IStoreSession s, ActionContext c, GroupRecord group) =>
        new(group.IsClassic, group.Type, id => FindPrefixList(s, c, group, id) is { } l ? new PrefixList(l.Id, l.Name, l.IsV6, [.. l.Entries.Select(e => e.Cidr)]) : null);

    public static SecurityGroupRule Parse(IStoreSession s, ActionContext c, Direction direction, PermissionFields fields, GroupRecord group, SecurityGroupRuleId id, DateTimeOffset now) =>
        PermissionParser.Parse(direction, fields, ContextOf(s, c, group), id, now).OrThrow();

    /// <summary>A rule may name only its own account's lists, of its group's region: any other looks exactly like a missing one.</summary>
    private static PrefixListRecord? FindPrefixList(IStoreSession s, ActionContext c, GroupRecord group, PrefixListId id) =>
        s.PrefixLists.Find(c.AccountId, id) is { } l && l.RegionId == group.RegionId ? l : null;

    /// <summary>The references a rule makes must exist and be allowed for this group (ecs-api.md §3.7).</summary>
    public static void CheckReferences(IStoreSession s, ActionContext c, GroupRecord group, SecurityGroupRule rule)
    {
        var ingress = rule.Direction == Direction.Ingress;
        switch (rule.Peer)
        {
            case RulePeer.Group g:
                if (g.GroupId == group.Id)
                    throw new EcsException(EcsErrors.SelfReference(ingress));
                if (OwnerOf(s, c, g, ingress) is { } owner && owner != c.AccountId)
                {
                    // Another account's group (docs/compat.md, "Cross-account references"): recorded as
                    // named, never looked up, so the answer is the same whether that group exists under
                    // that owner or not (no oracle), and the owner's group is not pinned by it.
                    break;
                }
                var peer = s.Groups.Find(c.AccountId, g.GroupId) ?? throw new EcsException(EcsErrors.PeerGroupNotFound(ingress, g.GroupId.Value));
                if (peer.IsClassic != group.IsClassic)
                    throw new EcsException(EcsErrors.PeerGroupOtherNetworkType());
                if (!group.IsClassic && peer.VpcId != group.VpcId)
                    throw new EcsException(EcsErrors.PeerGroupOtherVpc(ingress));
                break;
            case RulePeer.PrefixList p:
                var prefixList = FindPrefixList(s, c, group, p.PrefixListId) ?? throw new EcsException(EcsErrors.PrefixListNotFound(p.PrefixListId.Value));
                var users = s.PrefixLists.GroupsUsing(prefixList.Id);
                if (!users.Contains(group.Id) && users.Count >= c.Limits.PrefixListAssociations)
                    throw new EcsException(EcsErrors.PrefixListAssociationLimit(prefixList.Id.Value, c.Limits.PrefixListAssociations));
                break;
        }
        if (rule.PortRangeListId is { } list && (s.PortRangeLists.Find(c.AccountId, list) is not { } portRangeList || portRangeList.RegionId != group.RegionId))
            throw new EcsException(EcsErrors.PortRangeListNotFound(list.Value));
    }

    /// <summary>
    /// The account a group reference names as its owner, or null when it names none (the caller's own).
    /// ECS takes the owner's account ID (SourceGroupOwnerId; SourceGroupOwnerAccount has carried the ID
    /// since 2016): a name is accepted only as the caller's own, since resolving other names would
    /// tell a stranger which accounts exist.
    /// </summary>
    private static long? OwnerOf(IStoreSession s, ActionContext c, RulePeer.Group g, bool ingress)
    {
        long? byAccount = null;
        if (g.OwnerAccount is { } text)
        {
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                byAccount = id;
            else if (text == s.FindAccount(c.AccountId)?.Name)
                byAccount = c.AccountId;
            else
                throw new EcsException(EcsErrors.ParameterInvalid(ingress ? "SourceGroupOwnerAccount" : "DestGroupOwnerAccount",
                    "give the owner's Alibaba Cloud account ID (a number), as ECS does; another account's name is not resolved."));
        }
        if (g.OwnerId is { } ownerId && byAccount is { } named && named != ownerId)
            throw new EcsException(EcsErrors.ParameterInvalid(ingress ? "SourceGroupOwnerId" : "DestGroupOwnerId", "it names another account than the OwnerAccount field."));
        return g.OwnerId ?? byAccount;
    }
}
