using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetQ.Quantization;

/// <summary>The vectorised path of per-weight kernel widths (forward and HGQ's surrogate backward).</summary>
public sealed partial class LearnedQuantizer
{
    private bool _fastFresh;

    // Per-weight widths, vectorised: F = clamp(round(b)) as a float exponent, y = round-half-even(x·2^F)·2^-F (exact in
    // float: scaling by a power of two is exact and Round is; ties go to even, which only chooses the codes). The
    // backward pass recomputes 2^F from the bits (they do not change in between) rather than keeping three arrays of
    // the kernel's size. Inference keeps the scales for the kernel's common type.
    private void WeightsFast(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        var bits = FracBits!.Value;
        var steps = new WeightSteps(MinBits, MaxBits);
        if (!training && _scale.Length != _size) _scale = new double[_size];
        int i = 0;
        for (; i + 8 <= _size; i += 8)
        {
            var (scale, inv, _) = steps.At(Vector256.Create(bits.AsSpan(i, 8)));
            (Vector256.Round(Vector256.Create(x.Slice(i, 8)) * scale) * inv).CopyTo(y.Slice(i, 8));
            if (training) continue;
            var (lo, hi) = Vector256.Widen(scale);
            lo.CopyTo(_scale.AsSpan(i, 4));
            hi.CopyTo(_scale.AsSpan(i + 4, 4));
        }
        for (; i < _size; i++)
        {
            var (scale, inv, _) = WeightSteps.At(bits[i], MinBits, MaxBits);
            y[i] = MathF.Round(x[i] * scale) * inv;
            if (!training) _scale[i] = scale;
        }
        _fastFresh = true;
    }

