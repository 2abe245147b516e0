using System.Net;
using System.Text;
using System.Text.Json;

namespace Palisade.Client.Tests;

/// <summary>
/// Retries and paging as <c>palisade pull</c> relies on them, against a scripted service: "later"
/// answers are tried again (each try signed anew) a bounded number of times, refusals are not, and a
/// list is read whole whichever paging the service answers with.
/// </summary>
public sealed class EcsRetryTests
{
    private static readonly ClientCredentials Keys = new("LTAI5tTESTKEYID0000000001", "TestSecretKeyForCaptureServer000001");

    /// <summary>Answers each request with the next scripted answer (status, body) and keeps what it was sent.</summary>
    private sealed class ScriptedService(params Func<HttpRequestMessage, (HttpStatusCode Status, string Body)>[] answers) : HttpMessageHandler
    {
        private int _next;

        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            if (_next >= answers.Length)
                throw new InvalidOperationException($"request {_next + 1} was not expected");
            var (status, body) = answers[_next++](request);
            if (status == 0)
                throw new HttpRequestException("connection refused");
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }

    private static (HttpStatusCode, string) Error(HttpStatusCode status, string code) =>
        (status, JsonSerializer.Serialize(new { RequestId = "R", Code = code, Message = code + " message" }));

    private static (HttpStatusCode, string) Ok(object body) => (HttpStatusCode.OK, JsonSerializer.Serialize(body));

    private static (EcsRetry Retry, ScriptedService Service, List<TimeSpan> Waits) Make(params Func<HttpRequestMessage, (HttpStatusCode, string)>[] answers)
    {
        var service = new ScriptedService(answers);
        var waits = new List<TimeSpan>();
        var client = new EcsClient(new HttpClient(service) { BaseAddress = new Uri("https://ecs.example.test/") }, Keys);
        return (new EcsRetry(client, attempts: 4, delay: (d, _) => { waits.Add(d); return Task.CompletedTask; }), service, waits);
    }

