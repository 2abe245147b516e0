using System.CommandLine;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade configure</c>: a profile in <c>~/.palisade/config.json</c>, like the official CLI's.</summary>
public static class ConfigureCommand
{
    public static Command Build()
    {
        var profile = new Option<string>("--profile") { Description = "The profile's name.", DefaultValueFactory = _ => "default", HelpName = "NAME" };
        var endpoint = new Option<string>("--endpoint") { Description = "The control plane's URL.", Required = true, HelpName = "URL" };
        var region = new Option<string>("--region") { Description = "The default region.", DefaultValueFactory = _ => ServerConnection.DefaultRegion, HelpName = "ID" };
        var keyId = new Option<string>("--access-key-id") { Description = "The AccessKey ID.", Required = true, HelpName = "ID" };
        // The secret is typed at a prompt or piped on stdin: on the command line, the shell's history
        // and every user's process list would show it. The option is kept only to say so.
        var keySecret = new Option<string?>("--access-key-secret") { Hidden = true };
        keySecret.Validators.Add(r => r.AddError("--access-key-secret would put the secret in the shell history and the process list: leave it out and type the secret at the prompt, or pipe it on stdin."));
        var command = new Command("configure", """
            Save a profile (endpoint, region, AccessKey) to ~/.palisade/config.json ($PALISADE_CONFIG_FILE) and make
            it the current one. Options and the environment (PALISADE_SERVER, ALIBABA_CLOUD_ACCESS_KEY_ID,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION_ID) override it.

            Example:
              palisade configure --endpoint http://127.0.0.1:8080 --access-key-id LTAI…      (asks for the secret)
              pass show palisade | palisade configure --endpoint … --access-key-id LTAI…  (reads it from stdin)
            """) { profile, endpoint, region, keyId, keySecret };
        command.SetAction(parse =>
        {
            var url = parse.GetValue(endpoint)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: '{url}' is not an http(s) URL");
                return ExitCodes.BadInput;
            }
            var secret = ReadSecret(parse.InvocationConfiguration.Error);
            if (string.IsNullOrEmpty(secret))
            {
                parse.InvocationConfiguration.Error.WriteLine("error: no AccessKey secret: type it at the prompt or pipe it on stdin");
                return ExitCodes.BadInput;
            }
            try
            {
                ProfileStore.Save(new ProfileStore.Profile(parse.GetValue(profile)!, url, parse.GetValue(region)!, parse.GetValue(keyId)!, secret));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
            parse.InvocationConfiguration.Output.WriteLine($"profile '{parse.GetValue(profile)}' saved to {ProfileStore.Path}");
            return ExitCodes.Ok;
        });
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
