namespace HetQ.Quantization;

/// <summary>The float32 primitives QKeras's quantizers are written with (tf.sign, tf.round,
/// hard_sigmoid, power-of-two rounding) and the per-channel scale estimates of alpha="auto".</summary>
internal static class QuantMath
{
    /// <summary>K.epsilon(), as a float32 constant.</summary>
    public const float Epsilon = 1e-7f;

    /// <summary>tf.sign: -1, 0 or +1; NaN stays NaN.</summary>
    public static float Sign(float x) => x > 0 ? 1f : x < 0 ? -1f : x;

    /// <summary>tf.sign(x) with 0 mapped to +1 (`k += 1 - |k|`), as binary quantizers use it.</summary>
    public static float SignNonZero(float x)
    {
        float k = Sign(x);
        return k + (1f - MathF.Abs(k));
    }

    /// <summary>tf.round: to nearest, ties to even.</summary>
    public static float Round(float x) => MathF.Round(x, MidpointRounding.ToEven);

    /// <summary>K.clip / tf.clip_by_value (NaN passes through).</summary>
    public static float Clip(float x, float lo, float hi) => x < lo ? lo : x > hi ? hi : x;

    /// <summary>QKeras hard_sigmoid: clip(0.5·x + 0.5, 0, 1), each operation in float32.</summary>
    public static float HardSigmoid(float x) => Clip(0.5f * x + 0.5f, 0f, 1f);

    /// <summary>True when the gradient of hard_sigmoid passes at x (clip_by_value passes it on the closed range).</summary>
    public static bool HardSigmoidPasses(float x)
    {
        float t = 0.5f * x + 0.5f;
        return t >= 0f && t <= 1f;
    }

    /// <summary>The logistic sigmoid, float32.</summary>
    public static float Sigmoid(float x) => (float)(1.0 / (1.0 + Math.Exp(-(double)x)));

    /// <summary>round(log2(y)) computed exactly for y ≥ 0 (ties cannot occur: 2^(k+1/2) is irrational);
    /// int.MinValue for 0 and int.MaxValue for +∞. QKeras's float32 log may differ within an ulp of 2^(k+1/2).</summary>
    public static int RoundLog2(float y)
    {
        if (y <= 0 || float.IsNaN(y)) return int.MinValue;
        if (float.IsPositiveInfinity(y)) return int.MaxValue;
        double d = y;
        int e = Math.ILogB(d); // floor(log2 y), exact for normal and subnormal values
        return d * d >= Math.ScaleB(1.0, 2 * e + 1) ? e + 1 : e; // y ≥ 2^(e+1/2) ⇔ y² ≥ 2^(2e+1), exact in double
    }

    /// <summary>2^e in float32 (0 below the subnormals, ∞ above the range), as pow(2.0, e) in TF.</summary>
    public static float Pow2(int e) => e < -160 ? 0f : e > 130 ? float.PositiveInfinity : MathF.ScaleB(1f, e);

    /// <summary>2^round(log2(s + ε)): the auto_po2 rounding of a scale.</summary>
    public static float RoundScaleToPo2(float s) => Pow2(RoundLog2(s + Epsilon));

    /// <summary>QKeras `_get_least_squares_scale` per channel: mean(x·q) / (mean(q·q) + ε), then rounded
    /// to a power of two for auto_po2. Means are accumulated in double and rounded to float32 (QKeras
    /// reduces in float32 in an unspecified order, so a scale may differ in its last bit).</summary>
    public static void LeastSquaresScale(ReadOnlySpan<float> x, ReadOnlySpan<float> q, int channels, bool po2, Span<float> scale)
    {
        int rows = x.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            double xq = 0, qq = 0;
            for (int i = c; i < x.Length; i += channels)
            {
                xq += (double)x[i] * q[i];
                qq += (double)q[i] * q[i];
            }
            float meanXq = (float)(xq / rows), meanQq = (float)(qq / rows);
            float s = meanXq / (meanQq + Epsilon);
            scale[c] = po2 ? RoundScaleToPo2(s) : s;
        }
    }

    /// <summary>K.max(|x|) per channel.</summary>
    public static void MaxAbs(ReadOnlySpan<float> x, int channels, Span<float> result)
    {
        result[..channels].Clear();
        for (int i = 0; i < x.Length; i++)
        {
            float a = MathF.Abs(x[i]);
            int c = i % channels;
            if (a > result[c] || float.IsNaN(a)) result[c] = a;
        }
    }

    /// <summary>K.std (population standard deviation) per channel, accumulated in double.</summary>
    public static void StandardDeviation(ReadOnlySpan<float> x, int channels, Span<float> result)
    {
        int rows = x.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, sumSq = 0;
            for (int i = c; i < x.Length; i += channels) sum += x[i];
            double mean = sum / rows;
            for (int i = c; i < x.Length; i += channels) sumSq += (x[i] - mean) * (x[i] - mean);
            result[c] = (float)Math.Sqrt(sumSq / rows);
        }
    }
}
