// The whole importer lifecycle with nested try/finally: Get, Attach, MapAttachment, a device read, then
// UnmapAttachment, Detach and Put in reverse order on every path. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class SharingImportRead
{
    public static void ReadFrame(int fd, Device camera, byte[] destination)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            var att = buf.Attach(camera);
            try
            {
                var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
                try
                {
                    camera.DmaRead(table, 0, destination);
                }
                finally
                {
                    buf.UnmapAttachment(att, table);
                }
            }
            finally
            {
                buf.Detach(att);
            }
        }
        finally
        {
            buf.Put();
        }
    }
}
