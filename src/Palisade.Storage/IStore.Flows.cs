using Palisade.Domain.Identifiers;
using Palisade.Storage.Records;

namespace Palisade.Storage;

public partial interface IStoreSession
{
    // Observed flows (issue 20 items 5-6): bookkeeping like rule usage, no revision

    /// <summary>Adds a host's sampled connections to their minutes (each row: one NIC — an ENI, or a classic instance's NIC —, source, protocol, port and minute).</summary>
    void AddObservedFlows(long accountId, string hostName, IReadOnlyList<ObservedFlowRecord> flows);

    /// <summary>
    /// Notes that the host's agent sampled up to <paramref name="now"/> and could not keep
    /// <paramref name="dropped"/> connections since its last report. A host silent for longer than
    /// <paramref name="maxGap"/> samples anew (what it did not see in between is unknown).
    /// </summary>
    void MarkFlowHost(long accountId, string hostName, DateTimeOffset now, TimeSpan maxGap, long dropped);

    /// <summary>
    /// The account's flows to any NIC (primary or secondary ENI) of the instances <paramref name="nics"/>
    /// from <paramref name="since"/> on, added up over minutes and hosts: one row per NIC (instance and
    /// ENI), source, protocol and port, with the first and last minute seen.
    /// </summary>
    IReadOnlyList<ObservedFlowSummary> ListObservedFlows(long accountId, IReadOnlyCollection<InstanceId> nics, DateTimeOffset since);

    IReadOnlyList<FlowHostRecord> ListFlowHosts(long accountId);

    /// <summary>Deletes the account's flow minutes before <paramref name="before"/>; how many rows went.</summary>
    int PurgeObservedFlows(long accountId, DateTimeOffset before);

    /// <summary>Whether the operator turned flow sampling off on the host.</summary>
    bool FlowSamplingOff(string hostName);

    /// <summary>
    /// Those of the hosts named on which the operator turned flow sampling off (a node's batch of status
    /// reports, seventeenth session: one statement a batch); <see cref="FlowSamplingOff"/> once a host is its slow twin.
    /// </summary>
    IReadOnlySet<string> HostsWithoutFlowSampling(IReadOnlyCollection<string> hostNames);

    /// <summary>Turns flow sampling on or off for a declared host (the operator's act).</summary>
    void SetFlowSampling(string hostName, bool on, DateTimeOffset now);
}
