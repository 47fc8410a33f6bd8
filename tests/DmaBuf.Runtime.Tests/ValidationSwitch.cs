// Turns the validator on for the suite, or as a child process is told to.
using System;
using System.Runtime.CompilerServices;

namespace DmaBuf.Runtime.Tests;

/// <summary>
/// Turns the runtime validator on before any test touches the runtime (the setting is read once). A child process
/// started by <see cref="ChildProcess"/> is told by its environment whether to turn it on or off.
/// </summary>
internal static class ValidationSwitch
{
    [ModuleInitializer]
    internal static void TurnOn() =>
        AppContext.SetSwitch(DmaBufValidation.SwitchName, Environment.GetEnvironmentVariable(ChildProcess.ValidatorVariable) != "0");
}
