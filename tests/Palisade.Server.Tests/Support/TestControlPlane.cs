using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Server.Accounts;
using Palisade.Server.Hosting;
using Palisade.Storage;

namespace Palisade.Server.Tests.Support;

/// <summary>
/// The real server, in process, on ASP.NET Core's test host, with its own data directory. Accounts
/// are made through the same service the CLI uses; requests go through a signing client.
/// </summary>
public sealed class TestControlPlane : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestControlPlane(WebApplication app, string directory)
    {
        _app = app;
        _directory = directory;
        Http = app.GetTestClient();
        Http.BaseAddress = new Uri("http://ecs.test.local/");
        Accounts = app.Services.GetRequiredService<AccountService>();
        Store = app.Services.GetRequiredService<IStore>();
    }

    public HttpClient Http { get; }

    public AccountService Accounts { get; }

    public IStore Store { get; }

    public static async Task<TestControlPlane> StartAsync(Limits? limits = null, TimeProvider? clock = null, ServerOptions? options = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-test-" + Guid.NewGuid().ToString("N"));
        var settings = new ServeSettings
        {
            DataDirectory = directory,
            Options = (options ?? new ServerOptions()) with { Limits = limits ?? options?.Limits ?? new Limits() },
            Clock = clock ?? TimeProvider.System,
        };
        var app = PalisadeServer.Build(settings, configure: b => b.WebHost.UseTestServer());
        await app.StartAsync();
        return new TestControlPlane(app, directory);
    }

    public AccountService.NewKey NewAccount(string? name = null, bool readOnly = false)
    {
        var account = Accounts.CreateAccount(name ?? "acct-" + Guid.NewGuid().ToString("N")[..8]);
        return Accounts.CreateAccessKey(account.AccountId, readOnly);
    }

    public EcsClient Client(AccountService.NewKey key, SignatureStyle style = SignatureStyle.V3, TimeProvider? clock = null) =>
        new(Http, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret), style, clock);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Store.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
