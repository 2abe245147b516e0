using System.Globalization;
using System.Text.Json;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
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

    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, CancellationToken cancel);

    /// <summary>The same report with what the rules decided since the last one (<paramref name="usage"/>, deltas); a control plane that keeps no usage drops it.</summary>
    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, cancel);

    /// <summary>
    /// The same report with the flows sampled since the last one (<paramref name="flows"/>; null when
    /// the agent does not sample). The answer: whether the host is to sample flows at all (its
    /// operator may switch it off); a control plane that keeps no flows says no.
    /// </summary>
    async Task<bool> ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, IReadOnlyList<RuleHits> usage, FlowReport? flows, CancellationToken cancel)
    {
        await ReportAsync(hostName, appliedRevision, nics, usage, cancel);
        return false;
    }
}

/// <summary>What one ECS rule decided for one NIC in one direction since the last report: packets (each opens, or tries to open, a connection) and their bytes.</summary>
public sealed record RuleHits(InstanceId InstanceId, string Direction, string SecurityGroupRuleId, long Packets, long Bytes);

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
                    Binding: new HostBinding(InstanceId.Parse(b.GetProperty("InstanceId").GetString()!), b.GetProperty("InterfaceName").GetString()!)))
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

    public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, [], cancel);

    public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel) =>
        ReportAsync(hostName, appliedRevision, nics, usage, null, cancel);

    public async Task<bool> ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, IReadOnlyList<RuleHits> usage, FlowReport? flows, CancellationToken cancel)
    {
        List<KeyValuePair<string, string>> p = [new("RegionId", regionId), new("HostName", hostName), new("AppliedRevision", appliedRevision.ToString(CultureInfo.InvariantCulture))];
        for (var i = 0; i < nics.Count; i++)
            p.Add(new($"InstanceId.{i + 1}", nics[i].Value));
        // UsageReported says the agent counts, even when nothing moved: the server learns which hosts watched a rule.
        p.Add(new("UsageReported", "true"));
        for (var i = 0; i < usage.Count; i++)
        {
            var u = usage[i];
            var n = (i + 1).ToString(CultureInfo.InvariantCulture);
            p.Add(new($"RuleUsage.{n}.InstanceId", u.InstanceId.Value));
            p.Add(new($"RuleUsage.{n}.Direction", u.Direction));
            p.Add(new($"RuleUsage.{n}.SecurityGroupRuleId", u.SecurityGroupRuleId));
            p.Add(new($"RuleUsage.{n}.Packets", u.Packets.ToString(CultureInfo.InvariantCulture)));
            p.Add(new($"RuleUsage.{n}.Bytes", u.Bytes.ToString(CultureInfo.InvariantCulture)));
        }
        if (flows is not null)
        {
            // FlowsReported says the agent samples, even when nothing came: the server learns which hosts watched.
            p.Add(new("FlowsReported", "true"));
            for (var i = 0; i < flows.Flows.Count; i++)
            {
                var f = flows.Flows[i];
                var n = (i + 1).ToString(CultureInfo.InvariantCulture);
                p.Add(new($"Flow.{n}.InstanceId", f.InstanceId.Value));
                p.Add(new($"Flow.{n}.SourceIp", f.Source.ToString()));
                p.Add(new($"Flow.{n}.IpProtocol", f.Protocol.ToWire()));
                p.Add(new($"Flow.{n}.Port", f.Port.ToString(CultureInfo.InvariantCulture)));
                p.Add(new($"Flow.{n}.Minute", f.Minute.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture)));
                p.Add(new($"Flow.{n}.Connections", f.Connections.ToString(CultureInfo.InvariantCulture)));
            }
            for (var i = 0; i < flows.Drops.Count; i++)
            {
                var n = (i + 1).ToString(CultureInfo.InvariantCulture);
                p.Add(new($"FlowDrop.{n}.InstanceId", flows.Drops[i].InstanceId.Value));
                p.Add(new($"FlowDrop.{n}.Connections", flows.Drops[i].Connections.ToString(CultureInfo.InvariantCulture)));
            }
        }
        var answer = await Call("ReportAgentStatus", p, cancel);
        return answer.TryGetProperty("FlowSampling", out var sampling) && sampling.ValueKind == JsonValueKind.True;
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
