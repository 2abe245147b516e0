using Palisade.Domain.Hosts;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// Who may call what around hosts (issue 18). A host credential may call only the agent's actions
/// (<see cref="IHostAgentAction"/>), and only for its own host; the host-only ones
/// (<c>DescribeHostPolicy</c>, <c>ReportAgentStatus</c>) refuse an account's key, so that no tenant
/// reads another's policy or reports a NIC in sync. Binding is the operator's act on the store, not
/// an action: a tenant asking for it is told so.
/// </summary>
internal static class HostAccess
{
    /// <summary>The actions tenants called before binding became the operator's (palisade host bind|unbind on the store).</summary>
    public static bool IsOperatorAct(string action) => action is "BindHostInterface" or "UnbindHostInterface";

    public static void Admit(ActionContext c)
    {
        var action = c.Action;
        if (c.Caller.HostName is { } own)
        {
            if (action is not IHostAgentAction)
                throw new EcsException(EcsErrors.HostCredentialOnly(own, action.Name));
            if (c.Parameters.Optional("HostName") is { } asked && asked != own)
                throw new EcsException(EcsErrors.HostCredentialOther(own, asked));
        }
        else if (action is IHostAgentAction { HostOnly: true })
        {
            throw new EcsException(EcsErrors.HostCredentialRequired(action.Name));
        }
    }

    /// <summary>The host a host credential's call is for: its own (a <c>HostName</c> given must be that, checked in <see cref="Admit"/>).</summary>
    public static string HostOf(ActionContext c) =>
        c.Caller.HostName ?? HostNames.Host(c.Parameters.Required("HostName"));
}

/// <summary>An action a host's agent calls with its host credential.</summary>
internal interface IHostAgentAction
{
    /// <summary>Only a host credential may call it (an account's key may call the others, such as <c>DescribeChanges</c>).</summary>
    bool HostOnly { get; }

    /// <summary>
    /// The action reads its caller's host credential in its own store read and refuses when it is gone
    /// (<c>DescribeChanges</c>): the authenticator may then verify the signature with the secret it
    /// holds for the credential's ID, asking the store nothing (issue 17: the fleet's poll renewals).
    /// A credential's secret never changes under its ID: a rotation makes a new ID, a revocation deletes it.
    /// </summary>
    bool ReadsItsCredential => false;
}
