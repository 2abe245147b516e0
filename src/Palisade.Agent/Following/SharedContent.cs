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
