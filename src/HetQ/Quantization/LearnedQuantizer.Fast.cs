using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetQ.Quantization;

/// <summary>The vectorised path of per-weight kernel widths (forward and HGQ's surrogate backward).</summary>
public sealed partial class LearnedQuantizer
{
    private float[] _scaleF = [], _invF = [], _liveF = [];
    private bool _fastFresh;

    // Per-weight widths, vectorised: F = clamp(round(b)) as a float exponent, y = round-half-even(x·2^F)·2^-F (exact in
    // float: scaling by a power of two is exact and Round is; ties go to even, which only chooses the codes).
    private void WeightsFast(ReadOnlySpan<float> x, Span<float> y)
    {
        if (_scaleF.Length != _size)
        {
            _scaleF = new float[_size];
            _invF = new float[_size];
            _liveF = new float[_size];
        }
        var bits = FracBits!.Value;
        var vmin = Vector256.Create((float)MinBits);
        var vmax = Vector256.Create((float)MaxBits);
        var bias = Vector256.Create(127);
        var one = Vector256.Create(1f);
        int i = 0;
        for (; i + 8 <= _size; i += 8)
        {
            var b = Vector256.Create(bits.AsSpan(i, 8));
            var f = Vector256.Min(Vector256.Max(Vector256.Round(b), vmin), vmax);
            var fi = Vector256.ConvertToInt32(f);
            var scale = Vector256.ShiftLeft(fi + bias, 23).AsSingle();
            var inv = Vector256.ShiftLeft(bias - fi, 23).AsSingle();
            var live = Vector256.GreaterThanOrEqual(b, vmin) & Vector256.LessThanOrEqual(b, vmax);
            scale.CopyTo(_scaleF.AsSpan(i, 8));
            inv.CopyTo(_invF.AsSpan(i, 8));
            (live & one).CopyTo(_liveF.AsSpan(i, 8));
            var xv = Vector256.Create(x.Slice(i, 8));
            (Vector256.Round(xv * scale) * inv).CopyTo(y.Slice(i, 8));
        }
        for (; i < _size; i++)
        {
            float b = bits[i];
            int f = Math.Clamp((int)MathF.Round(b), MinBits, MaxBits);
            _scaleF[i] = MathF.ScaleB(1f, f);
            _invF[i] = MathF.ScaleB(1f, -f);
            _liveF[i] = b >= MinBits && b <= MaxBits ? 1 : 0;
            y[i] = MathF.Round(x[i] * _scaleF[i]) * _invF[i];
        }
        if (_scale.Length != _size) _scale = new double[_size];
        for (int e = 0; e < _size; e++) _scale[e] = _scaleF[e];
        _fastFresh = true;
    }

    private double[] _liveD = [];

    /// <summary>Whether the activation paths below apply: RND and SAT, AVX, whole samples.</summary>
    private bool ActivationsVectorised(int length) =>
        Avx.IsSupported && Rounding == Rounding.RND && Overflow == Overflow.SAT && _size >= 4 && length % _size == 0;

    // Activations (RND, SAT), four elements at a time in double, as the scalar loop computes them: code =
    // clamp(floor(x·2^F + 0.5), lo, hi), y = (float)(code·2^-F).
    private void ActivationsFast(ReadOnlySpan<float> x, Span<float> y)
    {
        double[] scale = _scale, inv = _inv, lo = _lo, hi = _hi;
        var half = Vector256.Create(0.5);
        for (int r = 0; r < x.Length; r += _size)
        {
            int e = 0;
            for (; e + 4 <= _size; e += 4)
            {
                var xv = Avx.ConvertToVector256Double(Vector128.Create(x.Slice(r + e, 4)));
                var v = Vector256.Floor(xv * Vector256.Create(scale.AsSpan(e, 4)) + half);
                v = Vector256.Min(Vector256.Max(v, Vector256.Create(lo.AsSpan(e, 4))), Vector256.Create(hi.AsSpan(e, 4)));
                Avx.ConvertToVector128Single(v * Vector256.Create(inv.AsSpan(e, 4))).CopyTo(y.Slice(r + e, 4));
            }
            for (; e < _size; e++)
            {
                double v = Math.Floor(x[r + e] * scale[e] + 0.5);
                v = v < lo[e] ? lo[e] : v > hi[e] ? hi[e] : v;
                y[r + e] = (float)(v * inv[e]);
            }
        }
    }

