// Kernel: drivers/gpu/drm/i915/selftests/i915_gem_dmabuf.c, igt_dmabuf_export_kmap(), v4.11 (seeded)
// A copy of the v4.11 selftest (see igt_dmabuf_export_kmap.cs) as a porter might "fix" its missing CPU access, with
// ONE seeded bug: the access is begun for the first page only, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE, BIDI),
// after the export and ended at err:. The kmaps of page 0 are inside that page span; the kmaps of pages 1, 2 and -1
// are outside it (DMA0006 at each; 2 and -1 are the kmaps the test expects to fail, but they are still made outside
// the begun range). The buffer's size comes from the export helper, the begun range and the pages are constants.
using System;
using System.Runtime.InteropServices;
using DmaBuf;

namespace Kernel.I915.ExportKmapSeeded;

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

        try
        {
            dmabuf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto out_put;
        }

        try { ptr = dmabuf.Kmap(0); } catch (DmaBufException) { ptr = null; }
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

        try { ptr = dmabuf.Kmap(1); } catch (DmaBufException) { ptr = null; } // expect: DMA0006
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

        try { ptr = dmabuf.Kmap(0); } catch (DmaBufException) { ptr = null; }
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

        try { ptr = dmabuf.Kmap(2); } catch (ArgumentOutOfRangeException) { ptr = null; } // expect: DMA0006
        if (ptr != null)
        {
            Log.Error("Erroneously kmapped beyond the end of the object!");
            dmabuf.Kunmap(2, ptr.Value);
            err = E.EINVAL;
            goto err;
        }

        try { ptr = dmabuf.Kmap(-1); } catch (ArgumentOutOfRangeException) { ptr = null; } // expect: DMA0006
        if (ptr != null)
        {
            Log.Error("Erroneously kmapped before the start of the object!");
            dmabuf.Kunmap(-1, ptr.Value);
            err = E.EINVAL;
            goto err;
        }

        err = 0;
    err:
        dmabuf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    out_put:
        dmabuf.Put();
        return err;
    }
}
