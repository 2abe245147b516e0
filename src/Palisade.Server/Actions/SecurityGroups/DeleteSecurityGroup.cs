namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class DeleteSecurityGroup : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var idText = p.Required("SecurityGroupId");
        var id = Lookups.GroupId(idText);
        return c.Write(s =>
        {
            // The current DeleteSecurityGroup page documents its own not-found code (ecs-api.md §3.2).
            var group = s.Groups.Find(c.AccountId, id) ?? throw new EcsException(EcsErrors.GroupNotFoundOnDelete(idText));
            if (s.CountMembers(group.Id) > 0)
                throw new EcsException(EcsErrors.GroupHasMembers());
            // Only the account's own rules pin its group: another account's reference must not let a
            // stranger stop a deletion (nor learn, from the error, which of its groups names this one).
            var referencing = s.GroupsReferencing(group.Id).Where(r => r.AccountId == group.AccountId).ToList();
            if (referencing.Count > 0)
                throw new EcsException(EcsErrors.GroupIsReferenced(referencing[0].Group.Value));
            s.Groups.Delete(group.Id);
            return [];
        });
    }
}
