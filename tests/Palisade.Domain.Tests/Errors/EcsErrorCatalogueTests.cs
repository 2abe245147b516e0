using System.Reflection;
using Palisade.Domain.Errors;

namespace Palisade.Domain.Tests.Errors;

/// <summary>The catalogue is the one source of errors: every factory yields a declared code and a client-error status.</summary>
public sealed class EcsErrorCatalogueTests
{
    private static readonly HashSet<string> DeclaredCodes = typeof(EcsErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet();

    public static TheoryData<string> Factories()
    {
        var data = new TheoryData<string>();
        foreach (var m in typeof(EcsErrors).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(EcsError)))
            data.Add(m.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Factories))]
    public void EveryFactory_YieldsADeclaredCode_AClientStatus_AndAMessage(string name)
    {
        foreach (var method in typeof(EcsErrors).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == name))
        {
            foreach (var args in SampleArguments(method))
            {
                var error = (EcsError)method.Invoke(null, args)!;
                Assert.Contains(error.Code, DeclaredCodes);
                // Only the server-side failures are not the client's doing.
                if (name is nameof(EcsErrors.Internal) or nameof(EcsErrors.Unavailable) or nameof(EcsErrors.StoreFull))
                    Assert.InRange(error.HttpStatus, 500, 599);
                else
                    Assert.InRange(error.HttpStatus, 400, 499);
                Assert.False(string.IsNullOrWhiteSpace(error.Message));
                Assert.DoesNotContain('\n', error.Message);
            }
        }
    }

    [Fact]
    public void CodesAreUnique_AndLookLikeEcsCodes()
    {
        var all = typeof(EcsErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(all, code => Assert.Matches(@"^[A-Za-z][A-Za-z0-9]*([._][A-Za-z0-9]+)*$", code));
    }

    /// <summary>Each bool parameter both ways; strings get a sample value (and a field name the switch knows).</summary>
    private static IEnumerable<object?[]> SampleArguments(MethodInfo method)
    {
        var parameters = method.GetParameters();
        IEnumerable<object?[]> combos = [[]];
        foreach (var p in parameters)
        {
            object?[] values = p.ParameterType == typeof(bool) ? [true, false]
                : p.Name == "field" ? ["SourceCidrIp", "DestCidrIp", "Ipv6SourceCidrIp", "Ipv6DestCidrIp", "Other"]
                : p.ParameterType == typeof(string) ? ["x"]
                : p.ParameterType == typeof(int) ? [1, 100]
                : p.ParameterType == typeof(double) ? [0.0, 2.5, -1.0]
                : p.ParameterType == typeof(IReadOnlyList<string>) ? [(string[])["sgr-a", "sgr-b"], Enumerable.Range(1, 7).Select(i => $"sgr-{i}").ToArray()]
                : throw new InvalidOperationException($"{method.Name}: add a sample for {p.ParameterType}");
            combos = combos.SelectMany(c => values.Select(v => c.Append(v).ToArray()));
        }
        return combos;
    }
}
