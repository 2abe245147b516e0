using Palisade.Server.Tests.Support;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Actions;

/// <summary>The suite runs on the store the run asked for: ./test.sh runs it on SQLite (<c>PALISADE_REQUIRE_SQLITE=1</c>), then on PostgreSQL (<c>PALISADE_REQUIRE_POSTGRES=1</c>).</summary>
public sealed class StoreUnderTestTests
{
    [Fact]
    public async Task TheControlPlane_UsesTheAskedStore()
    {
        await using var plane = await TestControlPlane.StartAsync();
        Assert.Equal(TestStores.OnPostgres ? "postgres" : "sqlite", plane.Store.Kind);
        if (Environment.GetEnvironmentVariable("PALISADE_REQUIRE_POSTGRES") == "1")
            Assert.True(TestStores.OnPostgres, "PALISADE_REQUIRE_POSTGRES=1 but PALISADE_TEST_POSTGRES is not set");
        // test.sh's first pass: SQLite, whatever the shell exported for the second.
        if (Environment.GetEnvironmentVariable("PALISADE_REQUIRE_SQLITE") == "1")
            Assert.False(TestStores.OnPostgres, "PALISADE_REQUIRE_SQLITE=1 but PALISADE_TEST_POSTGRES is set: this pass runs on PostgreSQL");
    }
}
