using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace HetQ.Quantization;

/// <summary>How the bits below the least significant bit are dropped, named as ap_fixed names them
/// (AP_TRN, AP_RND_CONV, ...). Ties are exactly half an LSB.</summary>
[SuppressMessage("Naming", "CA1707", Justification = "Names follow ap_fixed (AP_TRN_ZERO, ...).")]
public enum Rounding
{
    /// <summary>Truncate toward minus infinity (floor); the ap_fixed default.</summary>
    TRN,
    /// <summary>Truncate toward zero.</summary>
    TRN_ZERO,
    /// <summary>Round to nearest, ties toward plus infinity.</summary>
    RND,
    /// <summary>Round to nearest, ties toward zero.</summary>
    RND_ZERO,
    /// <summary>Round to nearest, ties away from zero.</summary>
    RND_INF,
    /// <summary>Round to nearest, ties toward minus infinity.</summary>
    RND_MIN_INF,
    /// <summary>Round to nearest, ties to even (convergent; what tf.round does).</summary>
    RND_CONV,
}

/// <summary>What happens to a value outside the type's range, named as ap_fixed names it.</summary>
[SuppressMessage("Naming", "CA1707", Justification = "Names follow ap_fixed (AP_SAT_SYM, ...).")]
public enum Overflow
{
    /// <summary>Keep the low Width bits (two's complement wrap); the ap_fixed default.</summary>
    WRAP,
    /// <summary>Clamp to the minimum or maximum code.</summary>
    SAT,
    /// <summary>Set to zero on overflow.</summary>
    SAT_ZERO,
    /// <summary>Clamp to ±maximum for signed types (the most negative code is never produced);
    /// as SAT for unsigned types.</summary>
    SAT_SYM,
}

/// <summary>A fixed-point type with ap_fixed&lt;W,I&gt; semantics: Width bits, IntegerBits of them
/// left of the binary point (including the sign bit when signed), so value = raw · 2^-(W-I).
/// IntegerBits may be negative or larger than Width.</summary>
public readonly record struct FixedType
{
    /// <summary>Widest supported type: raw codes fit a long with room for the integer path.</summary>
    public const int MaxWidth = 62;

    /// <summary>Bound on |IntegerBits| and |FractionalBits|, far beyond any useful type.</summary>
    public const int MaxBinaryPoint = 512;

    public FixedType(bool signed, int width, int integerBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxWidth);
        if (Math.Abs(integerBits) > MaxBinaryPoint || Math.Abs(width - integerBits) > MaxBinaryPoint)
            throw new ArgumentOutOfRangeException(nameof(integerBits), integerBits,
                $"integer bits must keep both I and W-I within ±{MaxBinaryPoint}");
        Signed = signed;
        Width = width;
        IntegerBits = integerBits;
    }

    public bool Signed { get; }
    public int Width { get; }
    public int IntegerBits { get; }

    /// <summary>F = W - I: the value of a raw code is raw · 2^-F.</summary>
    public int FractionalBits => Width - IntegerBits;

    public long MinRaw => Signed ? -(1L << (Width - 1)) : 0;
    public long MaxRaw => Signed ? (1L << (Width - 1)) - 1 : (1L << Width) - 1;

    /// <summary>The value of one LSB, 2^-F.</summary>
    public double Step => Math.ScaleB(1.0, -FractionalBits);

    public double MinValue => FixedPoint.FromRaw(MinRaw, this);
    public double MaxValue => FixedPoint.FromRaw(MaxRaw, this);

    /// <summary>Number of distinct codes, 2^W.</summary>
    public long CodeCount => 1L << Width;

    /// <summary>True when <paramref name="value"/> is exactly a code of this type.</summary>
    public bool Contains(double value)
    {
        if (!double.IsFinite(value)) return false;
        double raw = Math.ScaleB(value, FractionalBits);
        return raw == Math.Floor(raw) && raw >= MinRaw && raw <= MaxRaw;
    }

    /// <summary>The narrowest type whose grid holds every value (all finite, exact dyadic numbers);
    /// null when the width would exceed <see cref="MaxWidth"/> or the list is empty.</summary>
    public static FixedType? Containing(IEnumerable<double> values)
    {
        int frac = int.MinValue;
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) return null;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            if (v != 0) frac = Math.Max(frac, FractionBitsOf(v));
        }
        if (min > max) return null;
        if (frac == int.MinValue) frac = 0; // only zeros
        if (Math.Abs(frac) > MaxBinaryPoint) return null;
        double rawMin = Math.ScaleB(min, frac), rawMax = Math.ScaleB(max, frac);
        bool signed = rawMin < 0;
        int width = 1;
        while (width <= MaxWidth)
        {
            double lo = signed ? -Math.ScaleB(1.0, width - 1) : 0;
            double hi = signed ? Math.ScaleB(1.0, width - 1) - 1 : Math.ScaleB(1.0, width) - 1;
            if (rawMin >= lo && rawMax <= hi) break;
            width++;
        }
        if (width > MaxWidth || Math.Abs(width - frac) > MaxBinaryPoint) return null;
        return new FixedType(signed, width, width - frac);
    }

    /// <summary>The smallest F with v · 2^F an integer (negative for multiples of 2, 4, ...).</summary>
    private static int FractionBitsOf(double v)
    {
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(v));
        int biased = (int)(bits >> 52);
        long mantissa = bits & ((1L << 52) - 1);
        int exponent;
        if (biased == 0) exponent = -1074;
        else { mantissa |= 1L << 52; exponent = biased - 1075; }
        int trailing = System.Numerics.BitOperations.TrailingZeroCount(mantissa);
        return -(exponent + trailing);
    }

    /// <summary>`ap_fixed&lt;W,I&gt;` or `ap_ufixed&lt;W,I&gt;`.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(Signed ? "ap_fixed" : "ap_ufixed")}<{Width},{IntegerBits}>");

    /// <summary>`ap_fixed&lt;W,I,Q,O&gt;`, e.g. `ap_fixed&lt;6,1,RND,SAT&gt;`.</summary>
    public string ToString(Rounding rounding, Overflow overflow) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{(Signed ? "ap_fixed" : "ap_ufixed")}<{Width},{IntegerBits},{rounding},{overflow}>");
}