    // HGQ's surrogate for element-wise activation bits, four at a time: dx = dy inside the range (0 where saturated),
    // df[e] += (float)(−ln2·(xq − x)·dy) where F is inside its clamp.
    private void ActivationsFastBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn, float[] df, bool train)
    {
        double[] scale = _scale, inv = _inv, lo = _lo, hi = _hi;
        if (_liveD.Length != _size) _liveD = new double[_size];
        for (int e = 0; e < _size; e++) _liveD[e] = _live[e] ? 1 : 0;
        var half = Vector256.Create(0.5);
        var k = Vector256.Create(-0.6931471805599453);
        for (int r = 0; r < x.Length; r += _size)
        {
            int e = 0;
            for (; e + 4 <= _size; e += 4)
            {
                var xv = Avx.ConvertToVector256Double(Vector128.Create(x.Slice(r + e, 4)));
                var dy = Avx.ConvertToVector256Double(Vector128.Create(gradOut.Slice(r + e, 4)));
                var v = Vector256.Floor(xv * Vector256.Create(scale.AsSpan(e, 4)) + half);
                var inside = ~(Vector256.LessThan(v, Vector256.Create(lo.AsSpan(e, 4))) | Vector256.GreaterThan(v, Vector256.Create(hi.AsSpan(e, 4))));
                Avx.ConvertToVector128Single(dy & inside).CopyTo(gradIn.Slice(r + e, 4));
                if (!train) continue;
                var t = k * (v * Vector256.Create(inv.AsSpan(e, 4)) - xv) * dy * Vector256.Create(_liveD.AsSpan(e, 4)) & inside;
                (Vector128.Create(df.AsSpan(e, 4)) + Avx.ConvertToVector128Single(t)).CopyTo(df.AsSpan(e, 4));
            }
            for (; e < _size; e++)
            {
                int i = r + e;
                double v = Math.Floor(x[i] * scale[e] + 0.5);
                if (v < lo[e] || v > hi[e])
                {
                    gradIn[i] = 0;
                    continue;
                }
                if (train && _live[e]) df[e] += (float)(-0.6931471805599453 * (v * inv[e] - x[i]) * gradOut[i]);
                gradIn[i] = gradOut[i];
            }
        }
    }

    // df += −ln2·(q(x) − x)·dy for per-weight bits, vectorised; weights never saturate, so dx = dy.
    private void WeightsFastBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        var df = FracBits!.Grad;
        var k = Vector256.Create(-0.6931471805599453f);
        int i = 0;
        for (; i + 8 <= _size; i += 8)
        {
            var xv = Vector256.Create(x.Slice(i, 8));
            var s = Vector256.Create(_scaleF.AsSpan(i, 8));
            var inv = Vector256.Create(_invF.AsSpan(i, 8));
            var live = Vector256.Create(_liveF.AsSpan(i, 8));
            var dy = Vector256.Create(gradOut.Slice(i, 8));
            var d = Vector256.Create(df.AsSpan(i, 8));
            (d + k * (Vector256.Round(xv * s) * inv - xv) * dy * live).CopyTo(df.AsSpan(i, 8));
            dy.CopyTo(gradIn.Slice(i, 8));
        }
        for (; i < _size; i++)
        {
            df[i] += -0.6931471805599453f * (MathF.Round(x[i] * _scaleF[i]) * _invF[i] - x[i]) * gradOut[i] * _liveF[i];
            gradIn[i] = gradOut[i];
        }
    }
}
