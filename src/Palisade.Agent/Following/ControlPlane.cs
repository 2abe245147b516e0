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

/// <summary>
/// <see cref="IControlPlane"/> over the ECS API: <c>DescribeHostPolicy</c>, <c>DescribeChanges</c>,
/// <c>ReportAgentStatus</c>. A fetch is incremental (issue 17): it sends the digest of every NIC's
/// part it holds and receives only the parts that changed, and the host's state is their union. It
/// holds nothing after a failure, and every <see cref="FullFetchInterval"/> it sends no digests
/// (a full fetch), so an error can never stick; a server that answers no parts is read whole.
/// </summary>
public sealed class EcsControlPlane(EcsClient client, string regionId) : IControlPlane
{
    /// <summary>Per bound NIC: its part's digest and the IDs its part holds, by list.</summary>
    private readonly Dictionary<string, (string Digest, IReadOnlyDictionary<string, string[]> Ids)> _held = new(StringComparer.Ordinal);

    /// <summary>The resources the held parts name, by list and ID, as JSON.</summary>
    private Dictionary<(string List, string Id), string> _resources = [];
    private string? _heldFor;
    private long _fullAt = long.MinValue;

    /// <summary>False: every fetch is the whole host policy in one state (the form before issue 17).</summary>
    public bool Incremental { get; init; } = true;

    /// <summary>How often a fetch ignores what it holds and asks for every NIC's part.</summary>
    public TimeSpan FullFetchInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>NIC parts received (changed) and NIC parts the server said were unchanged, over all fetches: what the incremental fetch saved.</summary>
    public (long Received, long Unchanged) Parts { get; private set; }

    public async Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
    {
        if (!Incremental)
            return await FetchWholeAsync(hostName, cancel);
        try
        {
            return await FetchPartsAsync(hostName, cancel);
        }
        catch
        {
            // Whatever failed, the next fetch starts from nothing.
            _held.Clear();
            throw;
        }
    }

    private async Task<HostPolicy> FetchPartsAsync(string hostName, CancellationToken cancel)
    {
        if (_heldFor != hostName || System.Diagnostics.Stopwatch.GetElapsedTime(_fullAt) >= FullFetchInterval)
        {
            _held.Clear();
            _heldFor = hostName;
            _fullAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        List<KeyValuePair<string, string>> p = [new("RegionId", regionId), new("HostName", hostName), new("PerNic", "true")];
        var n = 0;
        foreach (var (instance, held) in _held)
        {
            n++;
            p.Add(new($"KnownNic.{n}.InstanceId", instance));
            p.Add(new($"KnownNic.{n}.Digest", held.Digest));
        }
        var json = await Call("DescribeHostPolicy", p, cancel);
        try
        {
            if (!json.TryGetProperty("Nics", out var nics))
                return Read(json, json.GetProperty("State").GetRawText());
            // The resources that came: the changed NICs' parts, each once.
            var came = StateParts.Resources(json.GetProperty("State").GetRawText());
            var bound = new HashSet<string>(StringComparer.Ordinal);
            var (received, unchanged) = Parts;
            foreach (var nic in nics.GetProperty("Nic").EnumerateArray())
            {
                var instance = nic.GetProperty("InstanceId").GetString()!;
                bound.Add(instance);
                if (nic.GetProperty("Changed").GetBoolean())
                {
                    var ids = StateParts.Lists.ToDictionary(l => l.List, l => nic.TryGetProperty(l.List + "Ids", out var list)
                        ? list.GetProperty(l.Id).EnumerateArray().Select(i => i.GetString()!).ToArray()
                        : [], StringComparer.Ordinal);
                    _held[instance] = (nic.GetProperty("Digest").GetString()!, ids);
                    received++;
                }
                else if (_held.ContainsKey(instance))
                    unchanged++;
                else
                    throw new InvalidOperationException($"the server says {instance} is unchanged, but nothing is held for it");
            }
            Parts = (received, unchanged);
            foreach (var gone in _held.Keys.Where(k => !bound.Contains(k)).ToList())
                _held.Remove(gone);
            // What came is current; what is held for an unchanged NIC's part is current too (its digest says so).
            var resources = new Dictionary<(string List, string Id), string>();
            foreach (var (_, ids) in _held.Values)
            {
                foreach (var (list, members) in ids)
                {
                    foreach (var id in members)
                    {
                        resources[(list, id)] = came.TryGetValue((list, id), out var fresh) ? fresh
                            : _resources.TryGetValue((list, id), out var held) ? held
                            : throw new InvalidOperationException($"{id} of a NIC's part neither came nor is held");
                    }
                }
            }
            _resources = resources;
            return Read(json, StateParts.Assemble(_held.Values.Select(h => h.Ids), resources, regionId));
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or JsonException)
        {
            throw new ControlPlaneUnavailableException($"DescribeHostPolicy: the answer could not be read: {e.Message}", e);
        }
    }

    private async Task<HostPolicy> FetchWholeAsync(string hostName, CancellationToken cancel)
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

    private static HostPolicy Read(JsonElement json, string state)
    {
        try
        {
            var revision = json.GetProperty("Revision").GetInt64();
            var bindings = json.GetProperty("HostInterfaces").GetProperty("HostInterface").EnumerateArray()
                .Select(b => new HostBinding(InstanceId.Parse(b.GetProperty("InstanceId").GetString()!), b.GetProperty("InterfaceName").GetString()!))
                .ToList();
            return new HostPolicy(revision, bindings, StateFileReader.Read(state));
        }
        catch (Exception e) when (e is StateFileException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
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
