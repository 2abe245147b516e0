namespace Palisade.Analysis.Reachability;

/// <summary>
/// What one endpoint reaches of another, as a value: for each protocol of <see cref="Reach.Protocols"/>
/// the reached ports as sorted, disjoint, non-adjacent spans (for a protocol without ports, the one
/// span 0–0 means "reached"). Equal sets are equal values, so that the fast matrix can share them and
/// cache the intersection of two by their identities.
/// </summary>
public sealed class AccessSet : IEquatable<AccessSet>
{
    // Per protocol: low0, high0, low1, high1, …
    private readonly int[][] _spans;
    private readonly int _hash;

    private AccessSet(int[][] spans)
    {
        _spans = spans;
        var hash = new HashCode();
        foreach (var protocol in spans)
        {
            hash.Add(protocol.Length);
            foreach (var bound in protocol)
                hash.Add(bound);
        }
        _hash = hash.ToHashCode();
    }

    public static AccessSet None { get; } = new([.. Reach.Protocols.Select(_ => Array.Empty<int>())]);

    public bool IsEmpty => _spans.All(s => s.Length == 0);

    /// <summary>Builds the set from, per protocol, its reached spans in increasing order (adjacent ones are merged).</summary>
    internal static AccessSet Create(List<int>[] spans)
    {
        var result = new int[spans.Length][];
        for (var p = 0; p < spans.Length; p++)
            result[p] = [.. spans[p]];
        return new AccessSet(result);
    }

    public static AccessSet FromAccesses(IEnumerable<Access> accesses)
    {
        var spans = Reach.Protocols.Select(_ => new List<int>()).ToArray();
        foreach (var a in accesses)
        {
            var p = Array.IndexOf(Reach.Protocols, a.Protocol);
            if (!a.Protocol.HasPorts())
            {
                spans[p] = [0, 0];
                continue;
            }
            foreach (var range in a.Ports)
                Append(spans[p], range.Low, range.High);
        }
        return Create(spans);
    }

    /// <summary>The same answer in the shape <see cref="Reach"/> reports: one <see cref="Access"/> per reached protocol.</summary>
    public IReadOnlyList<Access> ToAccesses()
    {
        var result = new List<Access>();
        for (var p = 0; p < _spans.Length; p++)
        {
            var s = _spans[p];
            if (s.Length == 0)
                continue;
            var protocol = Reach.Protocols[p];
            if (!protocol.HasPorts())
            {
                result.Add(new Access(protocol, []));
                continue;
            }
            var ports = new PortRange[s.Length / 2];
            for (var k = 0; k < ports.Length; k++)
                ports[k] = PortRange.Create(s[2 * k], s[(2 * k) + 1]);
            result.Add(new Access(protocol, ports));
        }
        return result;
    }

    /// <summary>The first packet the set holds, in the order answers list them: first protocol, lowest port.</summary>
    public (IpProtocol Protocol, int Port)? First()
    {
        for (var p = 0; p < _spans.Length; p++)
        {
            if (_spans[p].Length > 0)
                return (Reach.Protocols[p], _spans[p][0]);
        }
        return null;
    }

    public bool Contains(IpProtocol protocol, int port) => Contains(_spans[Array.IndexOf(Reach.Protocols, protocol)], port);

    public AccessSet Intersect(AccessSet other) => Combine(other, (a, b) => a && b);

    public AccessSet Union(AccessSet other) => Combine(other, (a, b) => a || b);

    /// <summary>What this set reaches and <paramref name="other"/> does not.</summary>
    public AccessSet Except(AccessSet other) => Combine(other, (a, b) => a && !b);

    /// <summary>Only <paramref name="protocol"/> (when given) and only <paramref name="port"/> (when given; then only TCP and UDP, the protocols with ports).</summary>
    public AccessSet Restrict(IpProtocol? protocol, int? port)
    {
        var spans = new List<int>[_spans.Length];
        for (var p = 0; p < _spans.Length; p++)
        {
            spans[p] = [];
            if (protocol is { } only && Reach.Protocols[p] != only)
                continue;
            var s = _spans[p];
            if (port is { } && !Reach.Protocols[p].HasPorts())
                continue;
            if (port is not { } n)
            {
                spans[p].AddRange(s);
                continue;
            }
            for (var k = 0; k < s.Length; k += 2)
            {
                if (s[k] <= n && n <= s[k + 1])
                    spans[p].AddRange([n, n]);
            }
        }
        return Create(spans);
    }

    private AccessSet Combine(AccessSet other, Func<bool, bool, bool> keep)
    {
        var spans = new List<int>[_spans.Length];
        for (var p = 0; p < _spans.Length; p++)
        {
            spans[p] = [];
            var a = _spans[p];
            var b = other._spans[p];
            // Sweep the boundaries of both in order (a span low–high starts at low and ends before
            // high + 1): between two consecutive boundaries membership in each is fixed. Past the last
            // boundary both are out, and no combination keeps that.
            int i = 0, j = 0;
            bool inA = false, inB = false;
            while (i < a.Length || j < b.Length)
            {
                var at = Math.Min(Boundary(a, i), Boundary(b, j));
                while (i < a.Length && Boundary(a, i) == at)
                {
                    inA = !inA;
                    i++;
                }
                while (j < b.Length && Boundary(b, j) == at)
                {
                    inB = !inB;
                    j++;
                }
                var next = Math.Min(Boundary(a, i), Boundary(b, j));
                if (next == int.MaxValue)
                    break;
                if (keep(inA, inB))
                    Append(spans[p], at, next - 1);
            }
        }
        return Create(spans);
    }

    /// <summary>The k-th boundary of a span list: its lows and (high + 1)s in turn; past the end, int.MaxValue.</summary>
    private static int Boundary(int[] spans, int k) => k >= spans.Length ? int.MaxValue : k % 2 == 0 ? spans[k] : spans[k] + 1;

    private static bool Contains(int[] spans, int port)
    {
        for (var k = 0; k < spans.Length; k += 2)
        {
            if (spans[k] <= port && port <= spans[k + 1])
                return true;
        }
        return false;
    }

    /// <summary>Adds low–high after the last span, merging when they touch.</summary>
    internal static void Append(List<int> spans, int low, int high)
    {
        if (spans.Count > 0 && spans[^1] >= low - 1)
        {
            spans[^1] = Math.Max(spans[^1], high);
            return;
        }
        spans.Add(low);
        spans.Add(high);
    }

    public bool Equals(AccessSet? other)
    {
        if (other is null || other._hash != _hash)
            return false;
        for (var p = 0; p < _spans.Length; p++)
        {
            if (!_spans[p].AsSpan().SequenceEqual(other._spans[p]))
                return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as AccessSet);

    public override int GetHashCode() => _hash;

    public override string ToString() => IsEmpty ? "nothing" : string.Join("; ", ToAccesses().Select(a =>
        a.Protocol.HasPorts() ? $"{a.Protocol.ToWire()} {string.Join(", ", a.Ports.Select(r => r.Low == r.High ? $"{r.Low}" : $"{r.Low}-{r.High}"))}" : a.Protocol.ToWire()));
}
