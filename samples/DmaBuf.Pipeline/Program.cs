// A zero-copy frame pipeline over one shared dma-buf, run with the runtime validator on:
//   camera  --DMA write-->  buffer  --kmap (CPU stamps the frame)-->  buffer  --DMA read-->  display
// The exporter is NonCoherentExporter, so every step must announce its CPU access correctly
// or the display would show stale pixels.
using System;
using System.Buffers.Binary;
using DmaBuf;

const int FrameCount = 4;
const int FramePages = 4;
const long FrameBytes = FramePages * DmaBuffer.PageSize;

Console.WriteLine($"validator: {(DmaBufValidation.IsEnabled ? "on" : "off")}");

// The exporter side: export the buffer and hand a descriptor to the importers.
DmaBuffer exported = DmaBuffer.Export(new NonCoherentExporter(), FrameBytes);
int fd = exported.Fd();
exported.Put(); // the descriptor keeps the buffer alive
Console.WriteLine($"exported {exported} of {FrameBytes} bytes as descriptor {fd}");

// The importer side: take a reference from the descriptor and attach both devices.
DmaBuffer buf = DmaBuffer.Get(fd);
var camera = new Device("camera") { MaxSegmentSize = 2 * DmaBuffer.PageSize };
var display = new Device("display") { MaxSegmentCount = 1 };
DmaBufAttachment cameraAttachment = buf.Attach(camera);
DmaBufAttachment displayAttachment = buf.Attach(display);

var frame = new byte[FrameBytes];
var shown = new byte[FrameBytes];
for (int n = 0; n < FrameCount; n++)
{
    // 1. The camera writes a frame by DMA.
    ScatterGatherTable cameraTable = buf.MapAttachment(cameraAttachment, DmaDataDirection.FromDevice);
    Array.Fill(frame, (byte)(0x10 * (n + 1)));
    camera.DmaWrite(cameraTable, 0, frame);
    buf.UnmapAttachment(cameraAttachment, cameraTable);

    // 2. The CPU reads every page and stamps the frame number into the first one, page by page through kmap.
    uint checksum = 0;
    using (buf.CpuAccess(0, FrameBytes, DmaDataDirection.Bidirectional))
    {
        for (long p = 0; p < buf.PageCount; p++)
        {
            using DmaBufPage page = buf.KmapAtomic(p);
            foreach (byte b in page.Span)
            {
                checksum = (checksum * 31) + b;
            }

            if (p == 0)
            {
                BinaryPrimitives.WriteInt32LittleEndian(page.Span, n);
            }
        }
    }

    // 3. The display reads the frame back by DMA.
    ScatterGatherTable displayTable = buf.MapAttachment(displayAttachment, DmaDataDirection.ToDevice);
    display.DmaRead(displayTable, 0, shown);
    buf.UnmapAttachment(displayAttachment, displayTable);

    int stamp = BinaryPrimitives.ReadInt32LittleEndian(shown);
    Console.WriteLine(
        $"frame {n}: camera wrote 0x{frame[^1]:X2} through {cameraTable.Entries.Count} segment(s), " +
        $"CPU checksum 0x{checksum:X8} over {buf.PageCount} pages, display read {displayTable.Entries.Count} segment(s) and sees stamp {stamp} " +
        $"{(stamp == n && shown[^1] == frame[^1] ? "OK" : "WRONG")}");
}

// Tear down in reverse order; the last reference releases the exporter's memory.
buf.Detach(displayAttachment);
buf.Detach(cameraAttachment);
buf.Put();
DmaBuffer.CloseFd(fd);
Console.WriteLine($"released: {buf.IsReleased}, live buffers: {DmaBuffer.LiveBufferCount}, native bytes in use: {DmaBufMemory.BytesInUse}");

// What the validator catches: a third atomic mapping held at once (DMA0004).
DmaBuffer demo = DmaBuffer.Export(new SystemHeapExporter(), FrameBytes);
demo.BeginCpuAccess(0, FrameBytes, DmaDataDirection.FromDevice);
DmaBufPage first = demo.KmapAtomic(0);
DmaBufPage second = demo.KmapAtomic(1);
try
{
    // Deliberately wrong, to show the validator: DMA0004 is reported at build time too, so it is suppressed here.
#pragma warning disable DMA0004
    DmaBufPage third = demo.KmapAtomic(2);
#pragma warning restore DMA0004
    demo.KunmapAtomic(2, third);
}
catch (DmaBufUsageException e)
{
    Console.WriteLine($"validator caught {e.Message}");
}

demo.KunmapAtomic(1, second);
demo.KunmapAtomic(0, first);
demo.EndCpuAccess(0, FrameBytes, DmaDataDirection.FromDevice);
demo.Put();
