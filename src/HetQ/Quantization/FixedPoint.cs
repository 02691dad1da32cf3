namespace HetQ.Quantization;

/// <summary>The fixed-point quantize function: the single definition of rounding and overflow that
/// the fake quantizers, the emulator and the Verilog follow. <see cref="ToRaw"/> states it on real
/// numbers; <see cref="Requantize"/> computes the same thing on integer codes with shifts, as hardware
/// does; tests pin the two to each other exactly.</summary>
public static class FixedPoint
{
    /// <summary>The code of <paramref name="x"/> in <paramref name="type"/>: scale by 2^F, round to an
    /// integer with <paramref name="rounding"/> (exactly, ties at half an LSB), then apply
    /// <paramref name="overflow"/> to the type's range. Value = raw · 2^-F.</summary>
    /// <exception cref="ArgumentException">x is NaN, or infinite with WRAP (no code is meaningful).</exception>
    public static long ToRaw(double x, FixedType type, Rounding rounding, Overflow overflow)
    {
        if (double.IsNaN(x))
            throw new ArgumentException("NaN has no fixed-point code", nameof(x));
        if (double.IsInfinity(x))
        {
            if (overflow == Overflow.WRAP)
                throw new ArgumentException("an infinite value has no wrapped fixed-point code", nameof(x));
            return Saturated(x > 0, type, overflow);
        }

        // x · 2^F is exact in binary floating point unless it leaves the double range.
        double scaled = Math.ScaleB(x, type.FractionalBits);
        if (scaled == 0 && x != 0) scaled = double.CopySign(double.Epsilon, x); // keep the sign of an underflow
        if (double.IsInfinity(scaled))
            return overflow == Overflow.WRAP ? 0 : Saturated(scaled > 0, type, overflow); // a multiple of 2^W wraps to 0

        double floor = Math.Floor(scaled);
        double fraction = scaled - floor; // exact, in [0, 1)
        bool negative = scaled < 0;
        bool up = rounding switch
        {
            Rounding.TRN => false,
            Rounding.TRN_ZERO => negative && fraction != 0,
            _ when fraction != 0.5 => fraction > 0.5,
            Rounding.RND => true,
            Rounding.RND_ZERO => negative,
            Rounding.RND_INF => !negative,
            Rounding.RND_MIN_INF => false,
            Rounding.RND_CONV => Math.IEEERemainder(floor, 2) != 0,
            _ => throw new ArgumentOutOfRangeException(nameof(rounding), rounding, null),
        };
        double q = up ? floor + 1 : floor; // |q| < 2^53 whenever fraction != 0, so exact

        double upper = Math.ScaleB(1.0, type.Signed ? type.Width - 1 : type.Width); // MaxRaw + 1, exact
        if (q >= type.MinRaw && q < upper)
            return overflow == Overflow.SAT_SYM && (long)q == type.MinRaw ? SymmetricMin(type) : (long)q;
        if (overflow != Overflow.WRAP)
            return Saturated(q > 0, type, overflow);

        // Two's complement wrap: q mod 2^W (fmod is exact), then reinterpret as signed.
        double modulus = Math.ScaleB(1.0, type.Width);
        double r = q % modulus;
        if (r < 0) r += modulus;
        long wrapped = (long)r;
        return type.Signed && wrapped > type.MaxRaw ? wrapped - (1L << type.Width) : wrapped;
    }

    /// <summary>The value of a code: raw · 2^-F (exact for widths up to 53 bits).</summary>
    public static double FromRaw(long raw, FixedType type) => Math.ScaleB((double)raw, -type.FractionalBits);

    /// <summary>Converts the code <paramref name="raw"/> with <paramref name="fromFrac"/> fractional bits
    /// into <paramref name="to"/> using integers only: an arithmetic right shift whose dropped bits decide
    /// the rounding, or a left shift, then the overflow. The result is <see cref="ToRaw"/> of the real
    /// number raw · 2^-fromFrac, for every raw and every shift.</summary>
    public static long Requantize(long raw, int fromFrac, FixedType to, Rounding rounding, Overflow overflow)
    {
        Int128 q;
        long shift = (long)fromFrac - to.FractionalBits;
        if (shift > 0)
        {
            // |raw| < 2^63, so shifting by more than 65 rounds exactly as shifting by 65 does.
            int s = (int)Math.Min(shift, 65);
            Int128 value = raw;
            Int128 floor = value >> s;                 // arithmetic: toward minus infinity
            Int128 dropped = value - (floor << s);     // in [0, 2^s)
            Int128 half = Int128.One << (s - 1);
            bool negative = raw < 0;
            bool up = rounding switch
            {
                Rounding.TRN => false,
                Rounding.TRN_ZERO => negative && dropped != 0,
                _ when dropped != half => dropped > half,
                Rounding.RND => true,
                Rounding.RND_ZERO => negative,
                Rounding.RND_INF => !negative,
                Rounding.RND_MIN_INF => false,
                Rounding.RND_CONV => !Int128.IsEvenInteger(floor),
                _ => throw new ArgumentOutOfRangeException(nameof(rounding), rounding, null),
            };
            q = up ? floor + 1 : floor;
        }
        else
        {
            // A left shift past 64 overflows every type and wraps to 0 exactly as a shift of 64 does.
            q = (Int128)raw << (int)Math.Min(-shift, 64);
        }

        if (q >= to.MinRaw && q <= to.MaxRaw)
            return overflow == Overflow.SAT_SYM && q == to.MinRaw ? SymmetricMin(to) : (long)q;
        if (overflow != Overflow.WRAP)
            return Saturated(q > 0, to, overflow);
        long low = (long)(q & ((Int128.One << to.Width) - 1));
        return to.Signed && low > to.MaxRaw ? low - (1L << to.Width) : low;
    }

    /// <summary>The smallest code that <paramref name="overflow"/> can produce in <paramref name="type"/>
    /// (SAT_SYM excludes the most negative code of a signed type).</summary>
    public static long MinRaw(FixedType type, Overflow overflow) =>
        overflow == Overflow.SAT_SYM ? SymmetricMin(type) : type.MinRaw;

    private static long Saturated(bool positive, FixedType type, Overflow overflow) => overflow switch
    {
        Overflow.SAT_ZERO => 0,
        Overflow.SAT => positive ? type.MaxRaw : type.MinRaw,
        Overflow.SAT_SYM => positive ? type.MaxRaw : SymmetricMin(type),
        _ => throw new ArgumentOutOfRangeException(nameof(overflow), overflow, null),
    };

    // ap_fixed sets the code to MIN|1 (ap_fixed_base.h, overflow_adjust): -MAX, except that a 1-bit
    // signed type has only -1 and 0, and MIN|1 is -1 there.
    private static long SymmetricMin(FixedType type) =>
        !type.Signed ? 0 : type.Width == 1 ? -1 : -type.MaxRaw;
}
