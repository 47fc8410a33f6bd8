// Kernel: drivers/gpu/drm/drm_client.c, drm_client_buffer_vmap(), v5.11, with drm_client_buffer_vunmap()
// The client buffer vmaps its object once and keeps the mapping in buffer->map until drm_client_buffer_vunmap(); a
// second vmap returns the kept one. Correct: silent (the vmap is stored in the client buffer, so it escapes the
// method that makes it; its vunmap takes it back from there).
using DmaBuf;

namespace KernelVmap.ClientBufferVmap;

internal sealed class ClientBuffer
{
    public ClientBuffer(DmaBuffer buffer) => Buffer = buffer;

    public DmaBuffer Buffer { get; }

    public DmaBufVmap Map { get; set; }
}

internal static class DrmClient
{
    public static int BufferVmap(ClientBuffer buffer, out DmaBufVmap mapCopy)
    {
        if (buffer.Map.Buffer != null)
        {
            mapCopy = buffer.Map;
            return 0;
        }

        try
        {
            buffer.Map = buffer.Buffer.Vmap();
        }
        catch (DmaBufException e)
        {
            mapCopy = default;
            return -e.Errno;
        }

        mapCopy = buffer.Map;
        return 0;
    }

    public static void BufferVunmap(ClientBuffer buffer)
    {
        buffer.Buffer.Vunmap(buffer.Map);
        buffer.Map = default;
    }
}
