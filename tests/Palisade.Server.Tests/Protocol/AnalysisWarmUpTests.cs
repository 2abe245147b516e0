using Microsoft.Extensions.DependencyInjection;
using Palisade.Analysis.WhatIf;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Issue 19, thirteenth session: a new analysis process's first questions cost it several times what
/// later ones do (its code is compiled, then optimized in the background), and the tenant that asked
/// first was charged its share and slowed the others with the rest. The server now starts its child
/// with itself and asks it synthetic questions, charged to no account, until its CPU per question
/// stops falling.
/// </summary>
public sealed class AnalysisWarmUpTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public void TheWarmUpsQuestions_EachAddARule_ThatGainsFlows()
    {
        var before = AnalysisWarmUp.Before;
        Assert.Equal(AnalysisWarmUp.RegionId, before.RegionId);
        Assert.True(before.Instances.Length >= 30);
        for (var question = 0; question < 4; question++)
        {
            var after = AnalysisWarmUp.After(question);
            Assert.Equal(before.Groups.Sum(g => g.Rules.Length) + 1, after.Groups.Sum(g => g.Rules.Length));
            var (gained, lost) = ImpactAnalysis.Between(before, after);
            Assert.NotEmpty(gained);
            Assert.Empty(lost);
        }
    }

    [Fact]
    public void TheWarmUp_GoesOnWhileTheCostFalls_AndEndsOnAPlateau_OrAtItsLimit()
    {
        static List<TimeSpan> Ms(params double[] ms) => [.. ms.Select(TimeSpan.FromMilliseconds)];

        // MinRounds of a steady cost first: the plateaus a cold child has on its way down are that long.
        static List<TimeSpan> Steady(int rounds, double ms) => [.. Enumerable.Repeat(TimeSpan.FromMilliseconds(ms), rounds)];
        Assert.False(AnalysisWarmUp.Done(Ms(40)));
        Assert.False(AnalysisWarmUp.Done([.. Ms(40), .. Steady(AnalysisWarmUp.MinRounds - 2, 12)]));
        // Still falling by more than 15 % within the last RoundsWithoutGain rounds: go on.
        Assert.False(AnalysisWarmUp.Done([.. Ms(40), .. Steady(AnalysisWarmUp.MinRounds, 12), .. Ms(5)]));
        // RoundsWithoutGain rounds in a row none 15 % cheaper than the cheapest before, past MinRounds: done.
        Assert.True(AnalysisWarmUp.Done([.. Ms(40), .. Steady(AnalysisWarmUp.MinRounds - 6, 12), .. Ms(12, 11, 12, 13, 11, 12)]));
        // Never settling: done at the limit.
        Assert.True(AnalysisWarmUp.Done([.. Enumerable.Range(0, AnalysisWarmUp.MaxRounds).Select(i => TimeSpan.FromMilliseconds(1000 - 10 * i))]));
    }

    [Fact]
    public async Task TheServersAnalysisProcess_StartsWithTheServer_AndIsWarmedUp_BeforeAnyTenantAsks_ChargedToNoAccount()
    {
        // Given a server started as serve starts one (the analysis process in a child, warmed up)
        await using var plane = await TestControlPlane.StartAsync(options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisInChild = true, ThrottledAnswerDelay = TimeSpan.Zero },
        }, analysisWarmUp: true);
        var process = plane.Services.GetRequiredService<AnalysisProcess>();
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();

        // When nobody has asked anything, the child is started and asked the warm-up's questions (a first
        // round is enough to see it: the whole warm-up, 400 questions or more at niceness 19, may take a
        // minute on a machine busy with the other tests; when it ends is TheWarmUp_GoesOn…'s)
        using var cancel = new CancellationTokenSource(Patience);
        while (process.WarmUpAnswered < AnalysisWarmUp.QuestionsPerRound)
            await Task.Delay(50, cancel.Token);
        Assert.Equal(1, process.Started);
        // Then no tenant's question was asked or charged for it
        Assert.Equal(0, process.Asked);
        Assert.Equal(0, process.Late);
        Assert.Equal(TimeSpan.Zero, budget.Spent(AnalysisWarmUp.AccountId));

        // And a tenant's first question is answered by that child, and charged to the tenant alone
        var key = plane.NewAccount("tenant");
        var api = new Scenario(plane.Client(key));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 2);
        await api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "3000/3000", SourceCidrIp = "10.0.0.0/8",
        }));
        Assert.Equal(1, process.Started);
        Assert.True(process.Asked >= 1);
        Assert.True(budget.Spent(key.AccountId) > TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, budget.Spent(AnalysisWarmUp.AccountId));
    }

    [Fact]
    public async Task WithoutTheWarmUp_TheChildStartsOnTheFirstImpact()
    {
        await using var plane = await TestControlPlane.StartAsync(options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisInChild = true, ThrottledAnswerDelay = TimeSpan.Zero },
        });
        var process = plane.Services.GetRequiredService<AnalysisProcess>();
        await Task.Delay(500);
        Assert.Equal(0, process.Started);
        Assert.Null(process.ChildId);
        Assert.Equal(0, process.WarmUpAnswered);
    }
}
