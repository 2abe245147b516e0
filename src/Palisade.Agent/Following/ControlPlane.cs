using System.Globalization;
using System.Text.Json;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.State;

namespace Palisade.Agent.Following;

/// <summary>What the control plane says a host must enforce, at one revision.</summary>
public sealed record HostPolicy(long Revision, IReadOnlyList<HostBinding> Bindings, NetworkState State);

/// <summary>The agent's view of the control plane (an interface so the loop is tested without a server).</summary>
public interface IControlPlane
{
    Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel);

    /// <summary>
    /// Waits (long poll) until a change after <paramref name="afterRevision"/> that may alter what
    /// <paramref name="hostName"/> enforces (the host's feed: other changes of the account do not wake
    /// it); false when the wait ran out.
    /// </summary>
    Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel);

    Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, CancellationToken cancel);
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
                .Select(b => new HostBinding(InstanceId.Parse(b.GetProperty("InstanceId").GetString()!), b.GetProperty("InterfaceName").GetString()!))
                .ToList();
            var state = StateFileReader.Read(json.GetProperty("State").GetRawText());
            return new HostPolicy(revision, bindings, state);
        }
        catch (Exception e) when (e is StateFileException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // An answer the agent cannot read must never cost the host its ruleset.
            throw new ControlPlaneUnavailableException($"DescribeHostPolicy: the answer could not be read: {e.Message}", e);
        }
    }

    public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
    {
        var json = await Call("DescribeChanges",
            [new("HostName", hostName), new("AfterRevision", afterRevision.ToString(CultureInfo.InvariantCulture)), new("WaitSeconds", ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture))], cancel);
        return json.GetProperty("Changes").GetProperty("Change").GetArrayLength() > 0;
    }

    public async Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<InstanceId> nics, CancellationToken cancel)
    {
        List<KeyValuePair<string, string>> p = [new("RegionId", regionId), new("HostName", hostName), new("AppliedRevision", appliedRevision.ToString(CultureInfo.InvariantCulture))];
        for (var i = 0; i < nics.Count; i++)
            p.Add(new($"InstanceId.{i + 1}", nics[i].Value));
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
