// A reference from Get moved into Task.Run: the lambda uses it and puts it in its own finally. The reference is
// captured by the lambda (handed on), so the method itself owes no Put. Correct: silent.
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class TaskRunCapturedPut
{
    public static Task<long> SizeInBackground(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        return Task.Run(() =>
        {
            try
            {
                return buf.Size;
            }
            finally
            {
                buf.Put();
            }
        });
    }
}
