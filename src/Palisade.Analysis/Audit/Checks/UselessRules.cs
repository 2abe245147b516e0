namespace Palisade.Analysis.Audit.Checks;

/// <summary>
/// The verdicts of every rule on every NIC it applies to (<see cref="RuleUsefulness"/>, exact): a rule
/// useful on one instance is useful. Both checks read one judgement, so they are run together.
/// </summary>
internal static class UselessRules
{
    public static void Run(AuditRun run)
    {
        run.Progress?.Report(new WorkProgress("unused rules", 0, 0));
        var (state, policies) = (run.State, run.Policies);
        // Per compiled policy and direction (a policy is one object per NIC key): the cuts of all its rules.
        var boundaries = new Dictionary<(NicPolicy, Direction), RuleUsefulness.Boundaries>();
        foreach (var group in state.Groups)
        {
            var members = state.MembersOf(group.Id);
            if (members.Length == 0)
                continue;
            foreach (var rule in group.Rules)
            {
                var reference = new RuleRef(group.Id, rule);
                // Members with the same NIC key give the same verdicts; later ones add nothing to the unions below.
                var verdicts = members
                    .Select(m => (Member: m, Nic: m.NetworkType == NetworkType.Classic ? rule.NicType : NicType.Intranet))
                    .DistinctBy(x => policies.NicKey(x.Member, x.Nic))
                    .Select(x =>
                    {
                        var policy = policies.Of(x.Member, x.Nic);
                        if (!boundaries.TryGetValue((policy, rule.Direction), out var cuts))
                            boundaries.Add((policy, rule.Direction), cuts = RuleUsefulness.Boundaries.Of(state, x.Member, policy, rule.Direction));
                        return RuleUsefulness.Of(state, x.Member, policy, rule.Direction, reference, cuts, byClass: run.Shared);
                    })
                    .Where(v => v.Checked).ToList();
                if (verdicts.Count == 0)
                    continue;
                if (verdicts.All(v => !v.Decides))
                {
                    var blockers = verdicts.SelectMany(v => v.Blockers).Distinct().ToList();
                    var inner = verdicts.SelectMany(v => v.InnerAccess ?? []).Distinct().Order().ToList();
                    // Inner access Accept decides before every rule, so it accepts: it differs from a drop rule.
                    var differs = blockers.Any(b => b.Rule.Policy != rule.Policy) || (inner.Count > 0 && rule.Policy == Verdict.Drop);
                    var deciders = blockers.Select(b => $"{b.Rule.Id} of {b.GroupId}")
                        .Concat(inner.Select(g => $"the inner access of {g} (its members reach each other whatever the rules say)")).ToList();
                    run.Add(ShadowedRule.Info, group.Id, rule.Id, null,
                        $"Rule {rule.Id} of {group.Id} never decides: {string.Join(", ", deciders)} decide{(deciders.Count == 1 ? "s" : "")} every packet it matches{(differs ? ", some with the opposite verdict" : "")}. Remove it, or give it a lower priority number if it was meant to win.",
                        new ShadowedRuleEvidence([.. blockers.Select(b => b.Rule.Id)], differs, inner));
                }
                else if (verdicts.All(v => !v.ChangesSomething))
                {
                    var fallbacks = verdicts.SelectMany(v => v.Fallbacks).Distinct().ToList();
                    run.Add(RedundantRule.Info, group.Id, rule.Id, null,
                        $"Removing rule {rule.Id} of {group.Id} would change no verdict: where it decides, {(fallbacks.Count > 0 ? string.Join(", ", fallbacks.Select(b => $"{b.Rule.Id} of {b.GroupId}")) : "the default")} says the same.",
                        new RedundantRuleEvidence([.. fallbacks.Select(b => b.Rule.Id)], fallbacks.Count == 0));
                }
            }
        }
    }
}
