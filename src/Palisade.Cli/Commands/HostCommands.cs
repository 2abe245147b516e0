using System.CommandLine;
using System.Globalization;
using Palisade.Client;
using Palisade.Domain.Hosts;
using Palisade.Storage;
using Palisade.Storage.Accounts;
using Palisade.Storage.Hosts;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade host</c>. The operator's acts, on the store (<c>--data</c>, <c>--store</c>) as account
/// creation is (issue 18): <c>declare</c> what a host carries, <c>credential create</c> for its agent,
/// <c>bind</c>/<c>unbind</c> NICs to its interfaces, <c>bindings</c> of every account. A tenant's,
/// against a server: <c>list</c>, its own NICs' enforcement status.
/// </summary>
public static class HostCommands
{
    private const string OperatorNote = """
        An operator's command: it writes the control plane's store (--data DIR, or --store URL for
        PostgreSQL), also while the server runs. There is no API for it; tenants cannot bind.
        """;

    public static Command Build()
    {
        var command = new Command("host", "Hosts and their agents: the operator declares hosts, makes their credentials and binds NICs to their interfaces (on the store); a tenant lists its NICs' enforcement status.");
        command.Subcommands.Add(Declare());
        command.Subcommands.Add(Credential());
        command.Subcommands.Add(Bind());
        command.Subcommands.Add(Unbind());
        command.Subcommands.Add(Bindings());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Declare()
    {
        var place = new StorePlace();
        var host = new Option<string>("--host") { Description = "The host's name (its agent's --host).", Required = true, HelpName = "NAME" };
        var interfaces = new Option<string>("--interfaces") { Description = "The host-side interface names it may carry, as patterns ('*' for any run of characters), separated by commas.", Required = true, HelpName = "PATTERNS" };
        var addresses = new Option<string>("--addresses") { Description = "The address space of the NICs it carries: CIDR blocks, separated by commas.", Required = true, HelpName = "CIDRS" };
        var noFlowSampling = new Option<bool>("--no-flow-sampling") { Description = "Its agent samples no flows (the new connections its NICs accept, kept per account for 'palisade suggest'); declaring again without it turns sampling back on." };
        var command = new Command("declare", $"""
            Declare what a host carries: the names of the interfaces its NICs sit on and the blocks their
            private addresses lie in. A binding outside is refused; declaring again replaces the
            declaration (refused while a NIC bound to the host would fall outside). Give the agent the
            same --interfaces and --addresses: it re-checks every binding the server sends.
            Its agent samples the new connections its NICs accept (observed flows, kept per account for
            'palisade suggest' and the audit) unless --no-flow-sampling says otherwise.

            {OperatorNote}

            Example:
              palisade host declare --host node-1 --interfaces 'vnet*,tap*' --addresses 172.16.0.0/12,192.168.0.0/16 --data /var/lib/palisade
            """) { host, interfaces, addresses, noFlowSampling };
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            var declaration = HostDeclaration.Parse(parse.GetValue(interfaces)!, parse.GetValue(addresses)!);
            using var opened = place.Open(parse);
            var record = opened.Hosts.Declare(parse.GetValue(host)!, declaration);
            var sampling = !parse.GetValue(noFlowSampling);
            opened.Hosts.SetFlowSampling(record.HostName, sampling);
            parse.InvocationConfiguration.Output.WriteLine($"host {record.HostName} carries interfaces {record.Declaration.Patterns} with addresses in {record.Declaration.Space}; flow sampling {(sampling ? "on" : "off")}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Credential()
    {
        var place = new StorePlace();
        var host = new Option<string>("--host") { Description = "The host whose agent uses the credential.", Required = true, HelpName = "NAME" };
        var output = new Option<string>("--out") { Description = "The credentials file to write (mode 0600; refused if it exists).", Required = true, HelpName = "FILE" };
        var create = new Command("create", $"""
            Make a host credential: an AccessKey that may call only the agent's actions for that host
            (read the policy of every NIC bound to it, of every account; follow its feed; report
            status), and nothing else. Written to FILE, with the host's name, for 'palisade agent
            --credentials FILE'. A host not declared yet is declared carrying nothing.

            {OperatorNote}

            Example:
              palisade host credential create --host node-1 --out /etc/palisade/node-1.credentials --data /var/lib/palisade
            """) { host, output };
        place.AddTo(create);
        create.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            var file = parse.GetValue(output)!;
            using var opened = place.Open(parse);
            var credential = Issue(file, () => opened.Hosts.CreateCredential(parse.GetValue(host)!), c => c);
            parse.InvocationConfiguration.Output.WriteLine($"host credential {credential.AccessKeyId} for {credential.HostName} written to {file}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return new Command("credential", "Credentials of hosts' agents (an operator's command, on the store).") { create, CredentialList(), CredentialRotate(), CredentialRevoke() };
    }

    /// <summary>
    /// Makes a credential (<paramref name="make"/>) and writes it to <paramref name="file"/>, made
    /// first: a secret is shown once, so a file that cannot be written (or exists: never overwritten)
    /// stops the command before anything is made or revoked.
    /// </summary>
    private static T Issue<T>(string file, Func<T> make, Func<T, HostService.NewCredential> credentialOf)
    {
        if (File.Exists(file))
            throw new InvalidOperationException($"{file} exists; give another --out (a credential's secret is shown once and never overwritten)");
        T made;
        using (var stream = PrivateFiles.Create(file))
        {
            try
            {
                made = make();
            }
            catch
            {
                stream.Dispose();
                File.Delete(file);
                throw;
            }
            using var writer = new StreamWriter(stream);
            var credential = credentialOf(made);
            writer.Write($"# palisade host credential: only the agent's actions for host {credential.HostName}\nhost_name={credential.HostName}\naccess_key_id={credential.AccessKeyId}\naccess_key_secret={credential.AccessKeySecret}\n");
        }
        return made;
    }

    private static Command CredentialList()
    {
        var place = new StorePlace();
        var host = new Option<string?>("--host") { Description = "Only this host's credentials.", HelpName = "NAME" };
        var command = new Command("list", $"""
            The host credentials: ID, host, when made, and when a server last admitted a request signed
            with it (to the minute; '-' if never). Never a secret: those were shown once, in the file
            'create' or 'rotate' wrote.

            {OperatorNote}

            Example:
              palisade host credential list --host node-1 --data /var/lib/palisade
            """) { host };
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            using var opened = place.Open(parse);
            var credentials = opened.Hosts.ListCredentials(parse.GetValue(host));
            Remote.Table(parse.InvocationConfiguration.Output, ["ACCESS KEY ID", "HOST", "CREATED", "LAST USED"],
                [.. credentials.Select(c => new[] { c.AccessKeyId, c.HostName, Storage.Time.Format(c.CreatedAt), c.LastUsedAt is { } used ? Storage.Time.Format(used) : "-" })]);
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command CredentialRotate()
    {
        var place = new StorePlace();
        var host = new Option<string>("--host") { Description = "The host whose credentials are replaced.", Required = true, HelpName = "NAME" };
        var output = new Option<string>("--out") { Description = "The new credentials file to write (mode 0600; refused if it exists).", Required = true, HelpName = "FILE" };
        var command = new Command("rotate", $"""
            Replace a host's credentials: a new one is written to FILE and, in the same commit, every
            credential the host had is revoked. A request signed with an old one is refused from then
            on (InvalidAccessKeyId.NotFound, on every server node at once); the agent logs that its
            credential was refused and keeps enforcing what it last applied until it is restarted with
            FILE. For no gap at all, 'create' a second credential, give it to the agent, then 'revoke'
            the first.

            {OperatorNote}

            Example:
              palisade host credential rotate --host node-1 --out /etc/palisade/node-1.credentials.new --data /var/lib/palisade
            """) { host, output };
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            var file = parse.GetValue(output)!;
            using var opened = place.Open(parse);
            var rotation = Issue(file, () => opened.Hosts.RotateCredential(parse.GetValue(host)!), r => r.Credential);
            var writer = parse.InvocationConfiguration.Output;
            writer.WriteLine($"host credential {rotation.Credential.AccessKeyId} for {rotation.Credential.HostName} written to {file}");
            writer.WriteLine(rotation.Revoked.Count == 0 ? "revoked: none (the host had no credential)" : $"revoked: {string.Join(", ", rotation.Revoked)}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command CredentialRevoke()
    {
        var place = new StorePlace();
        var id = new Option<string>("--id") { Description = "The credential's AccessKey ID (palisade host credential list).", Required = true, HelpName = "ID" };
        var command = new Command("revoke", $"""
            Revoke one host credential: deleted, and a request signed with it is refused from then on
            (InvalidAccessKeyId.NotFound, on every server node at once; a long poll it has parked
            ends refused). The agent using it logs that its credential was refused and keeps
            enforcing what it last applied.

            {OperatorNote}

            Example:
              palisade host credential revoke --id LTAI5tExampleExampleExam --data /var/lib/palisade
            """) { id };
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            using var opened = place.Open(parse);
            var revoked = opened.Hosts.RevokeCredential(parse.GetValue(id)!);
            parse.InvocationConfiguration.Output.WriteLine($"host credential {revoked.AccessKeyId} of {revoked.HostName} revoked");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>The NIC an operator's bind or unbind names: <c>--eni</c> (any ENI attached to an instance) or <c>--instance</c> (its primary NIC).</summary>
    private sealed class NicOptions
    {
        public Option<string?> Instance { get; } = new("--instance") { Description = "The instance whose primary NIC (its primary ENI) is meant.", HelpName = "ID" };

        public Option<string?> Eni { get; } = new("--eni") { Description = "The network interface (ENI), primary or secondary, attached to an instance: each ENI is its own NIC on its own interface.", HelpName = "ID" };

        public void AddTo(Command command)
        {
            command.Options.Add(Eni);
            command.Options.Add(Instance);
            command.Validators.Add(result =>
            {
                var given = (result.GetResult(Eni) is not null ? 1 : 0) + (result.GetResult(Instance) is not null ? 1 : 0);
                if (given != 1)
                    result.AddError("Give the NIC as --eni ID or --instance ID (its primary ENI), one of them.");
            });
        }
    }

    private static Command Bind()
    {
        var place = new StorePlace();
        var nic = new NicOptions();
        var host = new Option<string>("--host") { Description = "The host's name (its agent's --host).", Required = true, HelpName = "NAME" };
        var interfaceName = new Option<string>("--interface") { Description = "The host-side interface carrying the NIC (a veth end, a tap device).", Required = true, HelpName = "IFNAME" };
        var command = new Command("bind", $"""
            A NIC (of any account) is carried by an interface of a host; that host's agent enforces its
            groups there. The NIC is an ENI (--eni, primary or secondary, attached to an instance: each
            ENI of an instance is its own NIC on its own interface, with its own groups, addresses and
            MAC) or an instance's primary NIC (--instance; a classic instance's only NIC). Refused
            outside the host's declaration (palisade host declare: the ENI's own addresses are
            checked) or on an interface that carries another NIC. Binding again moves it. An ENI
            detached or deleted while bound, like an instance deleted, leaves its host.

            {OperatorNote}

            Examples:
              palisade host bind --eni eni-bp1abc --host node-1 --interface vnet13 --data /var/lib/palisade
              palisade host bind --instance i-bp1abc --host node-1 --interface vnet12 --data /var/lib/palisade
            """) { host, interfaceName };
        nic.AddTo(command);
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            using var opened = place.Open(parse);
            var binding = parse.GetValue(nic.Eni) is { } eni
                ? opened.Hosts.BindNetworkInterface(eni, parse.GetValue(host)!, parse.GetValue(interfaceName)!)
                : opened.Hosts.Bind(parse.GetValue(nic.Instance)!, parse.GetValue(host)!, parse.GetValue(interfaceName)!);
            parse.InvocationConfiguration.Output.WriteLine($"{Named(binding)} is bound to {binding.InterfaceName} on {binding.HostName}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>A bound NIC as the operator reads it: "eni-… of i-…", or a classic instance's ID.</summary>
    private static string Named(Palisade.Storage.Records.HostBindingRecord b) =>
        b.NetworkInterfaceId is { } eni ? $"{eni} of {b.InstanceId}" : b.InstanceId.Value;

    private static Command Unbind()
    {
        var place = new StorePlace();
        var nic = new NicOptions();
        var command = new Command("unbind", $"""
            The NIC (--eni, or --instance for its primary ENI) is carried by no host any more; its agent forgets it.

            {OperatorNote}

            Examples:
              palisade host unbind --eni eni-bp1abc --data /var/lib/palisade
              palisade host unbind --instance i-bp1abc --data /var/lib/palisade
            """);
        nic.AddTo(command);
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            using var opened = place.Open(parse);
            var was = parse.GetValue(nic.Eni) is { } eni
                ? opened.Hosts.UnbindNetworkInterface(eni)
                : opened.Hosts.Unbind(parse.GetValue(nic.Instance)!);
            parse.InvocationConfiguration.Output.WriteLine($"{Named(was)} is bound to no host (was {was.InterfaceName} on {was.HostName})");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Bindings()
    {
        var place = new StorePlace();
        var host = new Option<string?>("--host") { Description = "Only this host.", HelpName = "NAME" };
        var command = new Command("bindings", $"""
            The declared hosts and the NICs bound to them, of every account.

            {OperatorNote}

            Example:
              palisade host bindings --data /var/lib/palisade
            """) { host };
        place.AddTo(command);
        command.SetAction((parse, _) => Remote.Guard(parse, () =>
        {
            using var opened = place.Open(parse);
            var output = parse.InvocationConfiguration.Output;
            var hosts = opened.Hosts.ListHosts().Where(h => parse.GetValue(host) is not { } only || h.HostName == only).ToList();
            Remote.Table(output, ["HOST", "INTERFACES", "ADDRESSES"], [.. hosts.Select(h => new[] { h.HostName, h.Declaration.Patterns, h.Declaration.Space })]);
            output.WriteLine();
            var bindings = opened.Hosts.ListBindings(parse.GetValue(host));
            Remote.Table(output, ["HOST", "INTERFACE", "ENI", "INSTANCE", "ACCOUNT"],
                [.. bindings.Select(b => new[] { b.HostName, b.InterfaceName, b.NetworkInterfaceId?.Value ?? "-", b.InstanceId.Value, b.AccountId.ToString(CultureInfo.InvariantCulture) })]);
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command List()
    {
        var host = new Option<string?>("--host") { Description = "Only this host.", HelpName = "NAME" };
        var command = new Command("list", """
            Your NICs bound to hosts (each ENI on its own), the revision each host's agent says it
            enforces, and whether that is your account's latest (in sync). Exit 0 when every NIC is in sync, 1 otherwise.

            Example:
              palisade host list --host node-1
            """) { host };
        return Remote.Attach(command, async c =>
        {
            var answer = await c.CallAsync("DescribeHostInterfaces", [new("HostName", c.Parse.GetValue(host))]);
            var output = c.Output;
            var items = answer.Items("HostInterfaces", "HostInterface").ToList();
            if (c.Json)
            {
                c.WriteJson(answer);
            }
            else
            {
                var rows = items.Select(i => new[]
                {
                    i.GetProperty("HostName").GetString()!, i.GetProperty("InterfaceName").GetString()!,
                    i.TryGetProperty("NetworkInterfaceId", out var eni) && eni.GetString() is { Length: > 0 } e ? e : "-", i.GetProperty("InstanceId").GetString()!,
                    i.GetProperty("AppliedRevision").GetInt64() == 0 ? "-" : i.GetProperty("AppliedRevision").GetInt64().ToString(CultureInfo.InvariantCulture),
                    i.GetProperty("InSync").GetBoolean() ? "yes" : "no",
                }).ToList();
                Remote.Table(output, ["HOST", "INTERFACE", "ENI", "INSTANCE", "APPLIED", "IN SYNC"], rows);
                output.WriteLine($"account revision {answer.GetProperty("AccountRevision").GetInt64()}; {rows.Count(r => r[5] == "yes")} of {rows.Count} NICs in sync");
            }
            return items.All(i => i.GetProperty("InSync").GetBoolean()) ? ExitCodes.Ok : ExitCodes.Denied;
        });
    }

    /// <summary>The store an operator's command works on: the data directory (SQLite, and the master key that encrypts secrets) or PostgreSQL.</summary>
    private sealed class StorePlace
    {
        private readonly Option<string> _data = ServeCommand.DataOption();
        private readonly Option<string?> _store = ServeCommand.StoreOption();
        private readonly Option<string?> _storeFile = ServeCommand.StoreFileOption();

        public void AddTo(Command command)
        {
            command.Options.Add(_data);
            command.Options.Add(_store);
            command.Options.Add(_storeFile);
        }

        public sealed class Opened(IStore store, HostService hosts) : IDisposable
        {
            public HostService Hosts { get; } = hosts;

            public void Dispose() => store.Dispose();
        }

        public Opened Open(ParseResult parse)
        {
            var directory = Path.GetFullPath(parse.GetValue(_data)!);
            var store = StoreFactory.Open(ServeCommand.StoreOf(parse, _store), directory);
            return new Opened(store, new HostService(store, SecretProtector.ForDataDirectory(Path.Combine(directory, "master.key")), TimeProvider.System));
        }
    }
}
