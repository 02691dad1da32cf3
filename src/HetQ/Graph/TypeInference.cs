using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>Fixed-point types that hold every value a computation can produce, from exact integer bounds.</summary>
public static class TypeInference
{
    /// <summary>The narrowest type with <paramref name="frac"/> fractional bits holding raw codes in [lo, hi].</summary>
    public static FixedType Holding(Int128 lo, Int128 hi, int frac)
    {
        bool signed = lo < 0;
        int width = 1;
        while (true)
        {
            Int128 min = signed ? -(Int128.One << (width - 1)) : 0;
            Int128 max = signed ? (Int128.One << (width - 1)) - 1 : (Int128.One << width) - 1;
            if (lo >= min && hi <= max) break;
            width++;
            if (width > FixedType.MaxWidth) throw new HetQException($"an accumulator needs more than {FixedType.MaxWidth} bits");
        }
        return new FixedType(signed, width, width - frac);
    }

    /// <summary>Bounds of Σ_i x_i·w_i·2^shift + b·2^bshift for x in [xlo, xhi] (raw codes), per output.</summary>
    public static (Int128 Lo, Int128 Hi) DotBounds(ReadOnlySpan<long> weights, long xlo, long xhi, int shift, long bias, int bshift)
    {
        Int128 lo = 0, hi = 0;
        foreach (long w in weights)
        {
            Int128 a = (Int128)w * xlo, b = (Int128)w * xhi;
            lo += a < b ? a : b;
            hi += a < b ? b : a;
        }
        lo <<= shift;
        hi <<= shift;
        Int128 bb = (Int128)bias << bshift;
        return (lo + bb, hi + bb);
    }
}
