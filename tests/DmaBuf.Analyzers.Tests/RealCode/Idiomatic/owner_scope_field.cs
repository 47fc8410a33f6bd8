// An owner that keeps a CpuAccessScope in a field: the constructor begins the access, Write maps pages of the
// field's buffer, Dispose ends it. The scope is stored (handed on), so the constructor leaving it open is the
// design. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class MappedWriter : IDisposable
{
    private readonly DmaBuffer _buffer;
    private readonly CpuAccessScope _access;

    public MappedWriter(DmaBuffer buffer)
    {
        _buffer = buffer;
        _access = buffer.CpuAccess(0, buffer.Size, DmaDataDirection.ToDevice);
    }

    public void Write(long page, byte value)
    {
        using var mapped = _buffer.Kmap(page);
        mapped.Span.Fill(value);
    }

    public void Dispose() => _access.Dispose();
}
