using System.CommandLine;
using Palisade.Analysis.Import;
using Palisade.Client;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade demo</c>: a realistic example account loaded into a server through its ECS API (as
/// <c>palisade import</c> does), so that a newcomer has something to look at: a shop with web, app,
/// db and ops tiers in one VPC (the web tier with public addresses), and a few mistakes real accounts
/// have for the audit to find (SSH open to the internet on the web tier, a database open to all of 10.0.0.0/8, a "monitoring" group whose inner access
/// joins every tier, an unused unnamed copy). The account is <c>Demo/demo-account.json</c>.
/// </summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var command = new Command("demo", """
            Load an example account into a server: a VPC with web, app, db and ops tiers (five instances, six
            groups) and a few deliberate mistakes for 'palisade audit' to find. Refused when the region already
            has a group named web (the demo is loaded once per region).

            Examples:
              palisade demo                      (the server 'palisade serve' runs here, with its key in .palisade/credentials)
              palisade demo --server http://127.0.0.1:8080 --credentials .palisade/credentials --region cn-shanghai
            """);
        return Remote.Attach(command, async c =>
        {
            var network = StateFileReader.Read(Json());
            var existing = (await c.Names.GroupsAsync()).Where(g => network.Groups.Any(d => d.Name == g.Name)).ToList();
            if (existing.Count > 0)
                throw new InvalidOperationException($"the demo is already loaded in {c.Region}: it has a group named '{existing[0].Name}' ({existing[0].Id}); delete its groups and instances, or give another --region");
            var plan = ImportPlan.Of(network);
            var importer = new Importer(c);
            try
            {
                using var progress = ProgressBar.For(c.Parse, "demo");
                await importer.RunAsync(network, plan, progress);
            }
            catch
            {
                await importer.UndoAsync();
                throw;
            }
            if (c.Json)
            {
                c.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { Ids = importer.Ids }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Ok;
            }
            var o = c.Output;
            o.WriteLine($"Loaded the demo account into {c.Region}:");
            Remote.Table(o, ["  KIND", "NAME", "ID"],
            [
                .. network.Groups.Select(g => new[] { "  security group", g.Name, importer.Ids[g.Id.Value] }),
                .. network.Instances.Select(i => new[] { "  instance", i.Name, importer.Ids[i.Id.Value] }),
            ]);
            o.WriteLine();
            o.WriteLine("Next:");
            o.WriteLine("  palisade audit                                 what the example gets wrong");
            o.WriteLine("  palisade instance show web-1                   an instance's rules, pooled in the order they apply");
            o.WriteLine("  palisade reach --to db-1                       who reaches the database, on which ports");
            o.WriteLine("  palisade eval --src web-1 --dst db-1 --protocol tcp --port 5432");
            o.WriteLine("  palisade whatif policy --group monitoring --inner-access drop");
            o.WriteLine($"  the web console: {new Uri(c.Client.Endpoint, "/console/")}");
            return ExitCodes.Ok;
        });
    }

    /// <summary>The demo account as a state file.</summary>
    public static string Json()
    {
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream("demo-account.json")
            ?? throw new InvalidOperationException("the demo account is missing from this build of palisade");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
