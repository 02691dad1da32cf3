namespace HetQ.Quantization;

/// <summary>QKeras `ternary(alpha=None, threshold=None, number_of_unrolls=5)`: {-1, 0, +1}·scale, zero
/// where |x| &lt; threshold (0.33 by default); with alpha "auto"/"auto_po2" the threshold and the
/// per-channel scale are fitted together (threshold must then be None).</summary>
/// <remarks>With alpha None QKeras differentiates tanh(x), so the gradient is 1 - tanh²(x); otherwise
/// it is the identity.</remarks>
public sealed class Ternary : Quantizer, IScaledQuantizer
{
    /// <summary>QKeras's default_threshold.</summary>
    public const double DefaultThreshold = 0.33;

    public Ternary(Alpha alpha = default, double? threshold = null, int numberOfUnrolls = 5)
    {
        // assert self.threshold is None (alpha is a string)
        if (alpha.IsAuto && threshold is not null)
            throw new ArgumentException("threshold must be None when alpha is 'auto' or 'auto_po2' (it is fitted)", nameof(threshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(numberOfUnrolls, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numberOfUnrolls, 100);
        Alpha = alpha;
        Threshold = threshold;
        NumberOfUnrolls = numberOfUnrolls;
    }

    public Alpha Alpha { get; }
    public double? Threshold { get; }
    public int NumberOfUnrolls { get; }
    public bool IsAutoScaled => Alpha.IsAuto;
    public override int Bits => 2;

    public override string Spec => SpecOf("ternary", []);

    internal string SpecOf(string name, IEnumerable<string> extra)
    {
        var args = new List<string>();
        if (Alpha.Kind != AlphaKind.None) args.Add("alpha=" + Alpha);
        if (Threshold is double t) args.Add("threshold=" + SpecText.Number(t));
        args.AddRange(extra);
        if (NumberOfUnrolls != 5) args.Add("number_of_unrolls=" + NumberOfUnrolls);
        return SpecText.Call(name, args);
    }

    public override FixedType? HardwareType => Alpha.Po2Exponent is null ? null : ContainingType(Values);
    public override string? NoHardwareTypeReason => HardwareType is null ? Alpha.NoGridReason ?? "the type is too wide" : null;

    // q = cast(|x| >= threshold)·sign(x); result = scale·q (threshold as float32).
    public override float Quantize(float x)
    {
        if (!IsAutoScaled)
        {
            float threshold = (float)(Threshold ?? DefaultThreshold);
            return Alpha.Constant * ((MathF.Abs(x) >= threshold ? 1f : 0f) * QuantMath.Sign(x));
        }
        Span<float> y = stackalloc float[1];
        Forward([x], y, 1);
        return y[0];
    }

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, int channels) =>
        Forward(x, y, channels, new float[channels]);

    public void ComputeScale(ReadOnlySpan<float> x, int channels, Span<float> scale) =>
        Forward(x, new float[x.Length], channels, scale);

    public void Forward(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scale)
    {
        CheckShapes(x, y, channels);
        if (scale.Length != channels)
            throw new ArgumentException($"scale length {scale.Length} differs from {channels} channels", nameof(scale));
        if (!IsAutoScaled)
        {
            for (int i = 0; i < x.Length; i++) y[i] = Quantize(x[i]);
            scale.Fill(Alpha.Constant);
            return;
        }
        float[] q = new float[x.Length];
        FitAuto(x, channels, q, scale);
        for (int i = 0; i < x.Length; i++) y[i] = scale[i % channels] * q[i];
    }

    // quantizers.py, ternary.__call__, alpha is a string (https://arxiv.org/abs/1605.04711):
    //   m = max|x| per channel; scale = 2·m/3; auto_po2: scale = 2^round(log2(scale + eps))
    //   number_of_unrolls times: thres = scale/2; v = scale·round(x/scale); q = cast(|v| >= thres)·sign(x);
    //                            scale = least-squares scale of (x, q)
    //   result = scale·q (q from the last round, scale after it)
    internal void FitAuto(ReadOnlySpan<float> x, int channels, Span<float> q, Span<float> scale)
    {
        bool po2 = Alpha.Kind == AlphaKind.AutoPo2;
        QuantMath.MaxAbs(x, channels, scale);
        for (int c = 0; c < channels; c++)
        {
            scale[c] = 2f * scale[c] / 3f;
            if (po2) scale[c] = QuantMath.RoundScaleToPo2(scale[c]);
        }
        for (int round = 0; round < NumberOfUnrolls; round++)
        {
            for (int i = 0; i < x.Length; i++)
            {
                float s = scale[i % channels];
                float v = s * QuantMath.Round(x[i] / s);
                q[i] = (MathF.Abs(v) >= s / 2f ? 1f : 0f) * QuantMath.Sign(x[i]);
            }
            QuantMath.LeastSquaresScale(x, q, channels, po2, scale);
        }
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
        return [-a, 0.0, a];
    }
}

/// <summary>QKeras `stochastic_ternary(alpha=None, threshold=None, temperature=8.0, use_real_sigmoid=True,
/// number_of_unrolls=5)`: random {-1, 0, +1}·scale in training, <see cref="Ternary"/> at inference.</summary>
/// <remarks>QKeras asserts alpha "auto"/"auto_po2" in training; for alpha None or a number we run the same
/// code with the scale QKeras's least-squares helper returns for them (1 or alpha). The training
/// threshold is scale/2 in units of x (the threshold argument only affects inference). The gradient
/// in training is the identity.</remarks>
public sealed class StochasticTernary : StochasticScaledQuantizer<Ternary>
{
    public StochasticTernary(Alpha alpha = default, double? threshold = null, double temperature = 8.0,
        bool useRealSigmoid = true, int numberOfUnrolls = 5)
        : base(new Ternary(alpha, threshold != 1.0 ? threshold // assert threshold != 1.0
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must not be 1.0"), numberOfUnrolls))
    {
        Temperature = temperature;
        UseRealSigmoid = useRealSigmoid;
    }

    public Alpha Alpha => Inference.Alpha;
    public double? Threshold => Inference.Threshold;
    public int NumberOfUnrolls => Inference.NumberOfUnrolls;
    public double Temperature { get; }
    public bool UseRealSigmoid { get; }
    public override int Bits => 2;

    public override string Spec
    {
        get
        {
            var extra = new List<string>();
            if (Temperature != 8.0) extra.Add("temperature=" + SpecText.Number(Temperature));
            if (!UseRealSigmoid) extra.Add("use_real_sigmoid=0");
            return Inference.SpecOf("stochastic_ternary", extra);
        }
    }

    // quantizers.py, stochastic_ternary.__call__ (training), per channel:
    //   std = K.std(x); m = max|x|; scale = 2m/3 (po2-rounded for auto_po2)
    //   number_of_unrolls times: T = scale/2; q_ns = cast(|x| >= T)·sign(x); scale = least squares of (x, q_ns)
    //   x_norm = x/(std + eps); T = scale/(2·(std + eps))
    //   p0 = sigmoid(temperature·(x_norm - T)), p1 = sigmoid(temperature·(x_norm + T))
    //   q0 = sign(p0 - r0), q1 = sign(p1 - r1) (0 → +1), r ~ U[0,1); result = scale·(q0 + q1)/2
    public override void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int channels, Random random)
    {
        CheckShapes(x, y, channels);
        ArgumentNullException.ThrowIfNull(random);
        bool po2 = Alpha.Kind == AlphaKind.AutoPo2;
        float[] std = new float[channels], scale = new float[channels], q = new float[x.Length];
        QuantMath.StandardDeviation(x, channels, std);
        QuantMath.MaxAbs(x, channels, scale);
        for (int c = 0; c < channels; c++)
        {
            scale[c] = 2f * scale[c] / 3f;
            if (po2) scale[c] = QuantMath.RoundScaleToPo2(scale[c]);
        }
        for (int round = 0; round < NumberOfUnrolls; round++)
        {
            for (int i = 0; i < x.Length; i++)
                q[i] = (MathF.Abs(x[i]) >= scale[i % channels] / 2f ? 1f : 0f) * QuantMath.Sign(x[i]);
            if (IsAutoScaled) QuantMath.LeastSquaresScale(x, q, channels, po2, scale);
            else scale.AsSpan().Fill(Alpha.Constant);
        }
        float temperature = (float)Temperature;
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            float sd = std[c] + QuantMath.Epsilon;
            float xNorm = x[i] / sd;
            float t = scale[c] / (2f * sd);
            float p0 = Probability(temperature * (xNorm - t)), p1 = Probability(temperature * (xNorm + t));
            float q0 = QuantMath.SignNonZero(p0 - random.NextSingle());
            float q1 = QuantMath.SignNonZero(p1 - random.NextSingle());
            y[i] = scale[c] * ((q0 + q1) / 2f);
        }
    }

    private float Probability(float z) => UseRealSigmoid ? QuantMath.Sigmoid(z) : QuantMath.HardSigmoid(z);
}
