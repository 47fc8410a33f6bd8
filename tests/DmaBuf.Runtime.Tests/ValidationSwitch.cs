using System;
using System.Runtime.CompilerServices;

namespace DmaBuf.Runtime.Tests;

/// <summary>Turns the runtime validator on before any test touches the runtime (the setting is read once).</summary>
internal static class ValidationSwitch
{
    [ModuleInitializer]
    internal static void TurnOn() => AppContext.SetSwitch(DmaBufValidation.SwitchName, true);
}
