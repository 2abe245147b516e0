using Palisade.Domain.Errors;
using Palisade.Domain.Rules;

namespace Palisade.Domain.Tests.Rules;

public sealed class PriorityTests
{
    [Theory]
    [InlineData("1", 1)]
    [InlineData("100", 100)]
    [InlineData("42", 42)]
    [InlineData(null, 1)]
    [InlineData("", 1)]
    public void OneTo100_DefaultOne(string? text, int value) =>
        Assert.Equal(value, Priority.Parse(text).Value.Value);

    [Theory]
    [InlineData("0", EcsErrorCodes.InvalidPriorityValueNotSupported)]
    [InlineData("101", EcsErrorCodes.InvalidPriorityValueNotSupported)]
    [InlineData("-1", EcsErrorCodes.InvalidPriorityValueNotSupported)]
    [InlineData("1.5", EcsErrorCodes.InvalidPriorityMalformed)]
    [InlineData("high", EcsErrorCodes.InvalidPriorityMalformed)]
    [InlineData("99999999999999999999", EcsErrorCodes.InvalidPriorityMalformed)]
    public void OutOfRangeOrNotANumber_GetTheEcsCode(string text, string code) =>
        Assert.Equal(code, Priority.Parse(text).Error!.Code);
}
