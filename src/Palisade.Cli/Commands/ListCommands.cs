using System.CommandLine;
using System.Text.Json;
using Palisade.Client;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade prefix-list …</c> and <c>palisade port-range-list …</c> against a server (issue 16):
/// the ECS actions of each, an entry written as <c>CIDR[=DESCRIPTION]</c> or <c>PORTS[=DESCRIPTION]</c>.
/// </summary>
public static class ListCommands
{
    public static Command PrefixList()
    {
        var command = new Command("prefix-list", "Prefix lists: named sets of CIDR blocks that rules name as their peer (CreatePrefixList, DescribePrefixLists, …).");
        command.Subcommands.Add(Remote.Attach(new Command("list", "The prefix lists of the region, with how many groups use each.\n\nExample:\n  palisade prefix-list list"), async c =>
        {
            var answer = await c.CallAllAsync("DescribePrefixLists", [], "PrefixLists", "PrefixList");
            if (c.Json)
                c.WriteJson(answer);
            else
                Remote.Table(c.Output, ["ID", "NAME", "FAMILY", "MAX ENTRIES", "USED BY"], [.. answer.Items("PrefixLists", "PrefixList")
                    .Select(l => new[] { l.Str("PrefixListId"), l.Str("PrefixListName"), l.Str("AddressFamily"), l.Str("MaxEntries"), l.Str("AssociationCount") })
                    .OrderBy(r => r[1], StringComparer.Ordinal).ThenBy(r => r[0], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        }));

        var showId = new Argument<string>("PREFIX_LIST_ID") { Description = "The prefix list, pl-…" };
        command.Subcommands.Add(Remote.Attach(new Command("show", "A prefix list's entries and the groups whose rules name it.\n\nExample:\n  palisade prefix-list show pl-bp1abc") { showId }, async c =>
        {
            var id = c.Parse.GetValue(showId);
            var attributes = await c.CallAsync("DescribePrefixListAttributes", [new("PrefixListId", id)]);
            var associations = await c.CallAsync("DescribePrefixListAssociations", [new("PrefixListId", id), new("MaxResults", "100")]);
            if (c.Json)
            {
                c.WriteJson(attributes);
                return ExitCodes.Ok;
            }
            var entries = attributes.Items("Entries", "Entry").ToList();
            c.Output.WriteLine($"{attributes.Str("PrefixListId")}  {attributes.Str("PrefixListName")}  {attributes.Str("AddressFamily")}  {entries.Count} of {attributes.Str("MaxEntries")} entries");
            if (attributes.Str("Description").Length > 0)
                c.Output.WriteLine(attributes.Str("Description"));
            Remote.Table(c.Output, ["CIDR", "DESCRIPTION"], [.. entries.Select(e => new[] { e.Str("Cidr"), e.Str("Description") })]);
            var groups = associations.Items("PrefixListAssociations", "PrefixListAssociation").Select(a => a.Str("ResourceId")).ToList();
            c.Output.WriteLine(groups.Count == 0 ? "used by no security group" : $"used by: {string.Join(", ", groups)}");
            return ExitCodes.Ok;
        }));

        var family = new Option<string>("--family") { Description = "IPv4 or IPv6.", DefaultValueFactory = _ => "IPv4", HelpName = "FAMILY" };
        family.AcceptOnlyFromAmong("IPv4", "IPv6");
        var max = new Option<int>("--max-entries") { Description = "How many entries it may ever hold (1–200; fixed; each rule naming it counts as this many rules).", Required = true, HelpName = "N" };
        var name = new Option<string>("--name") { Description = "Its name (2–128 characters, a letter first).", Required = true, HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "Its description.", HelpName = "TEXT" };
        var entry = new Option<string[]>("--entry") { Description = "CIDR[=DESCRIPTION] (repeatable).", HelpName = "CIDR" };
        command.Subcommands.Add(Remote.Attach(new Command("create", "A new prefix list; prints its ID.\n\nExample:\n  palisade prefix-list create --name office --max-entries 10 --entry 203.0.113.0/24=hq --entry 198.51.100.7")
            { family, max, name, description, entry }, async c =>
        {
            var p = new List<KeyValuePair<string, string?>>
            {
                new("AddressFamily", c.Parse.GetValue(family)), new("MaxEntries", RuleSpec.Index(c.Parse.GetValue(max))),
                new("PrefixListName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description)),
            };
            p.AddRange(Entries("Entry", "Cidr", c.Parse.GetValue(entry)));
            var answer = await c.CallAsync("CreatePrefixList", p);
            return Print(c, answer, answer.Str("PrefixListId"));
        }));

        var modifyId = new Argument<string>("PREFIX_LIST_ID") { Description = "The prefix list, pl-…" };
        var add = new Option<string[]>("--add") { Description = "CIDR[=DESCRIPTION] to add, or to describe anew (repeatable).", HelpName = "CIDR" };
        var remove = new Option<string[]>("--remove") { Description = "CIDR to remove (repeatable).", HelpName = "CIDR" };
        var newName = new Option<string?>("--name") { Description = "A new name.", HelpName = "NAME" };
        var newDescription = new Option<string?>("--description") { Description = "A new description.", HelpName = "TEXT" };
        command.Subcommands.Add(Remote.Attach(new Command("modify", "Add and remove entries, rename, describe anew; every rule naming it follows at once.\n\nExample:\n  palisade prefix-list modify pl-bp1abc --add 192.0.2.0/24=branch --remove 198.51.100.7/32")
            { modifyId, add, remove, newName, newDescription }, async c =>
        {
            var p = new List<KeyValuePair<string, string?>> { new("PrefixListId", c.Parse.GetValue(modifyId)), new("PrefixListName", c.Parse.GetValue(newName)), new("Description", c.Parse.GetValue(newDescription)) };
            p.AddRange(Entries("AddEntry", "Cidr", c.Parse.GetValue(add)));
            p.AddRange(Entries("RemoveEntry", "Cidr", c.Parse.GetValue(remove), descriptions: false));
            var answer = await c.CallAsync("ModifyPrefixList", p);
            return Print(c, answer, $"{c.Parse.GetValue(modifyId)} modified");
        }));

        var deleteId = new Argument<string>("PREFIX_LIST_ID") { Description = "The prefix list, pl-…" };
        command.Subcommands.Add(Remote.Attach(new Command("delete", "Delete a prefix list no rule names.\n\nExample:\n  palisade prefix-list delete pl-bp1abc") { deleteId }, async c =>
        {
            var answer = await c.CallAsync("DeletePrefixList", [new("PrefixListId", c.Parse.GetValue(deleteId))]);
            return Print(c, answer, $"{c.Parse.GetValue(deleteId)} deleted");
        }));
        return command;
    }

    public static Command PortRangeList()
    {
        var command = new Command("port-range-list", "Port-range lists: named sets of port ranges that TCP/UDP rules name as their ports (CreatePortRangeList, DescribePortRangeLists, …).");
        command.Subcommands.Add(Remote.Attach(new Command("list", "The port-range lists of the region, with how many groups use each.\n\nExample:\n  palisade port-range-list list"), async c =>
        {
            var lists = new List<JsonElement>();
            var token = "";
            do
            {
                var page = await c.CallAsync("DescribePortRangeLists", [new("MaxResults", "100"), new("NextToken", token.Length > 0 ? token : null)]);
                lists.AddRange(page.GetProperty("PortRangeLists").EnumerateArray());
                token = page.Str("NextToken");
            }
            while (token.Length > 0);
            if (c.Json)
                c.WriteJson(JsonSerializer.SerializeToElement(new { PortRangeLists = lists }));
            else
                Remote.Table(c.Output, ["ID", "NAME", "MAX ENTRIES", "USED BY"], [.. lists
                    .Select(l => new[] { l.Str("PortRangeListId"), l.Str("PortRangeListName"), l.Str("MaxEntries"), l.Str("AssociationCount") })
                    .OrderBy(r => r[1], StringComparer.Ordinal).ThenBy(r => r[0], StringComparer.Ordinal)]);
            return ExitCodes.Ok;
        }));

        var showId = new Argument<string>("PORT_RANGE_LIST_ID") { Description = "The port-range list, prl-…" };
        command.Subcommands.Add(Remote.Attach(new Command("show", "A port-range list's entries and the groups whose rules name it.\n\nExample:\n  palisade port-range-list show prl-bp1abc") { showId }, async c =>
        {
            var id = c.Parse.GetValue(showId);
            var entries = await c.CallAsync("DescribePortRangeListEntries", [new("PortRangeListId", id)]);
            var associations = await c.CallAsync("DescribePortRangeListAssociations", [new("PortRangeListId", id), new("MaxResults", "100")]);
            if (c.Json)
            {
                c.WriteJson(entries);
                return ExitCodes.Ok;
            }
            Remote.Table(c.Output, ["PORTS", "DESCRIPTION"], [.. entries.GetProperty("Entries").EnumerateArray().Select(e => new[] { e.Str("PortRange"), e.Str("Description") })]);
            var groups = associations.GetProperty("PortRangeListAssociations").EnumerateArray().Select(a => a.Str("ResourceId")).ToList();
            c.Output.WriteLine(groups.Count == 0 ? "used by no security group" : $"used by: {string.Join(", ", groups)}");
            return ExitCodes.Ok;
        }));

        var max = new Option<int>("--max-entries") { Description = "How many entries it may ever hold (1–2000; fixed; each rule naming it counts as this many rules).", Required = true, HelpName = "N" };
        var name = new Option<string>("--name") { Description = "Its name (2–128 characters, a letter first).", Required = true, HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "Its description.", HelpName = "TEXT" };
        var entry = new Option<string[]>("--entry") { Description = "PORTS[=DESCRIPTION], e.g. 80, 8000-8010 or 443/443 (repeatable).", HelpName = "PORTS" };
        command.Subcommands.Add(Remote.Attach(new Command("create", "A new port-range list; prints its ID.\n\nExample:\n  palisade port-range-list create --name web --max-entries 5 --entry 80=http --entry 443")
            { max, name, description, entry }, async c =>
        {
            var p = new List<KeyValuePair<string, string?>>
            {
                new("MaxEntries", RuleSpec.Index(c.Parse.GetValue(max))), new("PortRangeListName", c.Parse.GetValue(name)), new("Description", c.Parse.GetValue(description)),
            };
            p.AddRange(Entries("Entry", "PortRange", c.Parse.GetValue(entry), ports: true));
            var answer = await c.CallAsync("CreatePortRangeList", p);
            return Print(c, answer, answer.Str("PortRangeListId"));
        }));

        var modifyId = new Argument<string>("PORT_RANGE_LIST_ID") { Description = "The port-range list, prl-…" };
        var add = new Option<string[]>("--add") { Description = "PORTS[=DESCRIPTION] to add, or to describe anew (repeatable).", HelpName = "PORTS" };
        var remove = new Option<string[]>("--remove") { Description = "PORTS to remove (repeatable).", HelpName = "PORTS" };
        var newName = new Option<string?>("--name") { Description = "A new name.", HelpName = "NAME" };
        var newDescription = new Option<string?>("--description") { Description = "A new description.", HelpName = "TEXT" };
        command.Subcommands.Add(Remote.Attach(new Command("modify", "Add and remove entries, rename, describe anew; every rule naming it follows at once.\n\nExample:\n  palisade port-range-list modify prl-bp1abc --add 8443=alt --remove 80")
            { modifyId, add, remove, newName, newDescription }, async c =>
        {
            var p = new List<KeyValuePair<string, string?>> { new("PortRangeListId", c.Parse.GetValue(modifyId)), new("PortRangeListName", c.Parse.GetValue(newName)), new("Description", c.Parse.GetValue(newDescription)) };
            p.AddRange(Entries("AddEntry", "PortRange", c.Parse.GetValue(add), ports: true));
            p.AddRange(Entries("RemoveEntry", "PortRange", c.Parse.GetValue(remove), descriptions: false, ports: true));
            var answer = await c.CallAsync("ModifyPortRangeList", p);
            return Print(c, answer, $"{c.Parse.GetValue(modifyId)} modified");
        }));

        var deleteId = new Argument<string>("PORT_RANGE_LIST_ID") { Description = "The port-range list, prl-…" };
        command.Subcommands.Add(Remote.Attach(new Command("delete", "Delete a port-range list no rule names.\n\nExample:\n  palisade port-range-list delete prl-bp1abc") { deleteId }, async c =>
        {
            var answer = await c.CallAsync("DeletePortRangeList", [new("PortRangeListId", c.Parse.GetValue(deleteId))]);
            return Print(c, answer, $"{c.Parse.GetValue(deleteId)} deleted");
        }));
        return command;
    }

    /// <summary><c>VALUE[=DESCRIPTION]</c> items as <c>Name.N.Field</c> (and <c>Name.N.Description</c>); ports as ECS writes them.</summary>
    private static IEnumerable<KeyValuePair<string, string?>> Entries(string name, string field, string[]? given, bool descriptions = true, bool ports = false)
    {
        given ??= [];
        for (var i = 0; i < given.Length; i++)
        {
            var pair = given[i].Split('=', 2);
            yield return new($"{name}.{RuleSpec.Index(i + 1)}.{field}", ports ? RuleSpec.Ports(pair[0]) : pair[0]);
            if (descriptions && pair.Length > 1)
                yield return new($"{name}.{RuleSpec.Index(i + 1)}.Description", pair[1]);
        }
    }

    private static int Print(RemoteContext c, JsonElement answer, string line)
    {
        if (c.Json)
            c.WriteJson(answer);
        else
            c.Output.WriteLine(line);
        return ExitCodes.Ok;
    }
}
