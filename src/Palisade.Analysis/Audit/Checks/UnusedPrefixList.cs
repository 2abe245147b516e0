using System.Globalization;

namespace Palisade.Analysis.Audit.Checks;

/// <summary>What the unused list holds: its name, its entries and how many it may hold.</summary>
public sealed record UnusedPrefixListEvidence(string Name, int Entries, int MaxEntries) : Evidence;

/// <summary>A prefix list that no rule of the state names (as a <c>SourcePrefixListId</c> or <c>DestPrefixListId</c>).</summary>
internal static class UnusedPrefixList
{
    public static readonly CheckInfo Info = new("unused-prefix-list", Severity.Low,
        "No rule references the prefix list",
        "Delete prefix lists no rule uses: someone keeps their entries up to date for nothing, and a rule added later names a list nobody has reviewed.",
        [typeof(UnusedPrefixListEvidence)]);

    public static void Run(AuditRun run)
    {
        var named = run.State.Groups.SelectMany(g => g.Rules).Select(r => r.Peer).OfType<RulePeer.PrefixList>().Select(p => p.PrefixListId).ToHashSet();
        // A list under a name Alibaba Cloud keeps for its own is not the account's to delete.
        foreach (var list in run.State.PrefixLists.Where(l => !named.Contains(l.Id) && !PrefixList.IsReservedName(l.Name)))
        {
            var entries = list.Entries.Length == 1 ? "1 entry" : $"{list.Entries.Length.ToString(CultureInfo.InvariantCulture)} entries";
            run.Add(Info, list.Id,
                $"{list.Id} holds {entries} and no rule references it. Delete it, or name it in the rule it was made for.",
                new UnusedPrefixListEvidence(list.Name, list.Entries.Length, list.MaxEntries));
        }
    }
}
