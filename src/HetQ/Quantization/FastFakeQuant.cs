using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HetQ.Quantization;

/// <summary>A vectorised fake quantizer for the quantizers that are a plain fixed-point grid with round half to
/// even and saturation (quantized_bits with a power-of-two or no alpha, plain quantized_relu, ap_fixed RND_CONV/SAT):
/// y = alpha · clamp(round(x · 2^F), lo, hi) · 2^−F. Training calls it on every weight and activation of every
/// batch, so it must be fast; tests pin it to the quantizer's own scalar path bit for bit.</summary>
public sealed class FastFakeQuant
{
    private readonly float _scale, _inv, _lo, _hi, _alpha, _clip;
    private readonly bool _reluGradient;

    private FastFakeQuant(int frac, long lo, long hi, float alpha, bool reluGradient)
    {
        _scale = MathF.ScaleB(1f, frac);
        _inv = MathF.ScaleB(1f, -frac);
        _lo = lo;
        _hi = hi;
        _alpha = alpha;
        _reluGradient = reluGradient;
        _clip = hi * _inv * alpha;
    }

    /// <summary>The fast path for <paramref name="q"/>, or null when it has none (then use the quantizer itself).</summary>
    public static FastFakeQuant? TryCreate(IQuantizer q)
    {
        switch (q)
        {
            case QuantizedBits b when !b.IsAutoScaled && b.Grid is FixedFormat g && b.Alpha.Po2Exponent is not null
                                      && g.Rounding == Rounding.RND_CONV && g.Type.Width <= 24:
                return new FastFakeQuant(g.Type.FractionalBits, FixedPoint.MinRaw(g.Type, g.Overflow), g.Type.MaxRaw, b.Alpha.Constant, false);
            case QuantizedRelu r when r.IsPlain && r.IsQuantizedClip && r.HardwareType is FixedType t && t.Width <= 24:
                return new FastFakeQuant(t.FractionalBits, 0, t.MaxRaw, 1f, true);
            case FixedQuantizer f when f.Format.Rounding == Rounding.RND_CONV && f.Format.Overflow is Overflow.SAT or Overflow.SAT_SYM
                                       && f.Format.Type.Width <= 24:
                return new FastFakeQuant(f.Format.Type.FractionalBits, FixedPoint.MinRaw(f.Format.Type, f.Format.Overflow), f.Format.Type.MaxRaw, 1f, false);
            default:
                return null;
        }
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => Forward(Numerics.Gemm.Width, x, y);

    /// <summary><see cref="Forward(ReadOnlySpan{float}, Span{float})"/> with the given vector width: every width gives the
    /// same bits (a power-of-two scale, round half to even, clamp and a power-of-two scale are exact per element).</summary>
    internal void Forward(Numerics.SimdWidth width, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("output shorter than input", nameof(y));
        int i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        if (width == Numerics.SimdWidth.Avx512 && Vector512.IsHardwareAccelerated)
        {
            var scale = Vector512.Create(_scale);
            var inv = Vector512.Create(_inv * _alpha);
            var lo = Vector512.Create(_lo);
            var hi = Vector512.Create(_hi);
            for (; i + 16 <= x.Length; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i) * scale;
                v = Vector512.Min(Vector512.Max(Vector512.Round(v), lo), hi);
                (v * inv).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        if (width != Numerics.SimdWidth.Scalar && Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(_scale);
            var inv = Vector256.Create(_inv * _alpha);
            var lo = Vector256.Create(_lo);
            var hi = Vector256.Create(_hi);
            for (; i + 8 <= x.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i) * scale;
                v = Vector256.Min(Vector256.Max(Vector256.Round(v), lo), hi);
                (v * inv).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = Scalar(x[i]);
    }

    private float Scalar(float x)
    {
        if (float.IsNaN(x)) return float.NaN;
        float v = MathF.Round(x * _scale, MidpointRounding.ToEven);
        return Math.Min(Math.Max(v, _lo), _hi) * (_inv * _alpha);
    }

    /// <summary>The straight-through estimator: identity, or for relu quantizers 1 on (0, clip] and 0 elsewhere.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn) =>
        Backward(Numerics.Gemm.Width, x, gradOut, gradIn);

    internal void Backward(Numerics.SimdWidth width, ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        if (!_reluGradient)
        {
            if (!gradOut.Overlaps(gradIn)) gradOut.CopyTo(gradIn);
            return;
        }
        int i = 0;
        if (width == Numerics.SimdWidth.Avx512 && Vector512.IsHardwareAccelerated)
        {
            var clip = Vector512.Create(_clip);
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float gr = ref MemoryMarshal.GetReference(gradOut);
            ref float ir = ref MemoryMarshal.GetReference(gradIn);
            for (; i + 16 <= x.Length; i += 16)
            {
                var xv = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var mask = Vector512.GreaterThan(xv, Vector512<float>.Zero) & Vector512.LessThanOrEqual(xv, clip);
                (Vector512.LoadUnsafe(ref gr, (nuint)i) & mask).StoreUnsafe(ref ir, (nuint)i);
            }
        }
        if (width != Numerics.SimdWidth.Scalar && Vector256.IsHardwareAccelerated)
        {
            var clip = Vector256.Create(_clip);
            for (; i + 8 <= x.Length; i += 8)
            {
                var xv = Vector256.Create(x.Slice(i, 8));
                var mask = Vector256.GreaterThan(xv, Vector256<float>.Zero) & Vector256.LessThanOrEqual(xv, clip);
                (Vector256.Create(gradOut.Slice(i, 8)) & mask).CopyTo(gradIn.Slice(i, 8));
            }
        }
        for (; i < x.Length; i++) gradIn[i] = x[i] > 0 && x[i] <= _clip ? gradOut[i] : 0f;
    }
}
