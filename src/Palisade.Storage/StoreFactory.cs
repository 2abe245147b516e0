using Palisade.Storage.Postgres;
using Palisade.Storage.Sqlite;

namespace Palisade.Storage;

/// <summary>Opens the store a server or a command was pointed at.</summary>
public static class StoreFactory
{
    /// <param name="store">Null or empty for SQLite in <paramref name="dataDirectory"/>; a <c>postgres://</c> URL or an Npgsql connection string for PostgreSQL.</param>
    public static IStore Open(string? store, string dataDirectory, TimeProvider? clock = null) =>
        string.IsNullOrEmpty(store) || store == "sqlite"
            ? new SqliteStore(Path.Combine(Path.GetFullPath(dataDirectory), "palisade.db"), clock)
            : new PostgresStore(store, clock);

    public static bool IsPostgres(string? store) => !string.IsNullOrEmpty(store) && store != "sqlite";
}
