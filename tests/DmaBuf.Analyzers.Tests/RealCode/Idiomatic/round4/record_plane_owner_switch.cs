// A positional record that owns an imported buffer and puts it in Dispose. Its factory probes the pixel format with a
// switch expression whose unknown arm is a throw expression, inside a try whose catch puts the reference and
// rethrows; on success the reference moves into the record. The caller disposes the plane with a using declaration
// and reads it with property patterns. Correct: silent.
using System;
using System.Buffers.Binary;
using System.IO;
using DmaBuf;

namespace Idiomatic.Round4;

internal enum PlaneFormat
{
    Nv12,
    Rgba,
}

internal sealed record ImportedPlane(DmaBuffer Buffer, PlaneFormat Format, int BytesPerPixel) : IDisposable
{
    public static ImportedPlane Import(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            uint fourcc = Probe(buf);
            var format = fourcc switch
            {
                0x3231564E => PlaneFormat.Nv12,
                0x34424752 => PlaneFormat.Rgba,
                _ => throw new InvalidDataException($"unknown format {fourcc:X8} in {buf}"),
            };
            return new ImportedPlane(buf, format, format == PlaneFormat.Rgba ? 4 : 1);
        }
        catch
        {
            buf.Put();
            throw;
        }
    }

    public void Dispose() => Buffer.Put();

    private static uint Probe(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, sizeof(uint), DmaDataDirection.FromDevice);
        using var page = buf.Kmap(0);
        return BinaryPrimitives.ReadUInt32LittleEndian(page.Span);
    }
}

internal static class PlaneRows
{
    public static int BytesPerRow(int fd, int width)
    {
        using var plane = ImportedPlane.Import(fd);
        return plane switch
        {
            { Format: PlaneFormat.Rgba, BytesPerPixel: var bpp } => width * bpp,
            { Format: PlaneFormat.Nv12 } => width,
            _ => 0,
        };
    }
}
