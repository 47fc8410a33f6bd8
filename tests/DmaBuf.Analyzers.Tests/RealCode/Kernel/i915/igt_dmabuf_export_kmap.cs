// Kernel: drivers/gpu/drm/i915/selftests/i915_gem_dmabuf.c, igt_dmabuf_export_kmap(), torvalds/linux@4149f70f7c60 (v4.11)
// The i915 mock selftest of kmap through an exported object: export a two-page GEM object with
// i915_gem_prime_export(), drop the test's GEM reference (the dma-buf keeps one), then dma_buf_kmap() page 0 (expect
// zeroes, fill 0xc5), write page 1 through the object's own pin_map, kmap page 1 (expect 0xaa), kmap page 0 again
// (expect 0xc5 retained), and check that pages 2 and -1 cannot be mapped. Every failure unmaps what it mapped and
// jumps to err:, which puts the dma-buf.
// The bug: the test never calls dma_buf_begin_cpu_access(), so every kmap runs with no CPU access begun on a buffer
// the test itself exported (DMA0007 at each of the five kmaps, the two that are expected to fail included). The
// test stayed this way until dma_buf_kmap was removed (v5.6); the export helper is in the same compilation unit
// (the selftest is #included into i915_gem_dmabuf.c), so the buffer is known to come fresh from dma_buf_export().
using System;
using System.Runtime.InteropServices;
using DmaBuf;

namespace Kernel.I915.ExportKmap;

internal sealed class DrmI915Private
{
}

internal sealed class I915GemObject
{
    private int _refs = 1;

    public I915GemObject(DrmI915Private i915, long size)
    {
        I915 = i915;
        Size = size;
        Vaddr = Marshal.AllocHGlobal((nint)size);
    }

    public DrmI915Private I915 { get; }

    public long Size { get; }

    public nint Vaddr { get; }

    public void Get() => _refs++;

    public void Put()
    {
        if (--_refs == 0)
            Marshal.FreeHGlobal(Vaddr);
    }

    // i915_gem_object_pin_map(obj, I915_MAP_WB): the object's own kernel mapping, not the dma-buf's.
    public unsafe byte[]? PinMap() => new Span<byte>((void*)Vaddr, (int)Size).ToArray();

    public void UnpinMap()
    {
    }
}

// i915_dmabuf_ops, reduced to what the test reaches: kmap hands out the object's pages.
internal sealed class I915DmabufExporter : DmaBufExporter
{
    public I915DmabufExporter(I915GemObject obj) => Obj = obj;

    public I915GemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry((ulong)Obj.Vaddr, Obj.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer) => Obj.Put();

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) =>
        pageNumber >= Obj.Size / DmaBuffer.PageSize ? 0 : Obj.Vaddr + (nint)(pageNumber * DmaBuffer.PageSize);
}

internal static class I915GemDmabuf
{
    public static I915GemObject? ObjectCreate(DrmI915Private i915, long size) => size > 0 ? new I915GemObject(i915, size) : null;

    // i915_gem_prime_export() -> dma_buf_export(): the dma-buf holds a reference to the object.
    public static DmaBuffer PrimeExport(I915GemObject obj, int flags)
    {
        DmaBuffer dmabuf = DmaBuffer.Export(new I915DmabufExporter(obj), obj.Size, flags);
        obj.Get();
        return dmabuf;
    }

    private static bool MemchrInv(Span<byte> s, byte c) => s.IndexOfAnyExcept(c) >= 0;

    public static int IgtDmabufExportKmap(DrmI915Private i915)
    {
        I915GemObject? obj;
        DmaBuffer? dmabuf;
        DmaBufPage? ptr;
        byte[]? map;
        int err = 0;

        obj = ObjectCreate(i915, 2 * DmaBuffer.PageSize);
        if (obj == null)
            return E.ENOMEM;

        try
        {
            dmabuf = PrimeExport(obj, 0);
        }
        catch (DmaBufException e)
        {
            dmabuf = null;
            err = -e.Errno;
        }

        obj.Put();
        if (dmabuf == null)
        {
            Log.Error("i915_gem_prime_export failed with err={0}", err);
            return err;
        }

        try { ptr = dmabuf.Kmap(0); } catch (DmaBufException) { ptr = null; } // expect: DMA0007
        if (ptr == null)
        {
            Log.Error("dma_buf_kmap failed");
            err = E.ENOMEM;
            goto err;
        }

        if (MemchrInv(ptr.Value.Span, 0))
        {
            dmabuf.Kunmap(0, ptr.Value);
            Log.Error("Exported page[0] not initialiased to zero!");
            err = E.EINVAL;
            goto err;
        }

        ptr.Value.Span.Fill(0xc5);
        dmabuf.Kunmap(0, ptr.Value);

        map = obj.PinMap();
        if (map == null)
        {
            err = E.ENOMEM;
            Log.Error("i915_gem_object_pin_map failed with err={0}", err);
            goto err;
        }

        map.AsSpan(DmaBuffer.PageSize, DmaBuffer.PageSize).Fill(0xaa);
        obj.UnpinMap();

        try { ptr = dmabuf.Kmap(1); } catch (DmaBufException) { ptr = null; } // expect: DMA0007
        if (ptr == null)
        {
            Log.Error("dma_buf_kmap failed");
            err = E.ENOMEM;
            goto err;
        }

        if (MemchrInv(ptr.Value.Span, 0xaa))
        {
            dmabuf.Kunmap(1, ptr.Value);
            Log.Error("Exported page[1] not set to 0xaa!");
            err = E.EINVAL;
            goto err;
        }

        ptr.Value.Span.Fill(0xc5);
        dmabuf.Kunmap(1, ptr.Value);

        try { ptr = dmabuf.Kmap(0); } catch (DmaBufException) { ptr = null; } // expect: DMA0007
        if (ptr == null)
        {
            Log.Error("dma_buf_kmap failed");
            err = E.ENOMEM;
            goto err;
        }

        if (MemchrInv(ptr.Value.Span, 0xc5))
        {
            dmabuf.Kunmap(0, ptr.Value);
            Log.Error("Exported page[0] did not retain 0xc5!");
            err = E.EINVAL;
            goto err;
        }

        dmabuf.Kunmap(0, ptr.Value);

        try { ptr = dmabuf.Kmap(2); } catch (ArgumentOutOfRangeException) { ptr = null; } // expect: DMA0007
        if (ptr != null)
        {
            Log.Error("Erroneously kmapped beyond the end of the object!");
            dmabuf.Kunmap(2, ptr.Value);
            err = E.EINVAL;
            goto err;
        }

        try { ptr = dmabuf.Kmap(-1); } catch (ArgumentOutOfRangeException) { ptr = null; } // expect: DMA0007
        if (ptr != null)
        {
            Log.Error("Erroneously kmapped before the start of the object!");
            dmabuf.Kunmap(-1, ptr.Value);
            err = E.EINVAL;
            goto err;
        }

        err = 0;
    err:
        dmabuf.Put();
        return err;
    }
}
