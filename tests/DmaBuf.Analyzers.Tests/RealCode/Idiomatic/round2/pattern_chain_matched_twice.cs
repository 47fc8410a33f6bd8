// The same property chain matched twice with a declaration pattern into two locals (`is { } b` then `is { } b2`): the
// chain did not change in between, so both are the same buffer, begun by the first and ended by the second.
// Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class ImportInfo
{
    public DmaBuffer? Buf { get; init; }
}

internal sealed class ImportedObject
{
    public ImportInfo? Import { get; init; }

    public long Size { get; init; }
}

internal static class PatternChainMatchedTwice
{
    public static void Flush(ImportedObject obj)
    {
        if (obj.Import?.Buf is { } b)
            b.BeginCpuAccess(0, obj.Size, DmaDataDirection.FromDevice);
        Console.WriteLine(obj.Size);
        if (obj.Import?.Buf is { } b2)
            b2.EndCpuAccess(0, obj.Size, DmaDataDirection.FromDevice);
    }
}
