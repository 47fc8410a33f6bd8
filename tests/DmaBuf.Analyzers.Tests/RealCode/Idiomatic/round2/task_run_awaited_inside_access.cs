// A buffer passed to Task.Run and awaited inside the access: the lambda checksums the pages of the captured buffer,
// and the scope (an await-free using around the awaited task) ends after the task has completed. No atomic mapping is
// held across the await. Correct: silent.
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class TaskRunAwaitedInsideAccess
{
    public static async Task<int> ChecksumAsync(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            return await Task.Run(() =>
            {
                int sum = 0;
                for (long p = 0; p < buf.PageCount; p++)
                {
                    using var page = buf.Kmap(p);
                    sum += Bytes.Sum(page.Span);
                }

                return sum;
            });
        }
    }
}
