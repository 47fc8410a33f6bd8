// The attributes the analyzers read: [MightSleep] for code that may block, and the Open/Close pair markers.
using System;

namespace DmaBuf;

/// <summary>
/// Marks a method that may block (sleep), the .NET spelling of the kernel's <c>might_sleep()</c> annotation.
/// Calling such a method while an atomic mapping is held is rule DMA0005, and from an exporter's atomic
/// kmap callback rule DMA0008. The analyzers read the attribute; at run time call
/// <see cref="DmaBufValidation.MightSleep()"/> inside the method so that the validator sees it too.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Property, Inherited = true, AllowMultiple = false)]
public sealed class MightSleepAttribute : Attribute
{
}

/// <summary>
/// Declares that a method intentionally leaves CPU access begun, or pages mapped, for its caller to finish
/// (the <c>Open</c> half of an Open/Close pair). The analyzers do not report DMA0001 or DMA0003 for what
/// such a method leaves open; a caller that receives it is responsible for it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class LeavesCpuAccessOpenAttribute : Attribute
{
}

/// <summary>
/// Declares that a method intentionally ends CPU access, or unmaps pages, that another method began
/// (the <c>Close</c> half of an Open/Close pair). The analyzers do not report DMA0002 or DMA0003 for an end
/// or unmap in such a method whose begin or map they cannot see.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class ClosesCpuAccessAttribute : Attribute
{
}
