using System.Globalization;

namespace HetQ.Quantization;

/// <summary>The power-of-two rounding shared by quantized_po2 and quantized_relu_po2
/// (quantizers.py, `_clip_power_of_two` with log2_rounding="rnd", no quadratic approximation).</summary>
internal static class Po2
{
    // |x| < eps → min_exp; else y = min(|x|, max_value); exponent = clip(round(log2(y)), min_exp, max_exp).
    public static int Exponent(float magnitude, int minExp, int maxExp, float? maxValue)
    {
        if (magnitude < QuantMath.Epsilon) return minExp;
        float y = maxValue is float mv && magnitude >= mv ? mv : magnitude;
        return Math.Clamp(QuantMath.RoundLog2(y), minExp, maxExp);
    }

    // _need_exponent_sign_bit_check: no max_value or max_value > 1 needs an exponent sign bit.
    public static int ExponentSignBit(double? maxValue) => maxValue is null || maxValue > 1 ? 1 : 0;

    /// <summary>The exponents an input can reach: min_exp (inputs below eps) and round(log2(eps))..top.</summary>
    public static IEnumerable<int> ReachableExponents(int minExp, int maxExp, float? maxValue)
    {
        int low = Exponent(QuantMath.Epsilon, minExp, maxExp, maxValue);
        int high = Exponent(float.MaxValue, minExp, maxExp, maxValue);
        yield return minExp;
        for (int e = low; e <= high; e++) yield return e;
    }

    public static FixedType? TypeOf(IReadOnlyList<double>? values) => values is null ? null : FixedType.Containing(values);

    public const string NoTypeReason = "the exponent range needs a fixed-point type wider than 62 bits";
}

/// <summary>QKeras `quantized_po2(bits=8, max_value=None)`: ±2^e, e = round(log2|x|) clipped to the
/// exponents that bits-1 bits can hold (one fewer with an exponent sign bit, needed unless
/// max_value ≤ 1); |x| &lt; 1e-7 gives +2^min_exp, never 0. The gradient is the identity.</summary>
/// <remarks>As in QKeras, |x| is clipped to max_value before rounding log2, so the result can exceed
/// max_value by up to √2 (max_value=3 gives 4).</remarks>
public sealed class QuantizedPo2 : Quantizer
{
    public QuantizedPo2(int bits = 8, double? maxValue = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 8);
        if (maxValue < 0)
            throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, "po2 max_value should be non-negative");
        BitCount = bits;
        MaxValue = maxValue;
        // _get_min_max_exponents(non_sign_bits = bits - 1, need_exponent_sign_bit)
        int effective = bits - 1 - Po2.ExponentSignBit(maxValue);
        MinExponent = -(1 << effective);
        MaxExponent = (1 << effective) - 1;
    }

    private int BitCount { get; }
    public override int Bits => BitCount;
    public double? MaxValue { get; }
    public int MinExponent { get; }
    public int MaxExponent { get; }

    public override string Spec
    {
        get
        {
            var args = new List<string> { Bits.ToString(CultureInfo.InvariantCulture) };
            if (MaxValue is double mv) args.Add(SpecText.Number(mv));
            return SpecText.Call("quantized_po2", args);
        }
    }

    public override FixedType? HardwareType => Po2.TypeOf(Values);
    public override string? NoHardwareTypeReason => HardwareType is null ? Po2.NoTypeReason : null;

    // x_sign = sign(x) with 0 → +1; xq = x_sign·2^exponent(|x|)
    public override float Quantize(float x)
    {
        if (float.IsNaN(x)) return float.NaN;
        int e = Po2.Exponent(MathF.Abs(x), MinExponent, MaxExponent, (float?)MaxValue);
        return QuantMath.SignNonZero(x) * QuantMath.Pow2(e);
    }

    protected override IEnumerable<double>? EnumerateValues() =>
        Po2.ReachableExponents(MinExponent, MaxExponent, (float?)MaxValue)
            .SelectMany(e => new double[] { QuantMath.Pow2(e), -QuantMath.Pow2(e) });
}

/// <summary>QKeras `quantized_relu_po2(bits=8, max_value=None, negative_slope=0)`: 2^e for x ≥ 0 with
/// e = round(log2 x) clipped to bits exponent bits (one of them a sign bit unless max_value ≤ 1); inputs
/// ≤ 0 give 2^min_exp (never 0) unless negative_slope &gt; 0, which gives -2^e of |x|·negative_slope.</summary>
/// <remarks>The gradient is QKeras's: it differentiates relu(x, negative_slope) clipped at max_value:
/// 1 for 0 &lt; x ≤ max_value, negative_slope for x ≤ 0, 0 above max_value.</remarks>
public sealed class QuantizedReluPo2 : Quantizer
{
    public QuantizedReluPo2(int bits = 8, double? maxValue = null, double negativeSlope = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 8);
        if (maxValue < 0)
            throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, "po2 max_value should be non-negative");
        if (negativeSlope < 0 || (negativeSlope != 0 && !double.IsPow2(negativeSlope)))
            throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "negative_slope must be 0 or a power of two");
        BitCount = bits;
        MaxValue = maxValue;
        NegativeSlope = negativeSlope;
        int effective = bits - Po2.ExponentSignBit(maxValue);
        MinExponent = -(1 << effective);
        MaxExponent = (1 << effective) - 1;
    }

    private int BitCount { get; }
    public override int Bits => BitCount;
    public double? MaxValue { get; }
    public double NegativeSlope { get; }
    public int MinExponent { get; }
    public int MaxExponent { get; }

    public override string Spec
    {
        get
        {
            var args = new List<string> { Bits.ToString(CultureInfo.InvariantCulture) };
            if (MaxValue is double mv) args.Add(SpecText.Number(mv));
            if (NegativeSlope != 0) args.Add("negative_slope=" + SpecText.Number(NegativeSlope));
            return SpecText.Call("quantized_relu_po2", args);
        }
    }

    public override FixedType? HardwareType => Po2.TypeOf(Values);
    public override string? NoHardwareTypeReason => HardwareType is null ? Po2.NoTypeReason : null;

    // xq = where(x >= 0 or slope == 0, 2^exponent(relu(x)), -2^exponent(relu(-x)·slope))
    public override float Quantize(float x)
    {
        if (float.IsNaN(x)) return float.NaN;
        float? maxValue = (float?)MaxValue;
        float slope = (float)NegativeSlope;
        if (x >= 0 || slope == 0)
            return QuantMath.Pow2(Po2.Exponent(MathF.Max(x, 0f), MinExponent, MaxExponent, maxValue));
        return -QuantMath.Pow2(Po2.Exponent(-x * slope, MinExponent, MaxExponent, maxValue));
    }

    protected override bool HasIdentityGradient => false;

    // x = where(x <= max_value, relu(x, negative_slope), max_value)
    protected override float SurrogateGradient(float x)
    {
        if (MaxValue is double mv && !(x <= (float)mv)) return 0f;
        return x > 0 ? 1f : (float)NegativeSlope;
    }

    protected override IEnumerable<double>? EnumerateValues()
    {
        var exponents = Po2.ReachableExponents(MinExponent, MaxExponent, (float?)MaxValue).ToList();
        var values = exponents.Select(e => (double)QuantMath.Pow2(e));
        return NegativeSlope == 0 ? values : values.Concat(exponents.Select(e => -(double)QuantMath.Pow2(e)));
    }
}
