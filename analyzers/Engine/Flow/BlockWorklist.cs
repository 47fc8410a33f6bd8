// The engine's worklist: the ordinals of the blocks still to be walked, taken lowest first (so that a block comes
// after the blocks before it in the graph). A bit per block, so that adding, taking and testing cost a word each.
namespace DmaBuf.Analyzers.Engine;

internal sealed class BlockWorklist
{
    private readonly ulong[] _bits;
    private int _lowestWord;

    public BlockWorklist(int blocks)
    {
        _bits = new ulong[(blocks + 63) / 64];
        _lowestWord = _bits.Length;
    }

    public bool IsEmpty
    {
        get
        {
            while (_lowestWord < _bits.Length && _bits[_lowestWord] == 0)
            {
                _lowestWord++;
            }

            return _lowestWord >= _bits.Length;
        }
    }

    public void Add(int ordinal)
    {
        int word = ordinal >> 6;
        _bits[word] |= 1UL << (ordinal & 63);
        if (word < _lowestWord)
        {
            _lowestWord = word;
        }
    }

    /// <summary>Takes the lowest ordinal; the list must not be empty.</summary>
    public int TakeLowest()
    {
        while (_bits[_lowestWord] == 0)
        {
            _lowestWord++;
        }

        ulong bits = _bits[_lowestWord];
        int bit = TrailingZeros(bits);
        _bits[_lowestWord] = bits & (bits - 1);
        return (_lowestWord << 6) + bit;
    }

    private static int TrailingZeros(ulong value)
    {
        // netstandard2.0 has no BitOperations.TrailingZeroCount: bytes first, then bits.
        int count = 0;
        while ((value & 0xFF) == 0)
        {
            value >>= 8;
            count += 8;
        }

        while ((value & 1) == 0)
        {
            value >>= 1;
            count++;
        }

        return count;
    }
}
