using System.Data.Common;
using System.Reflection;
using Dapper;

namespace Palisade.Storage.Sql;

public enum Dialect
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Schema migrations: the embedded <c>Schema/NNN_name.sql</c> files, applied in order at start,
/// each in its own transaction and recorded in <c>schema_migrations</c>.
/// </summary>
internal static class Migrations
{
    public static IReadOnlyList<(int Version, string Name, string Sql)> All()
    {
        var assembly = typeof(Migrations).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".sql", StringComparison.Ordinal) && n.Contains(".Schema.", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(".Schema.", StringComparison.Ordinal) + ".Schema.".Length)..];
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (int.Parse(file[..3], System.Globalization.CultureInfo.InvariantCulture), file, reader.ReadToEnd());
            })
            .OrderBy(m => m.Item1)];
    }

    /// <summary>The two places where SQLite spells PostgreSQL's types otherwise.</summary>
    private static string ForSqlite(string sql) => sql
        .Replace("BYTEA", "BLOB", StringComparison.Ordinal)
        .Replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal);

    /// <param name="upTo">Stops after this version: an older schema, as the upgrade tests build it.</param>
    public static void Apply(DbConnection connection, Dialect dialect, TimeProvider clock, int upTo = int.MaxValue)
    {
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        var applied = connection.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, name, sql) in All().Where(m => m.Version <= upTo))
        {
            if (applied.Contains(version))
                continue;
            using var transaction = connection.BeginTransaction();
            // A migration may take long on a big or busy database; it runs once, at start.
            connection.Execute(dialect == Dialect.Sqlite ? ForSqlite(sql) : sql, transaction: transaction, commandTimeout: 600);
            connection.Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)",
                new { version, name, at = Time.Format(clock.GetUtcNow()) }, transaction);
            transaction.Commit();
        }
    }
}
