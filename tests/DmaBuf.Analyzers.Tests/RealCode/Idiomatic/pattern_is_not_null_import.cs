// `is not null` twice on the same get-only property chain: CPU access is begun and ended only for an imported
// surface, under two separate tests of surface.Import, with a kmap under a third. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class Surface
{
    public Surface(long size, DmaBufAttachment? import)
    {
        Size = size;
        Import = import;
    }

    public long Size { get; }

    public DmaBufAttachment? Import { get; }

    public byte[] Shadow { get; } = new byte[DmaBuffer.PageSize];
}

internal static class PatternIsNotNullImport
{
    public static void Refresh(Surface surface)
    {
        if (surface.Import is not null)
            surface.Import.Buffer.BeginCpuAccess(0, surface.Size, DmaDataDirection.FromDevice);

        Array.Clear(surface.Shadow);

        if (surface.Import is not null)
        {
            using var page = surface.Import.Buffer.Kmap(0);
            page.Span[..surface.Shadow.Length].CopyTo(surface.Shadow);
        }

        if (surface.Import is not null)
            surface.Import.Buffer.EndCpuAccess(0, surface.Size, DmaDataDirection.FromDevice);
    }
}
