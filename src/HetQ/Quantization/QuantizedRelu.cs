using System.Globalization;

namespace HetQ.Quantization;

/// <summary>QKeras `quantized_relu(bits=8, integer=0, use_sigmoid=0, negative_slope=0.0,
/// relu_upper_bound=None, is_quantized_clip=True)`: relu onto the grid k·2^(integer-bits),
/// k = 0..2^bits-1 (ap_ufixed&lt;bits, integer&gt;, round half to even, saturate), optionally leaky.</summary>
/// <remarks>The gradient is QKeras's: it differentiates `x_u`, the relu clipped at the largest grid value
/// (or at relu_upper_bound when is_quantized_clip is False): 1 on (0, clip], negative_slope at x ≤ 0, 0 above.</remarks>
public sealed class QuantizedRelu : Quantizer
{
    public QuantizedRelu(int bits = 8, int integer = 0, bool useSigmoid = false, double negativeSlope = 0.0,
        double? reluUpperBound = null, bool isQuantizedClip = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 32);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Math.Abs(integer), 256, nameof(integer));
        // assert negative_slope >= 0.0; assert np.mod(np.log2(negative_slope), 1) == 0
        if (negativeSlope < 0 || (negativeSlope != 0 && !double.IsPow2(negativeSlope)))
            throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "negative_slope must be 0 or a power of two");
        BitCount = bits;
        Integer = integer;
        UseSigmoid = useSigmoid;
        NegativeSlope = negativeSlope;
        ReluUpperBound = reluUpperBound;
        IsQuantizedClip = isQuantizedClip;
        int nonSignBits = bits - (negativeSlope != 0 ? 1 : 0);
        _m = QuantMath.Pow2(nonSignBits);
        _mi = QuantMath.Pow2(integer);
        _clip = _mi - QuantMath.Pow2(integer - nonSignBits); // m_i - m_f
    }

    private readonly float _m, _mi, _clip;
    private int BitCount { get; }

    public int Integer { get; }
    public bool UseSigmoid { get; }
    public double NegativeSlope { get; }
    public double? ReluUpperBound { get; }
    public bool IsQuantizedClip { get; }
    public override int Bits => BitCount;

    internal bool IsPlain => !UseSigmoid && NegativeSlope == 0 && !ClipsAtUpperBound;
    private bool ClipsAtUpperBound => !IsQuantizedClip && ReluUpperBound is double b && b != 0;

    public override string Spec
    {
        get
        {
            var args = new List<string> { Bits.ToString(CultureInfo.InvariantCulture), Integer.ToString(CultureInfo.InvariantCulture) };
            if (UseSigmoid) args.Add("1");
            if (NegativeSlope != 0) args.Add("negative_slope=" + SpecText.Number(NegativeSlope));
            if (ReluUpperBound is double b) args.Add("relu_upper_bound=" + SpecText.Number(b));
            if (!IsQuantizedClip) args.Add("is_quantized_clip=False");
            return SpecText.Call("quantized_relu", args);
        }
    }

    public override FixedType? HardwareType =>
        IsPlain ? new FixedType(false, Bits, Integer)
        : ClipsAtUpperBound && !UpperBoundOnGrid ? null
        : ContainingType(Values);

    public override string? NoHardwareTypeReason =>
        HardwareType is not null ? null
        : ClipsAtUpperBound && !UpperBoundOnGrid
            ? $"relu_upper_bound={SpecText.Number(ReluUpperBound!.Value)} is not a multiple of the step {SpecText.Number(_mi / _m)}"
            : "the value set is too large to enumerate for this combination of options";

    private bool UpperBoundOnGrid
    {
        get
        {
            float k = (float)ReluUpperBound!.Value * _m / _mi;
            return float.IsFinite(k) && k == MathF.Floor(k);
        }
    }

    // quantizers.py, quantized_relu.__call__ (m = 2^non_sign_bits, m_i = 2^integer, each op in float32):
    //   use_sigmoid=0: p = x·m/m_i; xq = m_i·clip(round(p)/m, 0, 1 - 1/m)
    //                  leaky: xq += m_i·slope·clip(round(p·slope)·neg_factor, -1, 0), neg_factor = 1/(slope·m)
    //   use_sigmoid=1: p = hard_sigmoid(x/m_i)·m; xq = m_i·clip(2·(round(p)/m) - 1, 0, 1 - 1/m)
    //                  leaky: xq += m_i·slope·clip(2·(round(p·slope)·neg_factor) - 1, -1, 0)
    //   relu_upper_bound (truthy) and not is_quantized_clip: xq = min(xq, relu_upper_bound)
    public override float Quantize(float x)
    {
        float m = _m, mi = _mi, slope = (float)NegativeSlope;
        float xq;
        if (!UseSigmoid)
        {
            float p = x * m / mi;
            xq = mi * QuantMath.Clip(QuantMath.Round(p) / m, 0f, 1f - 1f / m);
            if (slope > 0)
            {
                float negFactor = 1f / (slope * m);
                xq = xq + mi * slope * QuantMath.Clip(QuantMath.Round(p * slope) * negFactor, -1f, 0f);
            }
        }
        else
        {
            float p = QuantMath.HardSigmoid(x / mi) * m;
            xq = mi * QuantMath.Clip(2f * (QuantMath.Round(p) / m) - 1f, 0f, 1f - 1f / m);
            if (slope > 0)
            {
                float negFactor = 1f / (slope * m);
                xq = xq + mi * slope * QuantMath.Clip(2f * (QuantMath.Round(p * slope) * negFactor) - 1f, -1f, 0f);
            }
        }
        if (ClipsAtUpperBound)
        {
            float bound = (float)ReluUpperBound!.Value;
            xq = xq <= bound ? xq : bound;
        }
        return xq;
    }

    protected override bool HasIdentityGradient => false;

    // x_u = where(x <= clip, relu(x, alpha=slope), clip): leaky_relu's gradient is 1 for x > 0, slope otherwise.
    protected override float SurrogateGradient(float x)
    {
        float slope = (float)NegativeSlope;
        if (IsQuantizedClip) return x <= _clip ? (x > 0 ? 1f : slope) : 0f;
        if (ReluUpperBound is double b) return x <= (float)b ? (x > 0 ? 1f : slope) : 0f;
        return x > 0 ? 1f : slope;
    }

    protected override IEnumerable<double>? EnumerateValues()
    {
        if (IsPlain)
            return Bits > 16 ? null : Enumerable.Range(0, 1 << Bits).Select(k => (double)Quantize(k * _mi / _m));
        // Sample every rounding bucket: the rounded quantities change at most every m_i/(m·max(1,slope))
        // along x, and everything saturates within |x| ≤ m_i (hard_sigmoid(x/m_i) and the negative clip).
        double slope = Math.Max(1.0, NegativeSlope);
        double samples = 16.0 * _m * slope;
        if (samples > 64.0 * MaxEnumeratedValues) return null;
        double step = _mi / (_m * 4.0 * slope);
        var values = new HashSet<double>();
        for (long k = -(long)samples / 2; k <= (long)samples / 2; k++) values.Add(Quantize((float)(k * step)));
        return values;
    }
}
