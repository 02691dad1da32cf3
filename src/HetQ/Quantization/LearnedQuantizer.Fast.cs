using System.Runtime.Intrinsics;

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
