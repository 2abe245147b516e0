namespace Palisade.Storage.Sql;

/// <summary>
/// The writers of one process, one at a time and in arrival order. Only for fairness and to spare
/// the database's lock and connection pool: correctness rests on the database's own lock.
/// </summary>
internal sealed class WriteQueue
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, WriteQueue> ByDatabase = new(StringComparer.Ordinal);

    /// <summary>
    /// One queue per database file for the whole process: two stores on one SQLite file (two nodes in
    /// one process, as the tests run them) must queue together, or they fall back on SQLite's busy
    /// retries, which sleep and starve one of them.
    /// </summary>
    public static WriteQueue For(string databasePath) => ByDatabase.GetOrAdd(Path.GetFullPath(databasePath), _ => new WriteQueue());

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Raised after a commit through this queue: every store on the file (every node of this process) learns of it at once.</summary>
    public event Action? Committed;

    public void NotifyCommitted() => Committed?.Invoke();

    public T Run<T>(Func<T> write)
    {
        _gate.Wait();
        try
        {
            return write();
        }
        finally
        {
            _gate.Release();
        }
    }
}
