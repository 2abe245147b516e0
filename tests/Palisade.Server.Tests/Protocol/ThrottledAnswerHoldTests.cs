using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Errors;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Issue 19: a tenant flooding past its rate cost the others more through its refusals than through
/// its admitted calls. A refusal for rate is now held before it is answered, within bounds.
/// </summary>
public sealed class ThrottledAnswerHoldTests : ControlPlaneTest
{
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);

    protected override Task<TestControlPlane> StartPlaneAsync() => TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions
    {
        // Held far longer than the test: every held refusal is released by its client going away.
        Throttling = new Throttling { RequestsPerSecond = 1, Burst = 1, ThrottledAnswerDelay = TimeSpan.FromMinutes(10), HeldRefusalsPerAccount = 2 },
    });

    private ThrottledAnswerHold Holds => Plane.Services.GetRequiredService<ThrottledAnswerHold>();

    [Fact]
    public async Task ARefusalForRate_IsHeld_WhileOthersAreAnswered_AndPastItsBound_IsAnsweredAtOnceOnAClosingConnection()
    {
        var flooder = Plane.Client(Plane.NewAccount("flooder"), SignatureStyle.V3, _clock);
        var stranger = Plane.Client(Plane.NewAccount("stranger"), SignatureStyle.V3, _clock);
        await flooder.CallAsync("DescribeRegions"); // the bucket's one request

        using var goAway = new CancellationTokenSource();
        var held = new[] { Send(flooder, goAway.Token), Send(flooder, goAway.Token) };
        await Until(() => Holds.Held == 2);

        // The account's third refusal is past its bound: answered at once, and the connection closed.
        using var third = await Send(flooder, CancellationToken.None);
        Assert.Equal(400, (int)third.StatusCode);
        Assert.Contains("\"Throttling.User\"", await third.Content.ReadAsStringAsync());
        Assert.True(third.Headers.ConnectionClose);

        // Another account is answered as usual meanwhile; the two refusals are still held.
        await stranger.CallAsync("DescribeRegions");
        Assert.All(held, h => Assert.False(h.IsCompleted));

        // A client that goes away frees its places.
        goAway.Cancel();
        foreach (var h in held)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h);
        await Until(() => Holds.Held == 0);
    }

    [Fact]
    public async Task AHeldRefusal_IsAnsweredWhenItsDelayEnds_WithTheSameError()
    {
        await using var plane = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions
        {
            Throttling = new Throttling { RequestsPerSecond = 1, Burst = 1, ThrottledAnswerDelay = TimeSpan.FromMilliseconds(200) },
        });
        var api = plane.Client(plane.NewAccount(), SignatureStyle.V1Get, _clock);
        await api.CallAsync("DescribeRegions");
        var e = await ApiAssert.FailsAsync(() => api.CallAsync("DescribeRegions"), "Throttling.User", 400);
        Assert.Equal("Request was denied due to user flow control.", e.EcsMessage);
        Assert.Equal(0, plane.Services.GetRequiredService<ThrottledAnswerHold>().Held);
    }

    [Theory]
    [InlineData("Throttling", true)]
    [InlineData("Throttling.User", true)]
    [InlineData("Throttling.Analysis", true)]
    [InlineData("ThrottlingX", false)]
    [InlineData("InvalidParameter", false)]
    public void WhatCountsAsAThrottlingRefusal(string code, bool throttling) => Assert.Equal(throttling, EcsErrorCodes.IsThrottling(code));

    private Task<HttpResponseMessage> Send(EcsClient api, CancellationToken cancel) =>
        Plane.Http.SendAsync(api.Build("DescribeRegions", [], ApiVersions.Ecs), cancel);

    private static async Task Until(Func<bool> condition)
    {
        // Waits for something the server does on its own threads; the bound only ends a broken test.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the server never got there");
            await Task.Delay(10);
        }
    }
}