/// <summary>A fixed-point type with its rounding and overflow modes: the full meaning of an
/// `ap_fixed&lt;W,I,Q,O&gt;` declaration.</summary>
public readonly record struct FixedFormat(FixedType Type, Rounding Rounding, Overflow Overflow)
{
    public override string ToString() => Type.ToString(Rounding, Overflow);

    /// <summary>Parses `ap_fixed&lt;W,I[,Q[,O[,N]]]&gt;` or `ap_ufixed&lt;...&gt;`; Q and O take the ap_fixed
    /// names with or without the AP_ prefix and default to TRN and WRAP as in ap_fixed; N must be 0.
    /// Throws <see cref="HetQException"/> pointing at the bad part.</summary>
    public static FixedFormat Parse(string text)
    {
        var lexer = new SpecLexer(text, "fixed-point type");
        var format = ParseFrom(lexer);
        lexer.ExpectEnd();
        return format;
    }

    internal static FixedFormat ParseFrom(SpecLexer lexer)
    {
        var name = lexer.Next();
        bool signed = name.Kind == TokenKind.Identifier && name.Text == "ap_fixed";
        if (!signed && !(name.Kind == TokenKind.Identifier && name.Text == "ap_ufixed"))
            throw lexer.Error(name, "expected ap_fixed<W,I,...> or ap_ufixed<W,I,...>");
        lexer.Expect('<');
        var widthToken = lexer.Peek();
        int width = lexer.NextInteger("width W");
        lexer.Expect(',');
        var integerToken = lexer.Peek();
        int integer = lexer.NextInteger("integer bits I");
        var rounding = Rounding.TRN;
        var overflow = Overflow.WRAP;
        if (lexer.TryAccept(','))
        {
            rounding = ParseMode<Rounding>(lexer, "rounding mode");
            if (lexer.TryAccept(','))
            {
                overflow = ParseMode<Overflow>(lexer, "overflow mode");
                if (lexer.TryAccept(','))
                {
                    var nToken = lexer.Peek();
                    if (lexer.NextInteger("saturation bits N") != 0)
                        throw lexer.Error(nToken, "saturation bits N other than 0 are not supported");
                }
            }
        }
        lexer.Expect('>');
        if (width < 1 || width > FixedType.MaxWidth)
            throw lexer.Error(widthToken, $"width must be between 1 and {FixedType.MaxWidth}");
        if (Math.Abs(integer) > FixedType.MaxBinaryPoint || Math.Abs(width - integer) > FixedType.MaxBinaryPoint)
            throw lexer.Error(integerToken, $"integer bits must keep I and W-I within ±{FixedType.MaxBinaryPoint}");
        return new FixedFormat(new FixedType(signed, width, integer), rounding, overflow);
    }

    internal static TEnum ParseMode<TEnum>(SpecLexer lexer, string what) where TEnum : struct, Enum
    {
        var token = lexer.Next();
        if (TryParseMode(token.Kind is TokenKind.Identifier or TokenKind.String ? token.Text : null, out TEnum mode))
            return mode;
        throw lexer.Error(token, $"unknown {what} '{token.Text}'; valid: {string.Join(", ", Enum.GetNames<TEnum>())}");
    }

    internal static bool TryParseMode<TEnum>(string? text, out TEnum mode) where TEnum : struct, Enum
    {
        mode = default;
        if (text is null) return false;
        if (text.StartsWith("AP_", StringComparison.OrdinalIgnoreCase)) text = text[3..];
        foreach (var value in Enum.GetValues<TEnum>())
        {
            if (string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                mode = value;
                return true;
            }
        }
        return false;
    }
}
