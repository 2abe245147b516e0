using Npgsql;

namespace Palisade.TestKit;

/// <summary>
/// Which store the store and API tests run on. By default SQLite; with <c>PALISADE_TEST_POSTGRES</c>
/// set to a connection string of a PostgreSQL server (./test.sh starts a private one and runs those
/// suites a second time), every test gets a database of its own there, dropped afterwards.
/// </summary>
public static class TestStores
{
    public static string? PostgresServer => Environment.GetEnvironmentVariable("PALISADE_TEST_POSTGRES") is { Length: > 0 } s ? s : null;

    public static bool OnPostgres => PostgresServer is not null;

    /// <summary>A fresh, empty database; null on SQLite. Dispose drops it.</summary>
    public static PostgresDatabase? NewDatabase() => PostgresServer is { } server ? new PostgresDatabase(server) : null;

    public sealed class PostgresDatabase : IDisposable
    {
        private readonly string _server;

        public PostgresDatabase(string server)
        {
            _server = server;
            Name = "palisade_test_" + Guid.NewGuid().ToString("N");
            using var c = new NpgsqlConnection(server);
            c.Open();
            // Copied as files from the (empty) template, not page by page through the WAL (PostgreSQL 15's
            // default): 14-15 ms a database against 42-48 ms on the CI machine's idle cluster, and the API
            // suite's lane on PostgreSQL makes some 700 of them. The WAL-logged copy is for large templates.
            var strategy = c.PostgreSqlVersion.Major >= 15 ? " STRATEGY = FILE_COPY" : "";
            using var command = new NpgsqlCommand($"CREATE DATABASE {Name}{strategy}", c) { CommandTimeout = 300 };
            command.ExecuteNonQuery();
            ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
        }

        public string Name { get; }

        public string ConnectionString { get; }

        public void Dispose()
        {
            NpgsqlConnection.ClearAllPools();
            using var c = new NpgsqlConnection(_server);
            c.Open();
            using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", c) { CommandTimeout = 300 };
            command.ExecuteNonQuery();
        }
    }
}
