using System.CommandLine;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade configure</c>: a profile in <c>~/.palisade/config.json</c>, like the official CLI's.</summary>
public static class ConfigureCommand
{
    public static Command Build()
    {
        var profile = new Option<string>("--profile") { Description = "The profile's name.", DefaultValueFactory = _ => "default", HelpName = "NAME" };
        var endpoint = new Option<string>("--endpoint") { Description = "The control plane's URL.", DefaultValueFactory = _ => ServerConnection.LocalServer, HelpName = "URL" };
        var region = new Option<string>("--region") { Description = "The default region.", DefaultValueFactory = _ => ServerConnection.DefaultRegion, HelpName = "ID" };
        var keyId = new Option<string?>("--access-key-id") { Description = "The AccessKey ID (the secret is then asked for, or read from stdin).", HelpName = "ID" };
        var credentials = new Option<string?>("--credentials")
        {
            Description = "Take the AccessKey from a credentials file instead (as 'palisade serve' writes DIR/credentials).",
            HelpName = "FILE",
        };
        var noCheck = new Option<bool>("--no-check") { Description = "Save without checking the key with the server (GetCallerIdentity)." };
        // The secret is typed at a prompt or piped on stdin: on the command line, the shell's history
        // and every user's process list would show it. The option is kept only to say so.
        var keySecret = new Option<string?>("--access-key-secret") { Hidden = true };
        keySecret.Validators.Add(r => r.AddError("--access-key-secret would put the secret in the shell history and the process list: leave it out and type the secret at the prompt, or pipe it on stdin."));
        var command = new Command("configure", """
            Save a profile (endpoint, region, AccessKey) to ~/.palisade/config.json ($PALISADE_CONFIG_FILE) and make
            it the current one, after checking the key with a call to the server (STS GetCallerIdentity). The secret
            is typed at a prompt (not shown), piped on stdin, or read from --credentials FILE; never an argument.
            Options and the environment (PALISADE_SERVER, ALIBABA_CLOUD_ACCESS_KEY_ID,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION_ID) override it.

            Examples:
              palisade configure --credentials .palisade/credentials                      (the server 'palisade serve' runs here)
              palisade configure --endpoint http://127.0.0.1:8080 --access-key-id LTAI…   (asks for the secret)
              pass show palisade | palisade configure --endpoint … --access-key-id LTAI…  (reads it from stdin)
            """) { profile, endpoint, region, keyId, credentials, noCheck, keySecret };
        command.Validators.Add(r =>
        {
            var id = r.GetValue(keyId) is not null;
            var file = r.GetValue(credentials) is not null;
            if (id == file)
                r.AddError(id ? "give either --access-key-id or --credentials, not both." : "say which key: --access-key-id ID (the secret is then asked for) or --credentials FILE.");
        });
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            var error = parse.InvocationConfiguration.Error;
            var url = parse.GetValue(endpoint)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new InvalidOperationException($"'{url}' is not an http(s) URL");
            Client.ClientCredentials key;
            if (parse.GetValue(credentials) is { } file)
            {
                key = ServerConnection.ReadCredentialsFile(file);
            }
            else
            {
                var secret = ReadSecret(error);
                if (string.IsNullOrEmpty(secret))
                    throw new InvalidOperationException("no AccessKey secret: type it at the prompt or pipe it on stdin");
                key = new Client.ClientCredentials(parse.GetValue(keyId)!, secret);
            }
            var output = parse.InvocationConfiguration.Output;
            if (!parse.GetValue(noCheck))
            {
                // A typo in the secret or the URL is found now, not at the first real command.
                using var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(15) };
                var client = new Client.EcsClient(http, key);
                var identity = await client.CallAsync("GetCallerIdentity", Array.Empty<KeyValuePair<string, string>>(), Domain.Ecs.ApiVersions.Sts, cancel);
                output.WriteLine($"checked: {key.AccessKeyId} signs as account {Client.EcsJson.Str(identity, "AccountId")} on {url}");
            }
            ProfileStore.Save(new ProfileStore.Profile(parse.GetValue(profile)!, url, parse.GetValue(region)!, key.AccessKeyId, key.AccessKeySecret));
            output.WriteLine($"profile '{parse.GetValue(profile)}' saved to {ProfileStore.Path}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The secret from stdin's first line when it is piped (or given by the caller), else typed at a prompt without echo.</summary>
    private static string? ReadSecret(TextWriter prompt)
    {
        if (PalisadeCli.Input.Value is { } given)
            return given.ReadLine()?.Trim();
        if (Console.IsInputRedirected)
            return Console.In.ReadLine()?.Trim();
        prompt.Write("AccessKey secret: ");
        var secret = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                    secret.Length--;
                continue;
            }
            secret.Append(key.KeyChar);
        }
        prompt.WriteLine();
        return secret.ToString().Trim();
    }
}
