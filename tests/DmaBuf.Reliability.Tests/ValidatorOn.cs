// Turns the runtime validator on for the whole reliability test assembly, before the runtime first reads the switch.
using System;
using System.Runtime.CompilerServices;

namespace DmaBuf.Reliability.Tests;

internal static class ValidatorOn
{
    /// <summary>The reliability tests run with the validator on, set before the runtime first reads the switch.</summary>
    [ModuleInitializer]
    internal static void TurnOn() => AppContext.SetSwitch(DmaBufValidation.SwitchName, true);
}
