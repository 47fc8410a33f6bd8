// Shared by the idiomatic cases: a byte sum that only reads the span it is given. Nothing here touches a buffer.
using System;

namespace Idiomatic;

internal static class Bytes
{
    public static int Sum(ReadOnlySpan<byte> bytes)
    {
        int sum = 0;
        foreach (byte b in bytes)
            sum += b;
        return sum;
    }
}
