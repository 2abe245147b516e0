namespace Palisade.Storage.Sql;

/// <summary>
/// The writers of one process, one at a time and in arrival order. Only for fairness and to spare
/// the database's lock and connection pool: correctness rests on the database's own lock.
/// </summary>
internal sealed class WriteQueue
{
    private readonly SemaphoreSlim _gate = new(1, 1);

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
