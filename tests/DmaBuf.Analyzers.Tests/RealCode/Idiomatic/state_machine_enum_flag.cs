// A goto-free state machine: an enum local records that the access was begun; the kmaps run under
// `stage == Stage.Mapped`, and a switch on the same unchanged local ends it. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal enum Stage
{
    Idle,
    Mapped,
}

internal static class StateMachineEnumFlag
{
    public static long CountNonZero(DmaBuffer? buf)
    {
        var stage = Stage.Idle;
        if (buf is { Size: > 0 })
        {
            buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
            stage = Stage.Mapped;
        }

        long count = 0;
        if (stage == Stage.Mapped)
        {
            for (long p = 0; p < buf!.PageCount; p++)
            {
                using var page = buf.Kmap(p);
                count += page.Span.Length - page.Span.Count((byte)0);
            }
        }

        switch (stage)
        {
            case Stage.Mapped:
                buf!.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
                break;
            case Stage.Idle:
                break;
        }

        return count;
    }
}
