namespace Palisade.Cli.Tests.Hosts;

/// <summary>
/// The host and agent commands' edges: the operator's commands on a store (declare, credential,
/// bind, bindings) and what the tenant's and the agent's commands say when they cannot work. Their
/// work against a real server and kernel is tested in Palisade.System.Tests (EnforcementTests).
/// </summary>
public sealed class HostCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-hosts-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    private static string Credentials()
    {
        var path = Path.Combine(Path.GetTempPath(), $"palisade-cred-{Guid.NewGuid():N}");
        File.WriteAllText(path, "# test\naccess_key_id=LTAItest\naccess_key_secret=secret\n");
        return path;
    }

    [Fact]
    public void NotAUrl_IsOneLine_ExitTwo()
    {
        var outcome = CliTester.Run("host", "list", "--server", "ftp://x", "--credentials", Credentials());
        Assert.Equal((2, "error: 'ftp://x' is not an http(s) URL\n"), (outcome.ExitCode, outcome.Error));
    }

    [Fact]
    public void UnreachableServer_IsOneLine_ExitFour()
    {
        var outcome = CliTester.Run("host", "list", "--server", "http://127.0.0.1:9/", "--credentials", Credentials());
        Assert.Equal(ExitCodes.Unavailable, outcome.ExitCode);
        Assert.StartsWith("error: the server did not answer: Connection refused", outcome.Error, StringComparison.Ordinal);
        Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Agent_WithoutHost_IsAUsageError()
    {
        var outcome = CliTester.Run("agent", "--server", "http://127.0.0.1:9/");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--host", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Agent_TakesItsHostFromAHostCredential_AndNeedsBothHalvesOfADeclaration()
    {
        var credential = Path.Combine(_data, "node-1.credentials");
        Assert.Equal(0, CliTester.Run("host", "credential", "create", "--host", "node-1", "--out", credential, "--data", _data).ExitCode);
        var outcome = CliTester.Run("agent", "--server", "http://127.0.0.1:9/", "--credentials", credential, "--interfaces", "vnet*");
        Assert.Equal((2, "error: --interfaces and --addresses go together: they repeat the host's declaration\n"), (outcome.ExitCode, outcome.Error));
        var bad = CliTester.Run("agent", "--server", "http://127.0.0.1:9/", "--credentials", credential, "--interfaces", "vnet*", "--addresses", "10.0.0.1/8");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'10.0.0.1/8' has host bits set; the block is 10.0.0.0/8.", bad.Error, StringComparison.Ordinal);
        // Over plain HTTP to another machine the agent refuses before it asks anything.
        var far = CliTester.Run("agent", "--server", "http://192.0.2.1:8080/", "--credentials", credential);
        Assert.Equal(2, far.ExitCode);
        Assert.Contains("over https:// only", far.Error, StringComparison.Ordinal);
    }

    /// <summary>The operator's commands on the store: declare, make a credential, and bindings refused with the catalogue's errors.</summary>
    [Fact]
    public void TheOperator_DeclaresAHost_MakesItsCredential_AndBindsOnTheStore()
    {
        var declared = CliTester.Run("host", "declare", "--host", "node-1", "--interfaces", "vnet*,tap*", "--addresses", "172.16.0.0/12, 2001:db8::/32", "--data", _data);
        Assert.True(declared.ExitCode == 0, declared.Error);
        Assert.Equal("host node-1 carries interfaces vnet* tap* with addresses in 172.16.0.0/12 2001:db8::/32; flow sampling on\n", declared.Output);

        var file = Path.Combine(_data, "node-1.credentials");
        var created = CliTester.Run("host", "credential", "create", "--host", "node-1", "--out", file, "--data", _data);
        Assert.True(created.ExitCode == 0, created.Error);
        var lines = File.ReadAllLines(file);
        Assert.Contains("host_name=node-1", lines);
        Assert.Contains(lines, l => l.StartsWith("access_key_id=LTAI", StringComparison.Ordinal) && l.Length == "access_key_id=".Length + 24);
        Assert.Contains(lines, l => l.StartsWith("access_key_secret=", StringComparison.Ordinal) && l.Length == "access_key_secret=".Length + 30);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(lines.Single(l => l.StartsWith("access_key_secret=", StringComparison.Ordinal))[18..], created.Output, StringComparison.Ordinal);
        // A credential file is never overwritten.
        var again = CliTester.Run("host", "credential", "create", "--host", "node-1", "--out", file, "--data", _data);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("exists", again.Error, StringComparison.Ordinal);

        var undeclared = CliTester.Run("host", "bind", "--instance", "i-bp1doesnotexist00", "--host", "node-9", "--interface", "vnet0", "--data", _data);
        Assert.Equal((2, "error: InvalidInstanceId.NotFound: The specified InstanceId 'i-bp1doesnotexist00' does not exist.\n"), (undeclared.ExitCode, undeclared.Error));
        // Per ENI (issue 16 item 6): the NIC is --eni or --instance (its primary ENI), exactly one.
        var noEni = CliTester.Run("host", "bind", "--eni", "eni-bp1doesnotexist0", "--host", "node-1", "--interface", "vnet1", "--data", _data);
        Assert.Equal((2, "error: InvalidEniId.NotFound: The specified NetworkInterfaceId 'eni-bp1doesnotexist0' does not exist.\n"), (noEni.ExitCode, noEni.Error));
        var both = CliTester.Run("host", "bind", "--eni", "eni-bp1x", "--instance", "i-bp1x", "--host", "node-1", "--interface", "vnet1", "--data", _data);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("Give the NIC as --eni ID or --instance ID (its primary ENI), one of them.", both.Error, StringComparison.Ordinal);
        var neither = CliTester.Run("host", "unbind", "--data", _data);
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("one of them", neither.Error, StringComparison.Ordinal);
        var notBound = CliTester.Run("host", "unbind", "--eni", "eni-bp1doesnotexist0", "--data", _data);
        Assert.Equal((2, "error: InvalidEniId.NotFound: The specified NetworkInterfaceId 'eni-bp1doesnotexist0' does not exist.\n"), (notBound.ExitCode, notBound.Error));
        var malformed = CliTester.Run("host", "bind", "--instance", "i-bp1doesnotexist00", "--host", "node 1", "--interface", "vnet0", "--data", _data);
        Assert.Equal(2, malformed.ExitCode);
        Assert.StartsWith("error: InvalidHostName.Malformed: ", malformed.Error, StringComparison.Ordinal);
        var badDeclaration = CliTester.Run("host", "declare", "--host", "node-1", "--interfaces", "vnet/0", "--addresses", "10.0.0.0/8", "--data", _data);
        Assert.Equal(2, badDeclaration.ExitCode);
        Assert.StartsWith("error: InvalidHostDeclaration.Malformed: ", badDeclaration.Error, StringComparison.Ordinal);

        var listed = CliTester.Run("host", "bindings", "--data", _data);
        Assert.True(listed.ExitCode == 0, listed.Error);
        Assert.Contains("node-1  vnet* tap*", listed.Output, StringComparison.Ordinal);
        Assert.Contains("HOST  INTERFACE  ENI  INSTANCE  ACCOUNT", listed.Output, StringComparison.Ordinal);
    }
}
