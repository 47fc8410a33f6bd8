// A copy of the runtime's API shape in another namespace, which no rule may report on: the rules match the runtime by
// symbol, never by name.
namespace DmaBuf.Analyzers.Tests.Engine;

/// <summary>A copy of the runtime's API shape in another namespace: the rules must never report on it.</summary>
internal static class LookAlike
{
    public const string Source = @"
namespace Fake
{
    public enum DmaDataDirection { Bidirectional, ToDevice, FromDevice, None }

    public readonly struct DmaBufPage : System.IDisposable
    {
        public void Dispose() { }
    }

    public sealed class CpuAccessScope : System.IDisposable
    {
        public void Dispose() { }
    }

    public sealed class DmaBuffer
    {
        public const int PageSize = 4096;
        public void BeginCpuAccess(long start, long length, DmaDataDirection direction) { }
        public void EndCpuAccess(long start, long length, DmaDataDirection direction) { }
        public CpuAccessScope CpuAccess(long start, long length, DmaDataDirection direction) => new CpuAccessScope();
        public DmaBufPage Kmap(long page) => default;
        public DmaBufPage KmapAtomic(long page) => default;
        public void Kunmap(long page, DmaBufPage mapping) { }
        public void KunmapAtomic(long page, DmaBufPage mapping) { }
    }
}
";
}
