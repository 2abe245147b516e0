namespace Palisade.Domain.Errors;

public static partial class EcsErrorCodes
{
    // Enforcement (Palisade extension: host bindings and agents)
    public const string InvalidHostNameMalformed = "InvalidHostName.Malformed";
    public const string InvalidInterfaceNameMalformed = "InvalidInterfaceName.Malformed";
    public const string InvalidInterfaceNameInUse = "InvalidInterfaceName.InUse";
    public const string InvalidInstanceIdNotBound = "InvalidInstanceId.NotBound";
    public const string InvalidAppliedRevision = "InvalidAppliedRevision.Malformed";
}

public static partial class EcsErrors
{
    public static EcsError HostNameMalformed(string value) =>
        E(400, EcsErrorCodes.InvalidHostNameMalformed, $"The specified HostName '{Truncate(value)}' is not valid: 1 to 64 characters, letters, digits, '.', '_' and '-', starting with a letter or digit.");
    public static EcsError InterfaceNameMalformed(string value) =>
        E(400, EcsErrorCodes.InvalidInterfaceNameMalformed, $"The specified InterfaceName '{Truncate(value)}' is not a Linux interface name: 1 to 15 characters, letters, digits, '.', '_' and '-'.");
    public static EcsError InterfaceInUse(string host, string interfaceName, string instanceId) =>
        E(403, EcsErrorCodes.InvalidInterfaceNameInUse, $"Interface '{Truncate(interfaceName)}' of host '{Truncate(host)}' already carries instance {instanceId}.");
    public static EcsError InstanceNotBound(string instanceId) =>
        E(404, EcsErrorCodes.InvalidInstanceIdNotBound, $"The specified instance '{Truncate(instanceId)}' is not bound to any host.");
    public static EcsError AppliedRevisionInvalid(string value) =>
        E(400, EcsErrorCodes.InvalidAppliedRevision, $"The specified AppliedRevision '{Truncate(value)}' is not a revision (an integer from 0).");
}