    private static string Header(HttpRequestMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? v.Single() : "";

    [Fact]
    public async Task ThrottlingUnavailableAndConnectionFailures_AreTriedAgain_EachSignedAnew()
    {
        var (retry, service, waits) = Make(
            _ => Error(HttpStatusCode.BadRequest, "Throttling.User"),
            _ => Error(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable"),
            _ => (0, ""),
            _ => Ok(new { RequestId = "R", Regions = new { Region = new[] { new { RegionId = "cn-hangzhou" } } } }));
        var answer = await retry.CallAsync("DescribeRegions", []);
        Assert.Equal("cn-hangzhou", answer.Items("Regions", "Region").Single().Str("RegionId"));
        Assert.Equal(3, retry.Retries);
        Assert.Equal(3, waits.Count);
        Assert.True(waits[1] > waits[0] / 2 && waits[2] >= waits[0], "the backoff grows");
        Assert.Equal(4, service.Requests.Select(r => Header(r, "x-acs-signature-nonce")).Distinct().Count());
    }

    [Fact]
    public async Task TheTries_AreBounded_AndTheLastAnswerIsTheError()
    {
        var (retry, service, _) = Make(
            _ => Error(HttpStatusCode.BadRequest, "Throttling"), _ => Error(HttpStatusCode.BadRequest, "Throttling"),
            _ => Error(HttpStatusCode.BadRequest, "Throttling"), _ => Error(HttpStatusCode.BadRequest, "Throttling.Api"));
        var e = await Assert.ThrowsAsync<EcsApiException>(() => retry.CallAsync("DescribeRegions", []));
        Assert.Equal("Throttling.Api", e.Code);
        Assert.Equal(4, service.Requests.Count);
    }

    [Fact]
    public async Task ARefusal_IsNotTriedAgain()
    {
        var (retry, service, _) = Make(_ => Error(HttpStatusCode.Forbidden, "InvalidAccessKeyId.NotFound"));
        var e = await Assert.ThrowsAsync<EcsApiException>(() => retry.CallAsync("DescribeRegions", []));
        Assert.Equal("InvalidAccessKeyId.NotFound", e.Code);
        Assert.Single(service.Requests);
        Assert.Equal(0, retry.Retries);
    }

    private static string Query(HttpRequestMessage r, string name) =>
        System.Web.HttpUtility.ParseQueryString(r.RequestUri!.Query)[name] ?? "";

    [Fact]
    public async Task AList_IsReadWhole_ByToken()
    {
        var (retry, service, _) = Make(
            _ => Ok(new { RequestId = "R", NextToken = "t1", SecurityGroups = new { SecurityGroup = new[] { new { SecurityGroupId = "sg-1" } } } }),
            _ => Ok(new { RequestId = "R", NextToken = "t2", SecurityGroups = new { SecurityGroup = new[] { new { SecurityGroupId = "sg-2" } } } }),
            _ => Ok(new { RequestId = "R", NextToken = "", SecurityGroups = new { SecurityGroup = new[] { new { SecurityGroupId = "sg-3" } } } }));
        var all = await retry.CallAllAsync("DescribeSecurityGroups", [new("RegionId", "cn-hangzhou")], "SecurityGroups", "SecurityGroup", pageSize: 10);
        Assert.Equal(["sg-1", "sg-2", "sg-3"], all.Items("SecurityGroups", "SecurityGroup").Select(g => g.Str("SecurityGroupId")));
        Assert.Equal(["", "t1", "t2"], service.Requests.Select(r => Query(r, "NextToken")));
        Assert.All(service.Requests, r => Assert.Equal("10", Query(r, "MaxResults")));
        Assert.False(all.TryGetProperty("NextToken", out _));
    }

    [Fact]
    public async Task AList_IsReadWhole_WhenTheServicePagesByNumberInstead()
    {
        // A service that ignores MaxResults and answers page 1 of 3 by number, with a page size of its own.
        var (retry, service, _) = Make(
            _ => Ok(new { RequestId = "R", PageNumber = 1, PageSize = 2, TotalCount = 5, Instances = new { Instance = new[] { new { InstanceId = "i-1" }, new { InstanceId = "i-2" } } } }),
            _ => Ok(new { RequestId = "R", PageNumber = 2, PageSize = 2, TotalCount = 5, Instances = new { Instance = new[] { new { InstanceId = "i-3" }, new { InstanceId = "i-4" } } } }),
            _ => Ok(new { RequestId = "R", PageNumber = 3, PageSize = 2, TotalCount = 5, Instances = new { Instance = new[] { new { InstanceId = "i-5" } } } }));
        var all = await retry.CallAllAsync("DescribeInstances", [new("RegionId", "cn-hangzhou")], "Instances", "Instance", pageSize: 100);
        Assert.Equal(["i-1", "i-2", "i-3", "i-4", "i-5"], all.Items("Instances", "Instance").Select(i => i.Str("InstanceId")));
        Assert.Equal(["", "2", "3"], service.Requests.Select(r => Query(r, "PageNumber")));
        Assert.Equal(["", "2", "2"], service.Requests.Select(r => Query(r, "PageSize")));
        Assert.Equal(5, all.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task ATokenThatComesBack_IsAnError_NotALoop()
    {
        var (retry, _, _) = Make(
            _ => Ok(new { RequestId = "R", NextToken = "same", SecurityGroups = new { SecurityGroup = new[] { new { SecurityGroupId = "sg-1" } } } }),
            _ => Ok(new { RequestId = "R", NextToken = "same", SecurityGroups = new { SecurityGroup = new[] { new { SecurityGroupId = "sg-1" } } } }));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => retry.CallAllAsync("DescribeSecurityGroups", [], "SecurityGroups", "SecurityGroup"));
        Assert.Contains("same NextToken twice", e.Message);
    }
}