    /// <summary>2^F, 2^-F and whether b is inside [min, max] (1 or 0: past the clamp F does not move), F = clamp(round(b)).</summary>
    private readonly struct WeightSteps(int min, int max)
    {
        private readonly Vector256<float> _min = Vector256.Create((float)min), _max = Vector256.Create((float)max);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public (Vector256<float> Scale, Vector256<float> Inv, Vector256<float> Live) At(Vector256<float> b)
        {
            var bias = Vector256.Create(127);
            var fi = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(b), _min), _max));
            var live = Vector256.GreaterThanOrEqual(b, _min) & Vector256.LessThanOrEqual(b, _max) & Vector256.Create(1f);
            return (Vector256.ShiftLeft(fi + bias, 23).AsSingle(), Vector256.ShiftLeft(bias - fi, 23).AsSingle(), live);
        }

        public static (float Scale, float Inv, float Live) At(float b, int min, int max)
        {
            int f = Math.Clamp((int)MathF.Round(b), min, max);
            return (MathF.ScaleB(1f, f), MathF.ScaleB(1f, -f), b >= min && b <= max ? 1 : 0);
        }
    }

    private double[] _liveD = [];

    /// <summary>Whether the activation paths below apply: RND and SAT, AVX, whole samples.</summary>
    private bool ActivationsVectorised(int length) =>
        Avx.IsSupported && Rounding == Rounding.RND && Overflow == Overflow.SAT && _size >= 4 && length % _size == 0;

    // Activations (RND, SAT), four elements at a time in double, as the scalar loop computes them: code =
    // clamp(floor(x·2^F + 0.5), lo, hi), y = (float)(code·2^-F).
    private void ActivationsFast(ReadOnlySpan<float> x, Span<float> y)
    {
        if (_floatExact && _size >= 8)
        {
            ActivationsFloat(x, y);
            return;
        }
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
        if (_liveD.Length != _size) _liveD = new double[_size];
        for (int e = 0; e < _size; e++) _liveD[e] = _live[e] ? 1 : 0;
        if (_floatExact && _size >= 8)
        {
            ActivationsFloatBackward(x, gradOut, gradIn, df, train);
            return;
        }
        for (int r = 0; r < x.Length; r += _size) BackwardRow(x, gradOut, gradIn, df, train, r, 0);
    }

    // Elements from e of the sample at r, four at a time in double, then one at a time; no dx where gradIn is empty.
    private void BackwardRow(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn, float[] df, bool train, int r, int e)
    {
        bool dx = !gradIn.IsEmpty;
        double[] scale = _scale, inv = _inv, lo = _lo, hi = _hi;
        var half = Vector256.Create(0.5);
        var k = Vector256.Create(-0.6931471805599453);
        for (; e + 4 <= _size; e += 4)
        {
            var xv = Avx.ConvertToVector256Double(Vector128.Create(x.Slice(r + e, 4)));
            var dy = Avx.ConvertToVector256Double(Vector128.Create(gradOut.Slice(r + e, 4)));
            var v = Vector256.Floor(xv * Vector256.Create(scale.AsSpan(e, 4)) + half);
            var inside = ~(Vector256.LessThan(v, Vector256.Create(lo.AsSpan(e, 4))) | Vector256.GreaterThan(v, Vector256.Create(hi.AsSpan(e, 4))));
            if (dx) Avx.ConvertToVector128Single(dy & inside).CopyTo(gradIn.Slice(r + e, 4));
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
                if (dx) gradIn[i] = 0;
                continue;
            }
            if (train && _live[e]) df[e] += (float)(-0.6931471805599453 * (v * inv[e] - x[i]) * gradOut[i]);
            if (dx) gradIn[i] = gradOut[i];
        }
    }

    // The same activations eight at a time in float, exactly: x·2^F is exact in float, and it is first clamped to
    // [lo − 1, hi + 1] (the rounding is monotone, so the clamped code is unchanged), within 2^22 where r = floor(t),
    // r + 0.5 and r + 1 are exact, so round half up is r + (t ≥ r + 0.5); the code times 2^-F is exact. Equal to the
    // double path's floor(x·2^F + 0.5) for every finite x (not used past 22-bit codes or |F| > 100).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Code(Vector256<float> t, Vector256<float> lo, Vector256<float> hi)
    {
        var one = Vector256.Create(1f);
        t = Vector256.Min(Vector256.Max(t, lo - one), hi + one);
        var r = Vector256.Floor(t);
        return r + (Vector256.GreaterThanOrEqual(t, r + Vector256.Create(0.5f)) & one);
    }

    private void ActivationsFloat(ReadOnlySpan<float> x, Span<float> y)
    {
        float[] scale = _scaleA, inv = _invA, lo = _loF, hi = _hiF;
        for (int r = 0; r < x.Length; r += _size)
        {
            int e = 0;
            for (; e + 8 <= _size; e += 8)
            {
                var xv = Vector256.Create(x.Slice(r + e, 8));
                // Zeros (±0) quantize to +0 whatever F and the range (lo ≤ 0 ≤ hi): zero pixels, dead units.
                if (Vector256.EqualsAll(xv, Vector256<float>.Zero))
                {
                    Vector256<float>.Zero.CopyTo(y.Slice(r + e, 8));
                    continue;
                }
                var l = Vector256.Create(lo.AsSpan(e, 8));
                var h = Vector256.Create(hi.AsSpan(e, 8));
                var v = Code(xv * Vector256.Create(scale.AsSpan(e, 8)), l, h);
                (Vector256.Min(Vector256.Max(v, l), h) * Vector256.Create(inv.AsSpan(e, 8))).CopyTo(y.Slice(r + e, 8));
            }
            for (; e < _size; e++)
            {
                // The remaining elements in double, as the double path computes them.
                double v = Math.Floor(x[r + e] * _scale[e] + 0.5);
                v = v < _lo[e] ? _lo[e] : v > _hi[e] ? _hi[e] : v;
                y[r + e] = (float)(v * _inv[e]);
            }
        }
    }

    // The backward pass in float where it is exact: the code as above, inside = lo ≤ code ≤ hi, dx = dy there; q(x) − x is
    // exact in float (Sterbenz: inside the range the code is 0 or within a factor 2 of x·2^F), and −ln2·(q(x) − x)·dy
    // is taken in double and rounded to float as the double path does.
    private void ActivationsFloatBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn, float[] df, bool train)
    {
        float[] scale = _scaleA, inv = _invA, lo = _loF, hi = _hiF;
        var k = Vector256.Create(-0.6931471805599453);
        bool dx = !gradIn.IsEmpty;
        for (int r = 0; r < x.Length; r += _size)
        {
            int e = 0;
            for (; e + 8 <= _size; e += 8)
            {
                var xv = Vector256.Create(x.Slice(r + e, 8));
                var dy = Vector256.Create(gradOut.Slice(r + e, 8));
                // Zeros are inside the range (dx = dy) with q(x) − x = 0: no bits' gradient (see below).
                if (Vector256.EqualsAll(xv, Vector256<float>.Zero) && Vector256.EqualsAll(dy - dy, Vector256<float>.Zero))
                {
                    if (dx) dy.CopyTo(gradIn.Slice(r + e, 8));
                    continue;
                }
                var l = Vector256.Create(lo.AsSpan(e, 8));
                var h = Vector256.Create(hi.AsSpan(e, 8));
                var v = Code(xv * Vector256.Create(scale.AsSpan(e, 8)), l, h);
                var inside = ~(Vector256.LessThan(v, l) | Vector256.GreaterThan(v, h));
                if (dx) (dy & inside).CopyTo(gradIn.Slice(r + e, 8));
                if (!train) continue;
                var diff = v * Vector256.Create(inv.AsSpan(e, 8)) - xv;
                // Where every q(x) − x is 0 (zero pixels, dead units) each term is ±0 for a finite dy, and adding ±0
                // changes no sum that started at +0 (a float sum from +0 is never −0), so the group is skipped.
                if (Vector256.EqualsAll(diff, Vector256<float>.Zero) && Vector256.EqualsAll(dy - dy, Vector256<float>.Zero)) continue;
                var (d0, d1) = Vector256.Widen(diff);
                var (y0, y1) = Vector256.Widen(dy);
                var t0 = k * d0 * y0 * Vector256.Create(_liveD.AsSpan(e, 4));
                var t1 = k * d1 * y1 * Vector256.Create(_liveD.AsSpan(e + 4, 4));
                var t = Vector256.Create(Avx.ConvertToVector128Single(t0), Avx.ConvertToVector128Single(t1)) & inside;
                (Vector256.Create(df.AsSpan(e, 8)) + t).CopyTo(df.AsSpan(e, 8));
            }
            BackwardRow(x, gradOut, gradIn, df, train, r, e);
        }
    }

    // df += −ln2·(q(x) − x)·dy for per-weight bits, vectorised; weights never saturate, so dx = dy.
    private void WeightsFastBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        var df = FracBits!.Grad;
        var bits = FracBits.Value;
        var steps = new WeightSteps(MinBits, MaxBits);
        var k = Vector256.Create(-0.6931471805599453f);
        // The parameter's gradient is turned in place (gradIn is gradOut): then there is nothing to copy.
        bool copy = !System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gradOut),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gradIn));
        int i = 0;
        for (; i + 8 <= _size; i += 8)
        {
            var (s, inv, live) = steps.At(Vector256.Create(bits.AsSpan(i, 8)));
            var xv = Vector256.Create(x.Slice(i, 8));
            var dy = Vector256.Create(gradOut.Slice(i, 8));
            var d = Vector256.Create(df.AsSpan(i, 8));
            (d + k * (Vector256.Round(xv * s) * inv - xv) * dy * live).CopyTo(df.AsSpan(i, 8));
            if (copy) dy.CopyTo(gradIn.Slice(i, 8));
        }
        for (; i < _size; i++)
        {
            var (s, inv, live) = WeightSteps.At(bits[i], MinBits, MaxBits);
            df[i] += -0.6931471805599453f * (MathF.Round(x[i] * s) * inv - x[i]) * gradOut[i] * live;
            gradIn[i] = gradOut[i];
        }
    }
}
