using Palisade.Storage.Postgres;
using Palisade.Storage.Sqlite;

namespace Palisade.Storage;

/// <summary>Opens the store a server or a command was pointed at.</summary>
public static class StoreFactory
{
    /// <param name="store">Null or empty for SQLite in <paramref name="dataDirectory"/>; a <c>postgres://</c> URL or an Npgsql connection string for PostgreSQL.</param>
    /// <param name="recordsMetrics">False for a store whose transactions are no node's (the server's own warm-up): not recorded in the process's store meter.</param>
    public static IStore Open(string? store, string dataDirectory, TimeProvider? clock = null, bool recordsMetrics = true) =>
        string.IsNullOrEmpty(store) || store == "sqlite"
            ? new SqliteStore(Path.Combine(Path.GetFullPath(dataDirectory), "palisade.db"), clock) { RecordsMetrics = recordsMetrics }
            : new PostgresStore(store, clock) { RecordsMetrics = recordsMetrics };

    public static bool IsPostgres(string? store) => !string.IsNullOrEmpty(store) && store != "sqlite";
}
