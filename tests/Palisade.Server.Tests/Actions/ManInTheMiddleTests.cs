using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 18: a man in the middle never opens the host. A fake control plane that forges a
/// well-formed allow-all policy for the host's NIC, behind a certificate of a CA the agent does not
/// trust, is never even asked (the TLS handshake fails) and the host stays closed; the same forged
/// answer from a server the agent does trust is applied (the control: the forgery would open the
/// host). Unreadable or incomplete answers never open it either. Certificates are made here by
/// throwaway CAs; nothing listens beyond 127.0.0.1.
/// </summary>
public sealed class ManInTheMiddleTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "palisade-mitm-" + Guid.NewGuid().ToString("N"));

    public ManInTheMiddleTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Victim = "i-victim";

    /// <summary>What the forger wants: the victim NIC in a group that lets everything in.</summary>
    private const string ForgedPolicy = """
        {"RequestId": "forged", "Revision": 99, "HostName": "node-1",
         "HostInterfaces": {"HostInterface": [{"AccountId": "1", "InstanceId": "i-victim", "InterfaceName": "vnet0"}]},
         "Accounts": {"Account": [{"AccountId": "1", "AccountRevision": 1, "State": {
           "SecurityGroups": [{"SecurityGroupId": "sg-open", "VpcId": "vpc-x", "InnerAccessPolicy": "Accept", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-all", "Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1", "SourceCidrIp": "0.0.0.0/0", "Priority": 1}]}}],
           "Instances": [{"InstanceId": "i-victim", "VpcAttributes": {"VpcId": "vpc-x", "PrivateIpAddress": {"IpAddress": ["198.18.1.5"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-open"]}}]}}]}}
        """;

    /// <summary>A CA (its PEM file) and a certificate it signed for 127.0.0.1, with its key.</summary>
    private (string CaFile, X509Certificate2 Server) MakeCa(string name)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Palisade MITM test CA {name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=palisade control plane", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddDays(-1), now.AddDays(30), [9, 8, 7, 6, 5, 4, 3, 2]);
        var server = X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        var file = Path.Combine(_dir, name + "-ca.crt");
        File.WriteAllText(file, ca.ExportCertificatePem());
        return (file, server);
    }

    /// <summary>A fake control plane on 127.0.0.1: every DescribeHostPolicy gets <paramref name="policy"/>, the feed says nothing changed.</summary>
    private static async Task<(WebApplication App, Uri Url, Func<int> Asked)> FakeAsync(X509Certificate2? certificate, Func<HttpContext, Task> policy)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            if (certificate is not null)
                l.UseHttps(certificate);
        }));
        var app = builder.Build();
        var asked = 0;
        app.Run(async context =>
        {
            Interlocked.Increment(ref asked);
            var action = context.Request.Headers["x-acs-action"].ToString();
            context.Response.ContentType = "application/json";
            if (action == "DescribeHostPolicy")
                await policy(context);
            else if (action == "DescribeChanges")
                await context.Response.WriteAsync("""{"RequestId": "f", "CurrentRevision": 99, "NextRevision": 99, "Changes": {"Change": []}}""");
            else
                await context.Response.WriteAsync("""{"RequestId": "f"}""");
        });
        await app.StartAsync();
        return (app, new Uri(app.Urls.Single()), () => Volatile.Read(ref asked));
    }

    /// <summary>Runs an agent against <paramref name="server"/> for a while; what the kernel got, and the agent.</summary>
    private static async Task<(EnforcementAgent Agent, IReadOnlyList<string> Transactions, List<string> Log)> RunAgentAsync(Uri server, string? caFile, TimeSpan duration)
    {
        var kernel = new RecordingKernel();
        var log = new List<string>();
        using var http = new HttpClient(CaCertificates.Handler(caFile)) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(5) };
        var client = new EcsClient(http, new ClientCredentials("LTAIhostcredential000000", "secret-of-the-host-credential"));
        var agent = new EnforcementAgent(new EcsControlPlane(client, "cn-hangzhou"), kernel,
            new AgentOptions("node-1") { PollWait = TimeSpan.FromSeconds(1), RetryDelay = TimeSpan.FromMilliseconds(100) }, line => { lock (log) log.Add(line); });
        using var stop = new CancellationTokenSource(duration);
        await agent.RunAsync(stop.Token);
        lock (log)
            return (agent, kernel.Transactions, [.. log]);
    }

    private static readonly string ClosedHost = NftText.FullApply(HostRuleset.Closed);

    [Fact]
    public async Task AForgerWithTheWrongCertificate_IsNeverAsked_AndTheHostStaysClosed()
    {
        var (trustedCa, _) = MakeCa("control-plane");
        var (forgerCa, forgerCertificate) = MakeCa("forger");
        var (app, url, asked) = await FakeAsync(forgerCertificate, c => c.Response.WriteAsync(ForgedPolicy));
        await using (app)
        {
            var (agent, transactions, log) = await RunAgentAsync(url, trustedCa, TimeSpan.FromSeconds(3));
            Assert.Equal(0, asked()); // the handshake failed: no request reached the forger
            Assert.Equal([ClosedHost], transactions);
            Assert.Null(agent.Applied);
            Assert.Contains(log, l => l.StartsWith("control plane unavailable", StringComparison.Ordinal));

            // The control: an agent that (wrongly) trusts the forger's CA applies the forgery, which opens the victim.
            var (fooled, fooledTransactions, _) = await RunAgentAsync(url, forgerCa, TimeSpan.FromSeconds(3));
            Assert.True(asked() > 0);
            Assert.Equal(Victim, Assert.Single(fooled.Applied!.Nics).InstanceId.Value);
            Assert.Contains(fooled.Applied.Nics[0].Ingress.Rules, r => r.Verdict == NftVerdict.Accept);
            Assert.True(fooledTransactions.Count >= 2);
        }
    }

    public static TheoryData<string, string> Unreadable => new()
    {
        { "not json", "<html>captive portal</html>" },
        { "truncated", ForgedPolicy[..(ForgedPolicy.Length / 2)] },
        { "no accounts", """{"Revision": 99, "HostInterfaces": {"HostInterface": [{"AccountId": "1", "InstanceId": "i-victim", "InterfaceName": "vnet0"}]}}""" },
        { "bindings of an account without its state", ForgedPolicy.Replace("\"AccountId\": \"1\", \"AccountRevision\"", "\"AccountId\": \"2\", \"AccountRevision\"", StringComparison.Ordinal) },
        { "a state that is not one", ForgedPolicy.Replace("\"SecurityGroups\": [", "\"SecurityGroups\": [7, ", StringComparison.Ordinal) },
        { "an error", """{"RequestId": "f", "HostId": "x", "Code": "Forbidden.HostCredential", "Message": "forged"}""" },
    };

    [Theory]
    [MemberData(nameof(Unreadable))]
    public async Task AForgedOrUnreadableAnswer_NeverOpensTheHost(string what, string body)
    {
        var (app, url, asked) = await FakeAsync(null, async c =>
        {
            if (what == "an error")
                c.Response.StatusCode = 403;
            await c.Response.WriteAsync(body);
        });
        await using (app)
        {
            var (agent, transactions, log) = await RunAgentAsync(url, null, TimeSpan.FromSeconds(2));
            Assert.True(asked() > 0, "the fake was never asked");
            Assert.Equal([ClosedHost], transactions);
            Assert.Null(agent.Applied);
            Assert.Contains(log, l => l.StartsWith("control plane unavailable", StringComparison.Ordinal));
        }
    }
}
