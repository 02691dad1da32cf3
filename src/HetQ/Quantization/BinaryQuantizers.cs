namespace HetQ.Quantization;

/// <summary>QKeras `binary(use_01=False, alpha=None)`: sign(x) with sign(0) = +1, i.e. {-1, +1}
/// ({0, 1} with use_01), times alpha (a constant, or the per-channel least-squares scale for "auto").</summary>
/// <remarks>With alpha None QKeras differentiates tanh(x) (`x = K.tanh(x)` before the straight-through
/// trick), so the gradient is 1 - tanh²(x); otherwise it is the identity.</remarks>
public sealed class Binary : Quantizer, IScaledQuantizer
{
    public Binary(bool use01 = false, Alpha alpha = default)
    {
        Use01 = use01;
        Alpha = alpha;
    }

    public bool Use01 { get; }
    public Alpha Alpha { get; }
    public bool IsAutoScaled => Alpha.IsAuto;
    public override int Bits => 1;

    public override string Spec
    {
        get
        {
            var args = new List<string>();
            if (Use01) args.Add("use_01=1");
            if (Alpha.Kind != AlphaKind.None) args.Add("alpha=" + Alpha);
            return SpecText.Call("binary", args);
        }
    }

    public override FixedType? HardwareType => Alpha.Po2Exponent is null ? null : ContainingType(Values);
    public override string? NoHardwareTypeReason => HardwareType is null ? Alpha.NoGridReason ?? "the type is too wide" : null;

    // k = sign(x); k += 1 - |k|; use_01: k = (k + 1)/2; result = scale·k.
    internal float Level(float x)
    {
        float k = QuantMath.SignNonZero(x);
        return Use01 ? (k + 1f) / 2f : k;
    }

    public override float Quantize(float x)
    {
        if (!IsAutoScaled) return Alpha.Constant * Level(x);
        Span<float> y = stackalloc float[1];
        Forward([x], y, 1);
        return y[0];
    }

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, int channels) =>
        Forward(x, y, channels, new float[channels]);

    public void ComputeScale(ReadOnlySpan<float> x, int channels, Span<float> scale) =>
        Forward(x, new float[x.Length], channels, scale);

    // self.scale = _get_least_squares_scale(alpha, x, k_sign): mean(x·k)/(mean(k·k) + eps) per channel.
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scale)
    {
        CheckShapes(x, y, channels);
        ScaledLevels.Apply(x, y, channels, scale, Alpha, Level);
    }

    protected override bool HasIdentityGradient => Alpha.Kind != AlphaKind.None;

    protected override float SurrogateGradient(float x)
    {
        float t = MathF.Tanh(x);
        return 1f - t * t;
    }

    protected override IEnumerable<double>? EnumerateValues()
    {
        if (IsAutoScaled) return null;
        float a = Alpha.Constant;
        return [a * Level(-1f), a * Level(1f)];
    }
}

/// <summary>QKeras `stochastic_binary(alpha=None, temperature=6.0, use_real_sigmoid=True)`: in training,
/// +1 with probability sigmoid(temperature·x/std) and -1 otherwise; at inference it is <see cref="Binary"/>.</summary>
/// <remarks>Training returns `x + stop_gradient(-x + scale·q)`, so the gradient is the identity. std is the
/// per-channel standard deviation (+ε) for alpha "auto"/"auto_po2" and 1 otherwise.</remarks>
public sealed class StochasticBinary : StochasticScaledQuantizer<Binary>
{
    public StochasticBinary(Alpha alpha = default, double temperature = 6.0, bool useRealSigmoid = true)
        : base(new Binary(false, alpha))
    {
        Alpha = alpha;
        Temperature = temperature;
        UseRealSigmoid = useRealSigmoid;
    }

    public Alpha Alpha { get; }
    public double Temperature { get; }
    public bool UseRealSigmoid { get; }
    public override int Bits => 1;

    public override string Spec
    {
        get
        {
            var args = new List<string>();
            if (Alpha.Kind != AlphaKind.None) args.Add("alpha=" + Alpha);
            if (Temperature != 6.0) args.Add("temperature=" + SpecText.Number(Temperature));
            if (!UseRealSigmoid) args.Add("use_real_sigmoid=0");
            return SpecText.Call("stochastic_binary", args);
        }
    }

    // quantizers.py, stochastic_binary.__call__ (training):
    //   std = K.std(x per channel) + eps for "auto*", else 1; p = sigmoid(temperature·x/std)
    //   q = sign(p - r), r ~ U[0,1), q += 1 - |q|; scale = least squares of (x, sign(x) with 0 → +1)
    public override void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int channels, Random random)
    {
        CheckShapes(x, y, channels);
        ArgumentNullException.ThrowIfNull(random);
        float[] std = new float[channels];
        if (IsAutoScaled)
        {
            QuantMath.StandardDeviation(x, channels, std);
            for (int c = 0; c < channels; c++) std[c] += QuantMath.Epsilon;
        }
        else
        {
            std.AsSpan().Fill(1f);
        }
        float[] scale = new float[channels];
        ScaledLevels.Apply(x, new float[x.Length], channels, scale, Alpha, QuantMath.SignNonZero);
        float temperature = (float)Temperature;
        for (int i = 0; i < x.Length; i++)
        {
            float z = temperature * x[i] / std[i % channels];
            float p = UseRealSigmoid ? QuantMath.Sigmoid(z) : QuantMath.HardSigmoid(z);
            float q = QuantMath.SignNonZero(p - random.NextSingle());
            y[i] = scale[i % channels] * q;
        }
    }
}

/// <summary>result = scale·level(x), where the scale per channel is alpha's constant or, for "auto",
/// the least-squares fit of x by the levels (rounded to a power of two for "auto_po2").</summary>
internal static class ScaledLevels
{
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scale, Alpha alpha, Func<float, float> level)
    {
        if (scale.Length != channels)
            throw new ArgumentException($"scale length {scale.Length} differs from {channels} channels", nameof(scale));
        for (int i = 0; i < x.Length; i++) y[i] = level(x[i]);
        if (alpha.IsAuto) QuantMath.LeastSquaresScale(x, y, channels, alpha.Kind == AlphaKind.AutoPo2, scale);
        else scale.Fill(alpha.Constant);
        for (int i = 0; i < x.Length; i++) y[i] = scale[i % channels] * y[i];
    }
}
