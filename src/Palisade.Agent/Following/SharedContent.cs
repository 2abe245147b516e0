using System.Runtime.CompilerServices;
using Palisade.Domain.State;

namespace Palisade.Agent.Following;

/// <summary>
/// What several agents in one process hold alike, kept once by content (issue 17: the fleet bench runs
/// thousands of simulated agents in one process, and the agents of one account hold the same
/// resources' JSON, the same IDs and, for the hosts of one pod, the same assembled state): each text
/// once, and each state text parsed once (a <see cref="NetworkState"/> is immutable, so the agents that
/// hold the same text share one). It keeps nothing alive by itself: a text is held weakly and goes
/// when no agent holds it, and a parsed state lives as long as its text. A real agent, one a host,
/// has nothing to share and needs none (<see cref="EcsControlPlane.Shared"/> is null there).
/// </summary>
public sealed class SharedContent
{
    private readonly Lock _lock = new();

    /// <summary>The resources the agents read, each once while its (shared) text is held.</summary>
    public StateItemCache Items { get; } = new();

    /// <summary>The texts by their hash (the process's string hash; equal hashes are told apart by content).</summary>
    private readonly Dictionary<int, List<WeakReference<string>>> _texts = [];

    /// <summary>Each shared state text's parsed state, alive while the text is.</summary>
    private readonly ConditionalWeakTable<string, NetworkState> _states = new();

    private int _entries;
    private int _sweepAt = 1024;

    /// <summary>Texts handed out as shared, and how many of them were already held (the copies not kept).</summary>
    public (long Asked, long Found) Texts { get; private set; }

    /// <summary>States parsed, and states asked for whose text was parsed already.</summary>
    public (long Parsed, long Found) States => (Interlocked.Read(ref _parsed), Interlocked.Read(ref _statesAsked) - Interlocked.Read(ref _parsed));

    private long _parsed;
    private long _statesAsked;

    /// <summary>The one instance of a text equal to <paramref name="text"/>: the one held already, or this one from now on.</summary>
    public string Text(string text)
    {
        var hash = text.GetHashCode();
        lock (_lock)
        {
            var (asked, found) = Texts;
            if (_texts.TryGetValue(hash, out var candidates))
            {
                foreach (var candidate in candidates)
                {
                    if (candidate.TryGetTarget(out var held) && string.Equals(held, text, StringComparison.Ordinal))
                    {
                        Texts = (asked + 1, found + 1);
                        return held;
                    }
                }
            }
            else
                _texts[hash] = candidates = new List<WeakReference<string>>(1);
            candidates.Add(new WeakReference<string>(text));
            Texts = (asked + 1, found);
            if (++_entries >= _sweepAt)
                SweepLocked();
            return text;
        }
    }

    /// <summary>
    /// The shared instance of a state text and its state, parsed by <paramref name="read"/> only the
    /// first time that text is seen (while some agent holds it).
    /// </summary>
    public (string Text, NetworkState State) State(string text, Func<string, NetworkState> read)
    {
        var shared = Text(text);
        Interlocked.Increment(ref _statesAsked);
        var state = _states.GetValue(shared, t =>
        {
            Interlocked.Increment(ref _parsed);
            return read(t);
        });
        return (shared, state);
    }

    /// <summary>Assembled state texts by what they were assembled from (the shared resources' texts, by reference), held weakly.</summary>
    private readonly Dictionary<int, List<(string[] From, WeakReference<string> Text)>> _assembled = [];

    private int _assembledEntries;
    private int _assembledSweepAt = 256;
    private long _assemblies;
    private long _assembliesAsked;

    /// <summary>States asked for by what they are assembled from, and how many of them were assembled (the others found held).</summary>
    public (long Asked, long Assembled) Assemblies => (Interlocked.Read(ref _assembliesAsked), Interlocked.Read(ref _assemblies));

    /// <summary>
    /// The shared state text assembled from <paramref name="from"/> and its state (issue 17: the hundred
    /// agents of an account each assembled the same ~400 KB text after a change, to find it held already
    /// by <see cref="State"/>): <paramref name="from"/> is everything the text is a function of — the
    /// region and, list by list, the resources' texts, each one this store handed out (<see cref="Text"/>),
    /// so the same reference is the same content. When an agent assembled it from the same references and
    /// some agent still holds the text, that text and its parsed state; otherwise
    /// <paramref name="assemble"/> makes it and <see cref="State"/> shares it as any other.
    /// The slow twin is each agent's own assembly (<see cref="EcsControlPlane"/> without <see cref="EcsControlPlane.Shared"/>).
    /// </summary>
    public (string Text, NetworkState State) Assembled(string[] from, Func<string> assemble, Func<string, NetworkState> read)
    {
        Interlocked.Increment(ref _assembliesAsked);
        var hash = new HashCode();
        foreach (var item in from)
            hash.Add(RuntimeHelpers.GetHashCode(item));
        var key = hash.ToHashCode();
        lock (_lock)
        {
            if (_assembled.TryGetValue(key, out var candidates))
            {
                foreach (var (made, text) in candidates)
                {
                    if (text.TryGetTarget(out var held) && Same(made, from) && _states.TryGetValue(held, out var state))
                        return (held, state);
                }
            }
        }
        Interlocked.Increment(ref _assemblies);
        var shared = State(assemble(), read);
        lock (_lock)
        {
            if (!_assembled.TryGetValue(key, out var candidates))
                _assembled[key] = candidates = new List<(string[], WeakReference<string>)>(1);
            candidates.Add((from, new WeakReference<string>(shared.Text)));
            if (++_assembledEntries >= _assembledSweepAt)
            {
                var live = 0;
                foreach (var (k, list) in _assembled.ToList())
                {
                    list.RemoveAll(c => !c.Text.TryGetTarget(out _));
                    if (list.Count == 0)
                        _assembled.Remove(k);
                    live += list.Count;
                }
                _assembledEntries = live;
                _assembledSweepAt = Math.Max(256, live * 2);
            }
        }
        return shared;
    }

    private static bool Same(string[] a, string[] b)
    {
        if (a.Length != b.Length)
            return false;
        for (var i = 0; i < a.Length; i++)
        {
            if (!ReferenceEquals(a[i], b[i]))
                return false;
        }
        return true;
    }

    /// <summary>Drops the entries whose text no agent holds any more (made by itself when the entries have doubled since the last).</summary>
    public void Sweep()
    {
        lock (_lock)
            SweepLocked();
    }

    private void SweepLocked()
    {
        var live = 0;
        foreach (var (hash, candidates) in _texts.ToList())
        {
            candidates.RemoveAll(c => !c.TryGetTarget(out _));
            if (candidates.Count == 0)
                _texts.Remove(hash);
            live += candidates.Count;
        }
        _entries = live;
        _sweepAt = Math.Max(1024, live * 2);
    }

    /// <summary>Texts held now (alive or not yet swept).</summary>
    public int Entries
    {
        get
        {
            lock (_lock)
                return _entries;
        }
    }
}
