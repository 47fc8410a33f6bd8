// The direction of a DMA transfer or CPU access (enum dma_data_direction).
namespace DmaBuf;

/// <summary>
/// The direction of a DMA transfer or of a CPU access, mirroring the kernel's <c>enum dma_data_direction</c>.
/// </summary>
/// <remarks>
/// For CPU access (<see cref="DmaBuffer.BeginCpuAccess(long, long, DmaDataDirection)"/>) the direction is seen from the device, as in the kernel:
/// <see cref="FromDevice"/> means the CPU reads what a device wrote; <see cref="ToDevice"/> means the CPU writes
/// data that a device will read.
/// </remarks>
public enum DmaDataDirection
{
    /// <summary>Data moves both ways (<c>DMA_BIDIRECTIONAL</c>).</summary>
    Bidirectional = 0,

    /// <summary>Data moves from memory to the device (<c>DMA_TO_DEVICE</c>).</summary>
    ToDevice = 1,

    /// <summary>Data moves from the device to memory (<c>DMA_FROM_DEVICE</c>).</summary>
    FromDevice = 2,

    /// <summary>No data moves (<c>DMA_NONE</c>); used for debugging.</summary>
    None = 3,
}
