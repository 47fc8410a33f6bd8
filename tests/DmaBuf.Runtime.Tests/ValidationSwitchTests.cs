// The validator switch of the suite and of its child processes, and the child-process mechanism itself.
using System;
using Xunit.Sdk;

namespace DmaBuf.Runtime.Tests;

/// <summary>The suite runs with the validator on; a child process runs with it as it is told, and reports a failure.</summary>
public class ValidationSwitchTests
{
    [Fact]
    public void ValidatorIsOnForTheWholeSuite()
    {
        Assert.True(DmaBufValidation.IsEnabled);
    }

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void AChildProcessRunsWithTheValidatorAsItIsTold(bool validator) =>
        ChildProcess.Run<ValidationSwitchTests>(validator ? nameof(ValidatorIsOn) : nameof(ValidatorIsOff), validator);

    [Fact]
    public void AScenarioThatFailsOrCrashesInItsChildFailsTheTest()
    {
        Assert.ThrowsAny<XunitException>(() => ChildProcess.Run<ValidationSwitchTests>(nameof(Throws), validator: false));
        Assert.ThrowsAny<XunitException>(() => ChildProcess.Run<ValidationSwitchTests>(nameof(Crashes), validator: false));
        Assert.ThrowsAny<XunitException>(() => ChildProcess.Run<ValidationSwitchTests>(nameof(ValidatorIsOn), validator: false));
    }

    internal static void ValidatorIsOn() => Assert.True(DmaBufValidation.IsEnabled);

    internal static void ValidatorIsOff() => Assert.False(DmaBufValidation.IsEnabled);

    internal static void Throws() => throw new InvalidOperationException("a failing scenario");

    internal static void Crashes() => Environment.FailFast("a crashing scenario");
}
