using System.Globalization;
using System.Text.Json;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.State;

namespace Palisade.Agent.Following;

/// <summary>What the control plane says a host must enforce, at one (host) revision: each account's NICs on the host and the state they depend on.</summary>
public sealed record HostPolicy(long Revision, IReadOnlyList<HostPart> Parts)
{
    /// <summary>A host carrying one account's NICs.</summary>
    public HostPolicy(long revision, IReadOnlyList<HostBinding> bindings, NetworkState state)
        : this(revision, [new HostPart(state, bindings)])
    {
    }
}

/// <summary>The agent's view of the control plane (an interface so the loop is tested without a server).</summary>
public interface IControlPlane
{
    Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel);

    /// <summary>Waits (long poll) until the account changes after <paramref name="afterRevision"/>; false when the wait ran out.</summary>
    Task<bool> WaitForChangeAsync(long afterRevision, TimeSpan wait, CancellationToken cancel);

    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel);

    /// <summary>The same report with what the rules decided since the last one (<paramref name="usage"/>, deltas); a control plane that keeps no usage drops it.</summary>
    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, cancel);
}

/// <summary>What one ECS rule decided for one NIC in one direction since the last report: packets (each opens, or tries to open, a connection) and their bytes.</summary>
public sealed record RuleHits(InstanceId InstanceId, string Direction, string SecurityGroupRuleId, long Packets, long Bytes)
{
    /// <summary>The NIC that counted: an ENI of the instance, or its primary NIC.</summary>
    public NicRef Nic { get; init; } = new(InstanceId, null, Secondary: false);
}

/// <summary>The control plane could not be asked (unreachable, refusing, or answering an error); the agent keeps what it enforces.</summary>
public sealed class ControlPlaneUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary><see cref="IControlPlane"/> over the ECS API: <c>DescribeHostPolicy</c>, <c>DescribeChanges</c>, <c>ReportAgentStatus</c>.</summary>
public sealed class EcsControlPlane(EcsClient client, string regionId) : IControlPlane
{
    public async Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
    {
        var json = await Call("DescribeHostPolicy", [new("RegionId", regionId), new("HostName", hostName)], cancel);
        try
        {
            var revision = json.GetProperty("Revision").GetInt64();
            var bindings = json.GetProperty("HostInterfaces").GetProperty("HostInterface").EnumerateArray()
                .Select(b => (Account: b.GetProperty("AccountId").GetString()!,
                    Binding: new HostBinding(InstanceId.Parse(b.GetProperty("InstanceId").GetString()!), b.GetProperty("InterfaceName").GetString()!)
                    {
                        // Each bound ENI is its own NIC (issue 16); absent or empty: the instance's primary NIC.
                        NetworkInterfaceId = b.TryGetProperty("NetworkInterfaceId", out var eni) && eni.GetString() is { Length: > 0 } text ? NetworkInterfaceId.Parse(text) : null,
                    }))
                .ToLookup(b => b.Account, b => b.Binding, StringComparer.Ordinal);
            // Each account's NICs are compiled against that account's state alone.
            var parts = json.GetProperty("Accounts").GetProperty("Account").EnumerateArray()
                .Select(a => new HostPart(StateFileReader.Read(a.GetProperty("State").GetRawText()), [.. bindings[a.GetProperty("AccountId").GetString()!]]))
                .ToList();
            var accounted = json.GetProperty("Accounts").GetProperty("Account").EnumerateArray().Select(a => a.GetProperty("AccountId").GetString()!).ToHashSet(StringComparer.Ordinal);
            if (bindings.Select(g => g.Key).FirstOrDefault(a => !accounted.Contains(a)) is { } missing)
                throw new FormatException($"NICs of account {missing} are bound but its state is missing");
            return new HostPolicy(revision, parts);
        }
        catch (Exception e) when (e is StateFileException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            // An answer the agent cannot read must never cost the host its ruleset.
            throw new ControlPlaneUnavailableException($"DescribeHostPolicy: the answer could not be read: {e.Message}", e);
        }
    }

    public async Task<bool> WaitForChangeAsync(long afterRevision, TimeSpan wait, CancellationToken cancel)
    {
        var json = await Call("DescribeChanges",
            [new("AfterRevision", afterRevision.ToString(CultureInfo.InvariantCulture)), new("WaitSeconds", ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture))], cancel);
        return json.GetProperty("Changes").GetProperty("Change").GetArrayLength() > 0;
    }

    public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, [], cancel);

    public async Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel)
    {
        List<KeyValuePair<string, string>> p = [new("RegionId", regionId), new("HostName", hostName), new("AppliedRevision", appliedRevision.ToString(CultureInfo.InvariantCulture))];
        // Each ENI by its ID; a NIC the server named by instance only (a classic instance's) by the instance's.
        var (enis, instances) = (nics.Where(n => n.NetworkInterfaceId is not null).ToList(), nics.Where(n => n.NetworkInterfaceId is null).ToList());
        for (var i = 0; i < enis.Count; i++)
            p.Add(new($"NetworkInterfaceId.{i + 1}", enis[i].NetworkInterfaceId!.Value.Value));
        for (var i = 0; i < instances.Count; i++)
            p.Add(new($"InstanceId.{i + 1}", instances[i].InstanceId.Value));
        // UsageReported says the agent counts, even when nothing moved: the server learns which hosts watched a rule.
        p.Add(new("UsageReported", "true"));
        for (var i = 0; i < usage.Count; i++)
        {
            var u = usage[i];
            var n = (i + 1).ToString(CultureInfo.InvariantCulture);
            p.Add(u.Nic.NetworkInterfaceId is { } eni ? new($"RuleUsage.{n}.NetworkInterfaceId", eni.Value) : new($"RuleUsage.{n}.InstanceId", u.InstanceId.Value));
            p.Add(new($"RuleUsage.{n}.Direction", u.Direction));
            p.Add(new($"RuleUsage.{n}.SecurityGroupRuleId", u.SecurityGroupRuleId));
            p.Add(new($"RuleUsage.{n}.Packets", u.Packets.ToString(CultureInfo.InvariantCulture)));
            p.Add(new($"RuleUsage.{n}.Bytes", u.Bytes.ToString(CultureInfo.InvariantCulture)));
        }
        await Call("ReportAgentStatus", p, cancel);
    }

    private async Task<JsonElement> Call(string action, List<KeyValuePair<string, string>> parameters, CancellationToken cancel)
    {
        try
        {
            return await client.CallAsync(action, parameters, cancel: cancel);
        }
        catch (EcsApiException e)
        {
            throw new ControlPlaneUnavailableException($"{action}: {e.Code} {e.EcsMessage}", e);
        }
        catch (HttpRequestException e)
        {
            throw new ControlPlaneUnavailableException($"{action}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new ControlPlaneUnavailableException($"{action}: timed out", e);
        }
    }
}
