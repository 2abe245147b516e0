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
        var keySecret = new Option<string>("--access-key-secret") { Description = "The AccessKey secret (the file is readable by you only).", Required = true, HelpName = "SECRET" };
        var command = new Command("configure", """
            Save a profile (endpoint, region, AccessKey) to ~/.palisade/config.json ($PALISADE_CONFIG_FILE) and make
            it the current one. Options and the environment (PALISADE_SERVER, ALIBABA_CLOUD_ACCESS_KEY_ID,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION_ID) override it.

            Example:
              palisade configure --endpoint http://127.0.0.1:8080 --access-key-id LTAI… --access-key-secret …
            """) { profile, endpoint, region, keyId, keySecret };
        command.SetAction(parse =>
        {
            var url = parse.GetValue(endpoint)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: '{url}' is not an http(s) URL");
                return ExitCodes.BadInput;
            }
            try
            {
                ProfileStore.Save(new ProfileStore.Profile(parse.GetValue(profile)!, url, parse.GetValue(region)!, parse.GetValue(keyId)!, parse.GetValue(keySecret)!));
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
}
