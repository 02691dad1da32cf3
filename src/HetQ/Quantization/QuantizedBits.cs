namespace HetQ.Quantization;

/// <summary>QKeras `quantized_bits(bits=8, integer=0, symmetric=0, keep_negative=True, alpha=None)`:
/// a fixed-point grid with `integer` bits left of the point (not counting the sign), round half to
/// even and saturation; alpha scales it (a constant, or per channel with "auto"/"auto_po2").</summary>
/// <remarks>With alpha None (or a power of two), it is exactly
/// <c>ap_fixed&lt;bits, integer+1, RND_CONV, SAT or SAT_SYM&gt;</c> (ap_ufixed&lt;bits, integer&gt; without
/// keep_negative), computed through <see cref="FixedPoint.ToRaw"/>. QKeras clips to float32 bounds,
/// so for bits above 25 its top code rounds up; we keep the exact grid.</remarks>
public sealed class QuantizedBits : Quantizer, IScaledQuantizer
{
    public QuantizedBits(int bits = 8, int integer = 0, bool symmetric = false, bool keepNegative = true, Alpha alpha = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 32);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Math.Abs(integer), 256, nameof(integer));
        if (alpha.IsAuto && bits < 2)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "alpha='auto' needs at least 2 bits");
        BitCount = bits;
        Integer = integer;
        // "auto*" |-> symmetric (quantizers.py, quantized_bits.__init__).
        Symmetric = symmetric || alpha.IsAuto;
        KeepNegative = keepNegative;
        Alpha = alpha;
        if (UnsignedBits > 0)
        {
            Grid = new FixedFormat(
                new FixedType(keepNegative, bits, keepNegative ? integer + 1 : integer),
                Rounding.RND_CONV,
                Symmetric ? Overflow.SAT_SYM : Overflow.SAT);
        }
    }

    public int Integer { get; }
    public bool Symmetric { get; }
    public bool KeepNegative { get; }
    public Alpha Alpha { get; }
    public bool IsAutoScaled => Alpha.IsAuto;

    /// <summary>The unscaled grid as an ap_fixed format; null for the 1-bit sign quantizer (bits=1, keep_negative).</summary>
    public FixedFormat? Grid { get; }

    private int BitCount { get; }
    public override int Bits => BitCount;
    private int UnsignedBits => BitCount - (KeepNegative ? 1 : 0);

    public override string Spec
    {
        get
        {
            var args = new List<string> { Bits.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Integer.ToString(System.Globalization.CultureInfo.InvariantCulture), SpecText.Flag(Symmetric) };
            if (!KeepNegative) args.Add("keep_negative=False");
            if (Alpha.Kind != AlphaKind.None) args.Add("alpha=" + Alpha);
            return SpecText.Call("quantized_bits", args);
        }
    }

    public override FixedType? HardwareType
    {
        get
        {
            if (Alpha.Po2Exponent is not int k) return null;
            if (Grid is not FixedFormat grid) return ContainingType(Values);
            int integer = grid.Type.IntegerBits + k;
            return Math.Abs(integer) <= FixedType.MaxBinaryPoint && Math.Abs(grid.Type.Width - integer) <= FixedType.MaxBinaryPoint
                ? new FixedType(grid.Type.Signed, grid.Type.Width, integer) : null;
        }
    }

    public override string? NoHardwareTypeReason => HardwareType is null ? Alpha.NoGridReason ?? "the type is too wide" : null;

    public override float Quantize(float x)
    {
        if (!IsAutoScaled) return Alpha.Constant * QuantizeUnscaled(x);
        Span<float> y = stackalloc float[1];
        Forward([x], y, 1);
        return y[0];
    }

    // p = x·m/m_i; xq = m_i·clip(round(p), keep_negative·(-m + symmetric), m - 1)/m, i.e. the ap_fixed grid.
    // With one unsigned bit left (bits=1, keep_negative) QKeras returns sign(x) with sign(0) = +1.
    private float QuantizeUnscaled(float x)
    {
        if (float.IsNaN(x)) return float.NaN;
        if (Grid is not FixedFormat grid) return QuantMath.SignNonZero(x);
        return (float)FixedPoint.FromRaw(FixedPoint.ToRaw(x, grid.Type, grid.Rounding, grid.Overflow), grid.Type);
    }

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, int channels)
    {
        if (!IsAutoScaled)
        {
            base.Forward(x, y, channels);
            return;
        }
        float[] scale = new float[channels];
        Forward(x, y, channels, scale);
    }

    public void ComputeScale(ReadOnlySpan<float> x, int channels, Span<float> scale)
    {
        float[] y = new float[x.Length];
        Forward(x, y, channels, scale);
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scale)
    {
        CheckShapes(x, y, channels);
        if (scale.Length != channels)
            throw new ArgumentException($"scale length {scale.Length} differs from {channels} channels", nameof(scale));
        if (!IsAutoScaled)
        {
            base.Forward(x, y, channels);
            scale.Fill(Alpha.Constant);
            return;
        }
        ForwardAuto(x, y, channels, scale);
    }

    // quantizers.py, quantized_bits.__call__, alpha is a string:
    //   x = x / m_i; levels = (2^(bits-1) - 1)·2 (symmetric)
    //   scale = max|x|·2 / levels                                   (per channel)
    //   auto_po2: scale = 2^round(log2(scale + eps)); 5 times: z = sign(x)·min(floor(|x|/scale + 0.5), levels/2),
    //             scale = least-squares po2 scale of (x, z)
    //   z = sign(x)·min(floor(|x|/scale + 0.5), levels/2); scale = scale·m; result = scale·(m_i·z/m)
    private void ForwardAuto(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scaleOut)
    {
        float m = QuantMath.Pow2(UnsignedBits), mi = QuantMath.Pow2(Integer);
        float levels = ((1 << (Bits - 1)) - 1) * 2f;
        float half = levels / 2f;
        float[] xs = new float[x.Length];
        for (int i = 0; i < x.Length; i++) xs[i] = x[i] / mi;
        float[] scale = new float[channels];
        QuantMath.MaxAbs(xs, channels, scale);
        for (int c = 0; c < channels; c++) scale[c] = scale[c] * 2f / levels;
        float[] z = new float[x.Length];
        if (Alpha.Kind == AlphaKind.AutoPo2)
        {
            for (int c = 0; c < channels; c++) scale[c] = QuantMath.RoundScaleToPo2(scale[c]);
            for (int iteration = 0; iteration < 5; iteration++)
            {
                Levels(xs, scale, half, z);
                QuantMath.LeastSquaresScale(xs, z, channels, po2: true, scale);
            }
        }
        Levels(xs, scale, half, z);
        for (int i = 0; i < x.Length; i++)
        {
            float s = scale[i % channels] * m;
            y[i] = s * (mi * z[i] / m);
        }
        for (int c = 0; c < channels; c++) scaleOut[c] = scale[c] * m;
    }

    private static void Levels(ReadOnlySpan<float> xs, ReadOnlySpan<float> scale, float half, Span<float> z)
    {
        int channels = scale.Length;
        for (int i = 0; i < xs.Length; i++)
        {
            float v = MathF.Floor(MathF.Abs(xs[i]) / scale[i % channels] + 0.5f);
            z[i] = QuantMath.Sign(xs[i]) * (v < half ? v : half);
        }
    }

    protected override IEnumerable<double>? EnumerateValues()
    {
        if (IsAutoScaled) return null;
        float alpha = Alpha.Constant;
        if (Grid is not FixedFormat grid) return [alpha * -1f, alpha * 1f];
        if (grid.Type.Width > 16) return null;
        return Codes(grid).Select(raw => (double)(alpha * (float)FixedPoint.FromRaw(raw, grid.Type)));
    }

    internal static IEnumerable<long> Codes(FixedFormat format)
    {
        for (long raw = FixedPoint.MinRaw(format.Type, format.Overflow); raw <= format.Type.MaxRaw; raw++)
            yield return raw;
    }
}
