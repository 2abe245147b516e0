namespace Palisade.Domain.Errors;

public static partial class EcsErrorCodes
{
    // Enforcement (Palisade extension: host bindings and agents)
    public const string InvalidHostNameMalformed = "InvalidHostName.Malformed";
    public const string InvalidInterfaceNameMalformed = "InvalidInterfaceName.Malformed";
    public const string InvalidInterfaceNameInUse = "InvalidInterfaceName.InUse";
    public const string InvalidInstanceIdNotBound = "InvalidInstanceId.NotBound";
    // Issue 16 item 6: bindings per ENI
    public const string InvalidEniIdNotBound = "InvalidEniId.NotBound";
    public const string InvalidAppliedRevision = "InvalidAppliedRevision.Malformed";
    // Issue 18: hosts belong to the operator
    public const string InvalidHostDeclaration = "InvalidHostDeclaration.Malformed";
    public const string InvalidHostNameNotDeclared = "InvalidHostName.NotDeclared";
    public const string InvalidInterfaceNameOutsideDeclaration = "InvalidInterfaceName.OutsideDeclaration";
    public const string InvalidInstanceIdOutsideDeclaration = "InvalidInstanceId.AddressOutsideDeclaration";
    public const string ForbiddenHostCredential = "Forbidden.HostCredential";
    public const string ForbiddenHostCredentialRequired = "Forbidden.HostCredentialRequired";
    public const string ForbiddenOperatorAct = "Forbidden.OperatorAct";
}

public static partial class EcsErrors
{
    public static EcsError HostNameMalformed(string value) =>
        E(400, EcsErrorCodes.InvalidHostNameMalformed, $"The specified HostName '{Truncate(value)}' is not valid: 1 to 64 characters, letters, digits, '.', '_' and '-', starting with a letter or digit.");
    public static EcsError InterfaceNameMalformed(string value) =>
        E(400, EcsErrorCodes.InvalidInterfaceNameMalformed, $"The specified InterfaceName '{Truncate(value)}' is not a Linux interface name: 1 to 15 characters, letters, digits, '.', '_' and '-'.");
    /// <param name="nic">The NIC the interface carries: its ENI ID (a classic instance's ID).</param>
    public static EcsError InterfaceInUse(string host, string interfaceName, string nic) =>
        E(403, EcsErrorCodes.InvalidInterfaceNameInUse, $"Interface '{Truncate(interfaceName)}' of host '{Truncate(host)}' already carries the NIC {nic}.");
    public static EcsError InstanceNotBound(string instanceId) =>
        E(404, EcsErrorCodes.InvalidInstanceIdNotBound, $"The primary NIC of the specified instance '{Truncate(instanceId)}' is not bound to any host.");
    public static EcsError NetworkInterfaceNotBound(string networkInterfaceId) =>
        E(404, EcsErrorCodes.InvalidEniIdNotBound, $"The specified network interface '{Truncate(networkInterfaceId)}' is not bound to any host.");
    public static EcsError AppliedRevisionInvalid(string value) =>
        E(400, EcsErrorCodes.InvalidAppliedRevision, $"The specified AppliedRevision '{Truncate(value)}' is not a revision (an integer from 0).");
    public static EcsError HostDeclarationInvalid(string why) =>
        E(400, EcsErrorCodes.InvalidHostDeclaration, $"The host declaration is not valid: {why}");
    public static EcsError HostNotDeclared(string host) =>
        E(404, EcsErrorCodes.InvalidHostNameNotDeclared, $"The host '{Truncate(host)}' is not declared; the operator declares it first: palisade host declare --host {Truncate(host)} --interfaces PATTERNS --addresses CIDRS.");
    public static EcsError InterfaceOutsideDeclaration(string host, string interfaceName, string patterns) =>
        E(403, EcsErrorCodes.InvalidInterfaceNameOutsideDeclaration, $"Interface '{Truncate(interfaceName)}' matches none of the interface patterns host '{Truncate(host)}' declares ({Truncate(patterns)}).");
    public static EcsError AddressOutsideDeclaration(string host, string nic, string address, string space) =>
        E(403, EcsErrorCodes.InvalidInstanceIdOutsideDeclaration, $"The NIC {Truncate(nic)} has the address {address}, outside the address space host '{Truncate(host)}' declares ({Truncate(space)}).");
    public static EcsError HostCredentialOnly(string host, string action) =>
        E(403, EcsErrorCodes.ForbiddenHostCredential, $"This is the host credential of '{Truncate(host)}': it may call only DescribeHostPolicy, DescribeChanges and ReportAgentStatus for that host, not {Truncate(action)}.");
    public static EcsError HostCredentialOther(string host, string asked) =>
        E(403, EcsErrorCodes.ForbiddenHostCredential, $"This is the host credential of '{Truncate(host)}': it may not act for host '{Truncate(asked)}'.");
    public static EcsError HostCredentialRequired(string action) =>
        E(403, EcsErrorCodes.ForbiddenHostCredentialRequired, $"{Truncate(action)} is called by a host's agent with its host credential (palisade host credential create); an account's AccessKey may not call it.");
    /// <summary>The operator names a host credential that does not exist (never made, or revoked already).</summary>
    public static EcsError HostCredentialNotFound(string accessKeyId) =>
        E(404, EcsErrorCodes.InvalidAccessKeyIdNotFound, $"The host credential '{Truncate(accessKeyId)}' does not exist (never made, or revoked already): palisade host credential list shows those that do.");
    public static EcsError OperatorAct(string action) =>
        E(403, EcsErrorCodes.ForbiddenOperatorAct, $"{Truncate(action)} is an operator act on the control plane's store, not an API action: palisade host bind|unbind ... --data DIR (or --store URL). A tenant sees its NICs' enforcement in DescribeHostInterfaces.");
}
