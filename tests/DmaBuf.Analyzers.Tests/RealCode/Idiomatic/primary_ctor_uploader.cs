// A class with a primary constructor capturing a buffer and a device; Upload attaches, maps, writes and tears down
// in nested finally blocks. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class Uploader(DmaBuffer buffer, Device device)
{
    public void Upload(ReadOnlySpan<byte> data)
    {
        var att = buffer.Attach(device);
        try
        {
            var table = buffer.MapAttachment(att, DmaDataDirection.ToDevice);
            try
            {
                device.DmaWrite(table, 0, data);
            }
            finally
            {
                buffer.UnmapAttachment(att, table);
            }
        }
        finally
        {
            buffer.Detach(att);
        }
    }
}
