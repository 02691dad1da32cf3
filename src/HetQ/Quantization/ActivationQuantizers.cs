using System.Globalization;

namespace HetQ.Quantization;

/// <summary>QKeras `quantized_tanh(bits=8, symmetric=False)` with use_real_tanh=False: the hard tanh
/// 2·hard_sigmoid(x) - 1 = clip(x, -1, 1) rounded half to even onto k/2^(bits-1), clipped to
/// [-1 (+2^-(bits-1) if symmetric), 1 - 2^-(bits-1)]: ap_fixed&lt;bits, 1&gt;.</summary>
/// <remarks>Follows current QKeras (bits, use_stochastic_rounding, symmetric, use_real_tanh); QKeras 0.9.0
/// had quantized_tanh(bits, integer, symmetric) with a different formula. QKeras returns the clipped
/// expression itself, so the gradient is 1 where |x| ≤ 1 and the rounded value is inside the clip range, else 0.</remarks>
public sealed class QuantizedTanh : HardActivationQuantizer
{
    public QuantizedTanh(int bits = 8, bool symmetric = false)
        : base(bits, symmetric, minBits: 2, fractionBits: bits - 1, lowestCode: -(1 << Math.Min(bits - 1, 30)), gradient: 1f)
    {
    }

    public override string Spec =>
        SpecText.Call("quantized_tanh", Symmetric
            ? [Bits.ToString(CultureInfo.InvariantCulture), "symmetric=1"]
            : [Bits.ToString(CultureInfo.InvariantCulture)]);

    public override FixedType? HardwareType => new FixedType(true, Bits, 1);

    // p = 2·hard_sigmoid(x) - 1
    protected override float Activation(float x) => 2f * QuantMath.HardSigmoid(x) - 1f;
}

/// <summary>QKeras `quantized_sigmoid(bits=8, symmetric=False)` with use_real_sigmoid=False: hard_sigmoid(x)
/// = clip(0.5·x + 0.5, 0, 1) rounded half to even onto k/2^bits, clipped to [symmetric/2^bits, 1 - 2^-bits]:
/// ap_ufixed&lt;bits, 0&gt;.</summary>
/// <remarks>The gradient is QKeras's: 0.5 where |x| ≤ 1 and the rounded value is inside the clip range, else 0.</remarks>
public sealed class QuantizedSigmoid : HardActivationQuantizer
{
    public QuantizedSigmoid(int bits = 8, bool symmetric = false)
        : base(bits, symmetric, minBits: 1, fractionBits: bits, lowestCode: 0, gradient: 0.5f)
    {
    }

    public override string Spec =>
        SpecText.Call("quantized_sigmoid", Symmetric
            ? [Bits.ToString(CultureInfo.InvariantCulture), "1"]
            : [Bits.ToString(CultureInfo.InvariantCulture)]);

    public override FixedType? HardwareType => new FixedType(false, Bits, 0);

    protected override float Activation(float x) => QuantMath.HardSigmoid(x);
}

/// <summary>The hard tanh and hard sigmoid quantizers: the activation of x rounded half to even onto k/2^f
/// (f fraction bits) and clipped to [(lowest code + symmetric)/2^f, 1 - 2^-f]. The gradient is the activation's
/// slope (<c>gradient</c>) where |x| ≤ 1 and the rounded value is inside the clip range, else 0.</summary>
public abstract class HardActivationQuantizer : Quantizer
{
    private protected HardActivationQuantizer(int bits, bool symmetric, int minBits, int fractionBits, int lowestCode, float gradient)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, minBits, nameof(bits));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 24, nameof(bits));
        BitCount = bits;
        Symmetric = symmetric;
        _m = QuantMath.Pow2(fractionBits);
        _lowestCode = lowestCode + (symmetric ? 1 : 0);
        _lo = _lowestCode / _m;
        _hi = 1f - 1f / _m;
        _gradient = gradient;
    }

    private readonly float _m, _lo, _hi, _gradient;
    private readonly int _lowestCode;
    private int BitCount { get; }
    public override int Bits => BitCount;
    public bool Symmetric { get; }
    public override string? NoHardwareTypeReason => null;

    /// <summary>The hard activation before rounding.</summary>
    protected abstract float Activation(float x);

    // clip(round(activation(x)·m)/m, lo, hi), m = 2^fractionBits
    public override float Quantize(float x) => QuantMath.Clip(Rounded(x), _lo, _hi);

    private float Rounded(float x) => QuantMath.Round(Activation(x) * _m) / _m;

    protected override bool HasIdentityGradient => false;

    protected override float SurrogateGradient(float x)
    {
        float r = Rounded(x);
        return QuantMath.HardSigmoidPasses(x) && r >= _lo && r <= _hi ? _gradient : 0f;
    }

    protected override IEnumerable<double>? EnumerateValues()
    {
        if (Bits > 16) return null;
        int highest = (int)_m - 1;
        return Enumerable.Range(_lowestCode, highest - _lowestCode + 1).Select(k => (double)(k / _m));
    }
}

/// <summary>A plain fixed-point quantizer, `fixed(width, integer, signed=True, rounding=RND, overflow=SAT)`
/// or `ap_fixed&lt;W,I,Q,O&gt;`: exactly <see cref="FixedPoint.ToRaw"/>. The gradient is the identity.</summary>
public sealed class FixedQuantizer : Quantizer
{
    public FixedQuantizer(FixedFormat format) => Format = format;

    public FixedQuantizer(FixedType type, Rounding rounding = Rounding.RND, Overflow overflow = Overflow.SAT)
        : this(new FixedFormat(type, rounding, overflow)) { }

    public FixedFormat Format { get; }
    public override int Bits => Format.Type.Width;
    public override string Spec => Format.ToString();
    public override FixedType? HardwareType => Format.Type;
    public override string? NoHardwareTypeReason => null;

    /// <summary>The nearest code's value; NaN for NaN, and for ±∞ under WRAP (no code is meaningful).</summary>
    public override float Quantize(float x)
    {
        if (float.IsNaN(x) || (float.IsInfinity(x) && Format.Overflow == Overflow.WRAP)) return float.NaN;
        return (float)FixedPoint.FromRaw(FixedPoint.ToRaw(x, Format.Type, Format.Rounding, Format.Overflow), Format.Type);
    }

    protected override IEnumerable<double>? EnumerateValues()
    {
        if (Format.Type.Width > 16) return null;
        var codes = QuantizedBits.Codes(Format).Select(raw => FixedPoint.FromRaw(raw, Format.Type));
        // SAT_ZERO maps overflow to 0, which is a code anyway; every in-range code is reachable.
        return codes.Select(v => (double)(float)v);
    }
}
