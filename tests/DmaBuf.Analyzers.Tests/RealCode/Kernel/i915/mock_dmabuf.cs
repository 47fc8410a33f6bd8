// Kernel: drivers/gpu/drm/i915/selftests/mock_dmabuf.c, mock_dmabuf(), torvalds/linux@2e16101780e9 (v4.11)
// The i915 selftests' mock exporter: mock_dmabuf() allocates npages pages (goto err from inside the allocation loop,
// and again when dma_buf_export() fails, where `while (i--) put_page()` frees what was allocated) and exports them
// with mock_dmabuf_ops, handing the new reference to its caller. The ops: map_dma_buf builds a table of the pages
// (ERR_PTR(-ENOMEM) when dma_map_sg fails: a thrown DmaBufException), release puts the pages, kmap_atomic uses
// kmap_atomic() (does not sleep), kmap uses kmap() (may sleep: allowed outside the atomic callbacks).
// The callers are the selftests (see igt_dmabuf_import_ownership.cs). Correct: silent.
using System.Runtime.InteropServices;
using DmaBuf;

namespace Kernel.I915.MockDmabuf;

// The pages of the mock: alloc_page(GFP_KERNEL) may sleep; kmap may sleep, kmap_atomic may not.
internal static class Highmem
{
    [MightSleep]
    public static nint AllocPage() => Marshal.AllocHGlobal(DmaBuffer.PageSize);

    public static void PutPage(nint page) => Marshal.FreeHGlobal(page);

    [MightSleep]
    public static nint Kmap(nint page) => page;

    public static void Kunmap(nint page)
    {
    }

    public static nint KmapAtomic(nint page) => page;

    public static void KunmapAtomic(nint addr)
    {
    }
}

// struct mock_dmabuf and mock_dmabuf_ops (selftests/mock_dmabuf.c).
internal sealed class MockDmabufExporter : DmaBufExporter
{
    public MockDmabufExporter(int npages)
    {
        Npages = npages;
        Pages = new nint[npages];
    }

    public int Npages { get; }

    public nint[] Pages { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        var sg = new ScatterGatherEntry[Npages];
        int i;

        for (i = 0; i < Npages; i++)
            sg[i] = new ScatterGatherEntry((ulong)Pages[i], DmaBuffer.PageSize);

        if (attachment.Device.MaxSegmentCount < Npages) // !dma_map_sg(attachment->dev, st->sgl, st->nents, dir)
            throw new DmaBufException(Errno.ENOMEM, "mock_map_dma_buf: dma_map_sg failed");

        return new ScatterGatherTable(sg);
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        // dma_unmap_sg(); sg_free_table(); kfree()
    }

    protected override void Release(DmaBuffer buffer)
    {
        int i;

        for (i = 0; i < Npages; i++)
            Highmem.PutPage(Pages[i]);
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => Highmem.KmapAtomic(Pages[pageNumber]);

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) => Highmem.KunmapAtomic(address);

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => Highmem.Kmap(Pages[pageNumber]);

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address) => Highmem.Kunmap(Pages[pageNumber]);
}

internal static class MockDmabuf
{
    private const int OCloexec = 0x80000;

    // mock_dmabuf(): ERR_PTR(-ENOMEM) is a thrown DmaBufException, the runtime's way to fail an export.
    public static DmaBuffer Create(int npages)
    {
        MockDmabufExporter mock;
        DmaBuffer dmabuf;
        int i;

        mock = new MockDmabufExporter(npages);

        for (i = 0; i < npages; i++)
        {
            mock.Pages[i] = Highmem.AllocPage();
            if (mock.Pages[i] == 0)
                goto err;
        }

        try
        {
            dmabuf = DmaBuffer.Export(mock, npages * (long)DmaBuffer.PageSize, OCloexec);
        }
        catch (DmaBufException)
        {
            goto err;
        }

        return dmabuf;

    err:
        while (i-- > 0)
            Highmem.PutPage(mock.Pages[i]);
        throw new DmaBufException(Errno.ENOMEM, "mock_dmabuf: out of memory");
    }
}
